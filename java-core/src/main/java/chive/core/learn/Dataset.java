package chive.core.learn;

import chive.core.kernel.SpikeRows;
import chive.core.sim.ChiveException;

/**
 * Labelled spike-train samples: N samples × steps time steps × units inputs,
 * stored as events (row s·steps + t lists the units spiking in step t of
 * sample s), with integer labels 0..classes-1.
 */
public final class Dataset {
  public final int samples, steps, units, classes;
  public final SpikeRows events;
  public final int[] labels;
  public final String description;

  public Dataset(SpikeRows events, int steps, int[] labels, int classes, String description) {
    if (steps <= 0) throw new ChiveException("a dataset needs steps > 0, got " + steps);
    if (events.rows != labels.length * steps) {
      throw new ChiveException("dataset: " + events.rows + " event rows for " + labels.length + " samples x " + steps + " steps");
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classes) throw new ChiveException("dataset: label " + labels[i] + " of sample " + i + " is outside 0.." + (classes - 1));
    }
    this.samples = labels.length; this.steps = steps; this.units = events.cols; this.classes = classes;
    this.events = events; this.labels = labels; this.description = description;
  }

  /** Samples [from, to) as a new dataset. */
  public Dataset range(int from, int to) {
    if (from < 0 || to > samples || from > to) throw new ChiveException("dataset range [" + from + ", " + to + ") is outside 0.." + samples);
    int[] idx = new int[to - from];
    for (int i = 0; i < idx.length; i++) idx[i] = from + i;
    return select(idx, description + " [" + from + ", " + to + ")");
  }

  /** The given samples, in that order. */
  public Dataset select(int[] idx, String description) {
    return new Dataset(rows(idx), steps, pick(labels, idx), classes, description);
  }

  /** The samples idx as one mini-batch input. */
  public Input batch(int[] idx) { return Input.spikes(rows(idx), idx.length, steps); }

  public int[] labelsOf(int[] idx) { return pick(labels, idx); }

  private static int[] pick(int[] a, int[] idx) {
    int[] out = new int[idx.length];
    for (int i = 0; i < idx.length; i++) out[i] = a[idx[i]];
    return out;
  }

  private SpikeRows rows(int[] idx) {
    int nnz = 0;
    for (int s : idx) {
      if (s < 0 || s >= samples) throw new ChiveException("sample " + s + " is outside 0.." + (samples - 1));
      nnz += events.rowPtr[(s + 1) * steps] - events.rowPtr[s * steps];
    }
    int[] ptr = new int[idx.length * steps + 1], out = new int[nnz];
    int e = 0, r = 0;
    for (int s : idx) {
      for (int t = 0; t < steps; t++) {
        int row = s * steps + t;
        for (int k = events.rowPtr[row]; k < events.rowPtr[row + 1]; k++) out[e++] = events.idx[k];
        ptr[++r] = e;
      }
    }
    return new SpikeRows(idx.length * steps, units, ptr, out);
  }

  /** Builds a dataset from per-sample spike lists: unit[s][k] fires in step step[s][k] (steps &gt;= 0; those &gt;= steps are dropped). */
  public static Dataset fromEvents(int units, int steps, int[][] unit, int[][] step, int[] labels, int classes, String description) {
    return fromEvents(units, steps, unit, step, labels, classes, description, false);
  }

  /**
   * As {@link #fromEvents(int, int, int[][], int[][], int[], int, String)};
   * with {@code merge}, several spikes of one unit in one step of a sample
   * make one (binary spikes, as binned event data needs).
   */
  public static Dataset fromEvents(int units, int steps, int[][] unit, int[][] step, int[] labels, int classes, String description,
                                   boolean merge) {
    int n = labels.length;
    if (unit.length != n || step.length != n) {
      throw new ChiveException("dataset: " + unit.length + " unit lists and " + step.length + " step lists for " + n + " labels");
    }
    // Per sample, (step, unit) packed in one long and sorted: rows in step order,
    // units ascending within a row, for reproducible sums; spikes at step >= steps
    // are dropped; with merge, repeats of one (step, unit) are kept once.
    long[][] keys = new long[n][];
    int[] count = new int[n * steps + 1];
    for (int s = 0; s < n; s++) {
      if (unit[s].length != step[s].length) throw new ChiveException("sample " + s + ": " + unit[s].length + " units but " + step[s].length + " steps");
      long[] key = new long[unit[s].length];
      int m = 0;
      for (int k = 0; k < key.length; k++) {
        int t = step[s][k];
        if (t < 0) throw new ChiveException("sample " + s + ": spike step " + t + " is negative");
        if (unit[s][k] < 0 || unit[s][k] >= units) throw new ChiveException("sample " + s + ": unit " + unit[s][k] + " is outside 0.." + (units - 1));
        if (t < steps) key[m++] = ((long) t << 32) | unit[s][k];
      }
      java.util.Arrays.sort(key, 0, m);
      int q = m;
      if (merge) {
        q = 0;
        for (int k = 0; k < m; k++) if (q == 0 || key[k] != key[q - 1]) key[q++] = key[k];
      }
      keys[s] = java.util.Arrays.copyOf(key, q);
      for (long kk : keys[s]) count[s * steps + (int) (kk >>> 32) + 1]++;
    }
    for (int r = 0; r < n * steps; r++) count[r + 1] += count[r];
    int[] idx = new int[count[n * steps]];
    int e = 0;
    for (long[] key : keys) for (long kk : key) idx[e++] = (int) kk;
    return new Dataset(new SpikeRows(n * steps, units, count, idx), steps, labels, classes, description);
  }

  /** Element {@code i} of a primitive array of any type, as a double (boolean: 1 or 0). */
  private static double at(Object a, int i) {
    if (a instanceof float[]) return ((float[]) a)[i];
    if (a instanceof double[]) return ((double[]) a)[i];
    if (a instanceof boolean[]) return ((boolean[]) a)[i] ? 1 : 0;
    if (a instanceof byte[]) return ((byte[]) a)[i];
    if (a instanceof short[]) return ((short[]) a)[i];
    if (a instanceof int[]) return ((int[]) a)[i];
    if (a instanceof long[]) return ((long[]) a)[i];
    throw new ChiveException("expected a primitive array, got " + (a == null ? "null" : a.getClass().getSimpleName()));
  }

  private static int length(Object a) {
    if (a == null || !a.getClass().isArray() || !a.getClass().getComponentType().isPrimitive()) {
      throw new ChiveException("expected a primitive array, got " + (a == null ? "null" : a.getClass().getSimpleName()));
    }
    return java.lang.reflect.Array.getLength(a);
  }

  /**
   * Whole-number labels from an array of any numeric type; each must lie in
   * 0..classes-1 (classes &lt;= 0: the largest label + 1). Errors name the
   * sample and the value.
   */
  public static int[] labels(Object y, int classes, String what) {
    int[] out = wholeNumbers(y, what, "label", "sample");
    for (int i = 0; i < out.length; i++) {
      if (classes > 0 && out[i] >= classes) throw new ChiveException(what + ": label " + out[i] + " of sample " + i + " is outside 0.." + (classes - 1));
    }
    return out;
  }

  /**
   * Whole numbers &gt;= 0 from an array of any numeric type (event indices,
   * steps, labels); an error names {@code name} ("label"), the element
   * ({@code per} i) and the value.
   */
  public static int[] wholeNumbers(Object a, String what, String name, String per) {
    int n = length(a);
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      double v = at(a, i);
      // The largest kept below Integer.MAX_VALUE so that a count derived as max + 1 is an int too.
      if (v != Math.rint(v) || v < 0 || v >= Integer.MAX_VALUE) {
        throw new ChiveException(what + ": " + name + " " + v + " of " + per + " " + i + " is not a whole number >= 0"
            + (v >= Integer.MAX_VALUE ? " below " + Integer.MAX_VALUE : ""));
      }
      out[i] = (int) v;
    }
    return out;
  }

  /** Times in ms (any numeric type, finite, &gt;= 0) as step numbers floor(t / dtMs). */
  public static int[] steps(Object timesMs, double dtMs, String what) {
    if (!(dtMs > 0) || Double.isInfinite(dtMs)) throw new ChiveException(what + ": the bin width dt must be a time > 0, got " + dtMs + " ms");
    int n = length(timesMs);
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      double v = at(timesMs, i);
      if (!Double.isFinite(v) || v < 0) throw new ChiveException(what + ": time " + v + " ms of event " + i + " is not a time >= 0");
      double step = Math.floor(v / dtMs);
      if (step >= Integer.MAX_VALUE) {
        throw new ChiveException(what + ": time " + v + " ms of event " + i + " is step " + (long) step + " at dt " + dtMs
            + " ms, past the " + Integer.MAX_VALUE + " steps a dataset can have (a time unit mix-up?)");
      }
      out[i] = (int) step;
    }
    return out;
  }

  /** Values in [0, 1] (any numeric type, C order, {@code features} per sample) as floats; an error names the sample, the feature and the value. */
  public static float[] fractions(Object a, int features, String what) {
    int n = length(a);
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      double v = at(a, i);
      if (!(v >= 0 && v <= 1)) {
        throw new ChiveException(what + ": value " + v + " at sample " + i / features + ", feature " + i % features
            + " is outside [0, 1]; scale the features first (rates and intensities are fractions of the maximum)");
      }
      out[i] = (float) v;
    }
    return out;
  }

  /**
   * A dataset from a spike raster {@code [samples, steps, units]} in C order
   * (bool, or any numeric type: a nonzero element is one spike), as numpy
   * holds one.
   */
  public static Dataset fromRaster(Object raster, int samples, int steps, int units, int[] labels, int classes, String description) {
    if ((long) samples * steps * units != length(raster)) {
      throw new ChiveException(description + ": " + length(raster) + " elements do not make a raster of " + samples + " x " + steps + " x " + units);
    }
    if (labels.length != samples) throw new ChiveException(description + ": " + labels.length + " labels for " + samples + " samples");
    int[] ptr = new int[samples * steps + 1];
    int nnz = 0;
    for (long i = 0, n = (long) samples * steps * units; i < n; i++) if (at(raster, (int) i) != 0) nnz++;
    int[] idx = new int[nnz];
    int e = 0;
    for (int r = 0; r < samples * steps; r++) {
      int base = r * units;
      for (int u = 0; u < units; u++) {
        double v = at(raster, base + u);
        if (Double.isNaN(v)) throw new ChiveException(description + ": NaN at sample " + r / steps + ", step " + r % steps + ", unit " + u);
        if (v != 0) idx[e++] = u;
      }
      ptr[r + 1] = e;
    }
    return new Dataset(new SpikeRows(samples * steps, units, ptr, idx), steps, labels, classes, description);
  }

  /**
   * A dataset from an event list: event k is unit {@code unit[k]} spiking in
   * step {@code step[k]} of sample {@code sample[k]} (any order; several
   * spikes of one unit in one step make one; steps &gt;= {@code steps} are
   * dropped). Errors name the event and the value.
   */
  public static Dataset fromEventList(int[] sample, int[] step, int[] unit, int units, int steps, int[] labels, int classes,
                                      String description) {
    int n = labels.length;
    if (sample.length != step.length || sample.length != unit.length) {
      throw new ChiveException(description + ": " + sample.length + " samples, " + step.length + " steps and " + unit.length
          + " units: an event list needs one of each per event");
    }
    int[] count = new int[n];
    for (int k = 0; k < sample.length; k++) {
      if (sample[k] < 0 || sample[k] >= n) {
        throw new ChiveException(description + ": event " + k + " belongs to sample " + sample[k] + ", outside 0.." + (n - 1) + " (" + n + " labels)");
      }
      count[sample[k]]++;
    }
    int[][] us = new int[n][], ts = new int[n][];
    for (int s = 0; s < n; s++) { us[s] = new int[count[s]]; ts[s] = new int[count[s]]; }
    int[] fill = new int[n];
    for (int k = 0; k < sample.length; k++) {
      int s = sample[k];
      us[s][fill[s]] = unit[k];
      ts[s][fill[s]++] = step[k];
    }
    return fromEvents(units, steps, us, ts, labels, classes, description, true);
  }
}
