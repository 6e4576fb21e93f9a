package chive.core.data;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.sim.ChiveException;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shd's refusals, on HDF5 files written here with jHDF's writer (which
 * cannot write variable-length arrays; the full SHD layout is written with
 * h5py by chive.learn-test).
 */
class ShdTest {
  @TempDir Path dir;

  @Test
  void aFileWithoutTheSpikeGroupIsRefusedNamingThePath() throws IOException {
    Path f = dir.resolve("labels-only.h5");
    try (WritableHdfFile w = HdfFile.write(f)) {
      w.putDataset("labels", new int[] {1, 2, 3});
    }
    ChiveException e = assertThrows(ChiveException.class, () -> Shd.read(f));
    assertTrue(e.getMessage().contains("no dataset spikes/times") && e.getMessage().contains(f.toString()), e.getMessage());
  }

  @Test
  void notHdf5AndMissingFilesAreRefused() throws IOException {
    Path f = dir.resolve("junk.h5");
    Files.write(f, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
    ChiveException e = assertThrows(ChiveException.class, () -> Shd.read(f));
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    e = assertThrows(ChiveException.class, () -> Shd.read(dir.resolve("nope.h5")));
    assertTrue(e.getMessage().contains("no such file"), e.getMessage());
  }
}
