package chive.core.data;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.sim.ChiveException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IoFormatsTest {
  @TempDir Path dir;

  @Test
  void idxRoundTripsPlainAndGzip() throws IOException {
    byte[] px = new byte[3 * 4 * 5];
    for (int i = 0; i < px.length; i++) px[i] = (byte) (i * 7);
    for (String name : new String[] {"im-idx3-ubyte", "im-idx3-ubyte.gz"}) {
      Path f = dir.resolve(name);
      Idx.writeImages(f, new Idx.Images(3, 4, 5, px));
      Idx.Images r = Idx.readImages(f);
      assertEquals(3, r.count);
      assertEquals(4, r.rows);
      assertEquals(5, r.cols);
      assertArrayEquals(px, r.pixels);
      double[] img = new double[20];
      r.image(1, 0.5, img);
      assertEquals((px[20] & 0xFF) * 0.5, img[0]);
    }
    Path l = dir.resolve("lb-idx1-ubyte.gz");
    Idx.writeLabels(l, new byte[] {3, 1, 4});
    assertArrayEquals(new byte[] {3, 1, 4}, Idx.readLabels(l));
  }

  @Test
  void idxErrorsNameTheFileAndTheProblem() throws IOException {
    Path f = dir.resolve("im");
    Idx.writeImages(f, new Idx.Images(2, 2, 2, new byte[8]));
    try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) { r.setLength(r.length() - 3); }
    ChiveException e = assertThrows(ChiveException.class, () -> Idx.readImages(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    Path l = dir.resolve("lb");
    Idx.writeLabels(l, new byte[] {1, 2});
    e = assertThrows(ChiveException.class, () -> Idx.readImages(l));
    assertTrue(e.getMessage().contains("a labels file"), e.getMessage());
    Idx.writeLabels(l, new byte[] {1, 12});
    e = assertThrows(ChiveException.class, () -> Idx.readLabels(l));
    assertTrue(e.getMessage().contains("label 12 at position 1"), e.getMessage());
    Path gz = dir.resolve("bad.gz");
    Files.write(gz, new byte[] {1, 2, 3});
    e = assertThrows(ChiveException.class, () -> Idx.readImages(gz));
    assertTrue(e.getMessage().contains("gzip"), e.getMessage());
    e = assertThrows(ChiveException.class, () -> Idx.readImages(dir.resolve("none")));
    assertTrue(e.getMessage().contains("no such file"), e.getMessage());
  }

  @Test
  void npyRoundTripsAndRejectsTruncation() throws IOException {
    Path f = dir.resolve("a.npy");
    float[] a = {1.5f, -2f, 3.25f};
    Npy.write(f, a);
    assertArrayEquals(a, Npy.read(f).floats(f));
    Path d = dir.resolve("d.npy");
    Npy.write(d, new double[] {1e-300, 7});
    assertArrayEquals(new double[] {1e-300, 7}, Npy.read(d).doubles(d));
    Path i = dir.resolve("i.npy");
    Npy.write(i, new int[] {5, -6});
    assertArrayEquals(new int[] {5, -6}, Npy.read(i).ints(i));
    ChiveException e = assertThrows(ChiveException.class, () -> Npy.read(i).floats(i));
    assertTrue(e.getMessage().contains("<f4") && e.getMessage().contains("<i4"), e.getMessage());
    try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) { r.setLength(r.length() - 1); }
    e = assertThrows(ChiveException.class, () -> Npy.read(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    Files.write(f, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    e = assertThrows(ChiveException.class, () -> Npy.read(f));
    assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
  }
}
