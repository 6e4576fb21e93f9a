package chive.core.data;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.learn.Dataset;
import chive.core.sim.ChiveException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The N-MNIST / N-Caltech101 event format, on files this test writes byte by byte as the format describes. */
class NEventsTest {
  @TempDir Path dir;

  @Test
  void readsTheFortyBitLayout() throws IOException {
    // x 33, y 2, ON, t = 0x7ABCDE us; x 0, y 33, OFF, t = 5 us
    byte[] b = {33, 2, (byte) (0x80 | 0x7A), (byte) 0xBC, (byte) 0xDE, 0, 33, 0, 0, 5};
    Path f = dir.resolve("00001.bin");
    Files.write(f, b);
    NEvents e = NEvents.read(f);
    assertArrayEquals(new int[] {33, 0}, e.x);
    assertArrayEquals(new int[] {2, 33}, e.y);
    assertArrayEquals(new int[] {1, 0}, e.p);
    assertArrayEquals(new int[] {0x7ABCDE, 5}, e.t);
    Path g = dir.resolve("again.bin");
    e.write(g);
    assertArrayEquals(b, Files.readAllBytes(g), "write is the inverse of read");
    Files.write(f, new byte[] {1, 2, 3, 4, 5, 6, 7});
    ChiveException err = assertThrows(ChiveException.class, () -> NEvents.read(f));
    assertTrue(err.getMessage().contains("7 bytes") && err.getMessage().contains(f.toString()), err.getMessage());
    err = assertThrows(ChiveException.class, () -> new NEvents(new int[] {1}, new int[] {1}, new int[] {2}, new int[] {0}));
    assertTrue(err.getMessage().contains("polarity must be 0 or 1, got 2"), err.getMessage());
  }

  @Test
  void binsToBinarySpikes() {
    // sample 0: two events of one unit in one 1 ms bin (one spike), one OFF event, one past the last step
    NEvents a = new NEvents(new int[] {3, 3, 3, 1}, new int[] {2, 2, 2, 0}, new int[] {1, 1, 0, 1}, new int[] {100, 900, 1500, 10_000});
    NEvents b = new NEvents(new int[] {0}, new int[] {0}, new int[] {0}, new int[] {0});
    Dataset d = NEvents.bin(List.of(a, b), new int[] {1, 0}, 2, 4, 3, true, 1.0, 5, "test");
    assertEquals(2 * 4 * 3, d.units);
    assertEquals(5, d.steps);
    float[] x = d.events.dense(); // rows sample·steps + step, units
    int on32 = 12 + 2 * 4 + 3, off32 = 2 * 4 + 3;
    assertEquals(1f, x[0 * 24 + on32], "two ON events in step 0: one spike");
    assertEquals(1f, x[1 * 24 + off32], "the OFF event in step 1");
    float total = 0;
    for (int k = 0; k < 5 * 24; k++) total += x[k];
    assertEquals(2f, total, "the event at 10 ms (step 10 of 5) is dropped");
    assertEquals(1f, x[5 * 24 + 0], "sample 1: OFF at (0, 0), step 0");
    Dataset merged = NEvents.bin(List.of(a), new int[] {0}, 1, 4, 3, false, 1.0, 5, "one channel");
    assertEquals(12, merged.units);
    ChiveException err = assertThrows(ChiveException.class,
        () -> NEvents.bin(List.of(a), new int[] {0}, 1, 3, 3, true, 1.0, 5, "small"));
    assertTrue(err.getMessage().contains("sample 0, event 0: address (3, 2) is outside the 3 x 3 sensor"), err.getMessage());
  }

  @Test
  void shiftsDropWhatLeavesTheSensorAndJitterKeepsTimeOrder() {
    NEvents e = new NEvents(new int[] {0, 3, 1}, new int[] {0, 3, 2}, new int[] {1, 0, 1}, new int[] {10, 20, 8_388_600});
    NEvents s = e.shifted(1, -1, 4, 4);
    assertArrayEquals(new int[] {2}, s.x, "(0,0) -> (1,-1) and (3,3) -> (4,2) leave a 4 x 4 sensor; (1,2) -> (2,1)");
    assertArrayEquals(new int[] {1}, s.y);
    assertArrayEquals(new int[] {8_388_600}, s.t);
    NEvents j = e.jittered(1000, new java.util.SplittableRandom(1));
    for (int k = 1; k < j.size(); k++) assertTrue(j.t[k - 1] <= j.t[k], "time order");
    for (int v : j.t) assertTrue(v >= 0 && v < (1 << 23), "within the 23-bit range: " + v);
    assertEquals(3, j.size());
    assertArrayEquals(e.t, e.jittered(0, new java.util.SplittableRandom(1)).t, "no jitter, no change");
    NEvents again = e.jittered(1000, new java.util.SplittableRandom(1));
    assertArrayEquals(j.t, again.t, "reproducible from the generator's seed");
    ChiveException err = assertThrows(ChiveException.class, () -> e.jittered(-1, new java.util.SplittableRandom(1)));
    assertTrue(err.getMessage().contains("got -1.0"), err.getMessage());
  }
}
