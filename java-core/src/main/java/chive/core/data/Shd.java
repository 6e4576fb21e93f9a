package chive.core.data;

import chive.core.learn.Dataset;
import chive.core.sim.ChiveException;
import io.jhdf.HdfFile;
import io.jhdf.api.Node;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Heidelberg spiking data sets (SHD: spoken digits, 20 classes; SSC:
 * speech commands, 35 classes; Cramer et al. 2020) in their HDF5 layout:
 * {@code spikes/times} (per sample, a variable-length array of spike times in
 * seconds), {@code spikes/units} (per sample, the matching input channels,
 * 0..699) and {@code labels} (one class per sample); other groups (extra/...)
 * are ignored. Read with jHDF (pure Java, Maven Central).
 */
public final class Shd {
  /** Input channels of the SHD/SSC cochlea model. */
  public static final int CHANNELS = 700;
  public final float[][] times;
  public final int[][] units;
  public final int[] labels;

  private Shd(float[][] times, int[][] units, int[] labels) {
    this.times = times;
    this.units = units;
    this.labels = labels;
  }

  public int samples() { return labels.length; }

  /** Reads {@code file}; a missing or mistyped dataset, or lists of different lengths, are errors naming the file and the path. */
  public static Shd read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new ChiveException(file + ": no such file");
    Object t, u, l;
    try (HdfFile h = new HdfFile(file)) {
      t = data(h, file, "spikes/times");
      u = data(h, file, "spikes/units");
      l = data(h, file, "labels");
    } catch (ChiveException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new ChiveException(file + ": not a readable HDF5 file (" + e.getMessage() + ")");
    }
    Object[] ts = ragged(file, "spikes/times", t), us = ragged(file, "spikes/units", u);
    int[] labels = ints(file, "labels", l);
    if (ts.length != labels.length || us.length != labels.length) {
      throw new ChiveException(file + ": " + ts.length + " spike-time lists, " + us.length + " unit lists and " + labels.length
          + " labels: one of each per sample");
    }
    float[][] times = new float[ts.length][];
    int[][] units = new int[us.length][];
    for (int s = 0; s < ts.length; s++) {
      times[s] = floats(file, "spikes/times[" + s + "]", ts[s]);
      units[s] = ints(file, "spikes/units[" + s + "]", us[s]);
      if (times[s].length != units[s].length) {
        throw new ChiveException(file + ": sample " + s + " has " + times[s].length + " spike times but " + units[s].length + " units");
      }
      for (int k = 0; k < times[s].length; k++) {
        if (!(times[s][k] >= 0) || Float.isInfinite(times[s][k])) throw new ChiveException(file + ": sample " + s + ", spike " + k + ": time " + times[s][k] + " s is not a finite time >= 0");
      }
    }
    return new Shd(times, units, labels);
  }

  private static Object data(HdfFile h, Path file, String path) {
    Node n;
    try {
      n = h.getByPath(path);
    } catch (RuntimeException e) {
      throw new ChiveException(file + ": no dataset " + path + " (the SHD/SSC layout has spikes/times, spikes/units and labels)");
    }
    if (!(n instanceof io.jhdf.api.Dataset)) throw new ChiveException(file + ": " + path + " is not a dataset");
    io.jhdf.api.Dataset d = (io.jhdf.api.Dataset) n;
    if (d.getDimensions().length != 1) throw new ChiveException(file + ": " + path + " must be 1-d (one entry per sample), has shape " + java.util.Arrays.toString(d.getDimensions()));
    return d.getData();
  }

  /** Times as float: float16/float32 arrive as float[], float64 as double[] (rounded to float: 60 ns resolution at 1 s). */
  private static float[] floats(Path file, String what, Object o) {
    if (o instanceof float[]) return (float[]) o;
    if (o instanceof double[]) {
      double[] d = (double[]) o;
      float[] f = new float[d.length];
      for (int k = 0; k < d.length; k++) f[k] = (float) d[k];
      return f;
    }
    throw new ChiveException(file + ": " + what + " must be floating point, got " + o.getClass().getSimpleName());
  }

  /** Integers of any width: uint8/16 and int32 arrive from jHDF as int[], int8 as byte[], int16 as short[], (u)int64 as long[] (values must fit an int). */
  private static int[] ints(Path file, String what, Object o) {
    if (o instanceof int[]) return (int[]) o;
    if (o instanceof short[]) {
      short[] a = (short[]) o;
      int[] r = new int[a.length];
      for (int k = 0; k < a.length; k++) r[k] = a[k];
      return r;
    }
    if (o instanceof byte[]) {
      byte[] a = (byte[]) o;
      int[] r = new int[a.length];
      for (int k = 0; k < a.length; k++) r[k] = a[k];
      return r;
    }
    if (o instanceof long[]) {
      long[] a = (long[]) o;
      int[] r = new int[a.length];
      for (int k = 0; k < a.length; k++) {
        if (a[k] < Integer.MIN_VALUE || a[k] > Integer.MAX_VALUE) throw new ChiveException(file + ": " + what + "[" + k + "] = " + a[k] + " does not fit a 32-bit integer");
        r[k] = (int) a[k];
      }
      return r;
    }
    throw new ChiveException(file + ": " + what + " must be integers, got " + o.getClass().getSimpleName());
  }

  private static Object[] ragged(Path file, String path, Object o) {
    if (!(o instanceof Object[])) throw new ChiveException(file + ": " + path + " must hold one variable-length array per sample, got " + o.getClass().getSimpleName());
    return (Object[]) o;
  }

  /**
   * Binary spikes: channel u firing at t seconds is unit u in step
   * floor(t·1000 / dtMs); several spikes of one unit in one step make one;
   * spikes in steps &gt;= {@code steps} are dropped. A channel outside
   * 0..channels-1 is an error naming the sample and spike.
   */
  public Dataset bin(int channels, int classes, double dtMs, int steps, String description) {
    if (!(dtMs > 0) || Double.isInfinite(dtMs)) throw new ChiveException("SHD binning: dt must be a positive number of ms, got " + dtMs);
    if (channels <= 0 || steps <= 0) throw new ChiveException("SHD binning: channels and steps must be > 0, got " + channels + " and " + steps);
    int[][] step = new int[samples()][];
    for (int s = 0; s < samples(); s++) {
      step[s] = new int[units[s].length];
      for (int k = 0; k < units[s].length; k++) {
        if (units[s][k] < 0 || units[s][k] >= channels) {
          throw new ChiveException("SHD sample " + s + ", spike " + k + ": channel " + units[s][k] + " is outside 0.." + (channels - 1));
        }
        // at most steps (dropped by fromEvents), so that it fits an int whatever dt is
        step[s][k] = (int) Math.min(Math.floor(times[s][k] * 1000.0 / dtMs), steps);
      }
    }
    return Dataset.fromEvents(channels, steps, units, step, labels.clone(), classes, description, true);
  }
}
