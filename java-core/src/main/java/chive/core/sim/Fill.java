package chive.core.sim;

import java.util.SplittableRandom;

/**
 * Fills arrays with constants or seeded random values, for initial states and
 * weights, so that builders in other languages never loop per element.
 * Each call is deterministic for its seed.
 */
public final class Fill {
  private Fill() {}

  public static void constant(float[] a, double v) {
    java.util.Arrays.fill(a, (float) v);
  }

  /** Uniform in [lo, hi). */
  public static void uniform(float[] a, double lo, double hi, long seed) {
    if (!(hi >= lo)) throw new ChiveException("uniform: need lo <= hi, got lo " + lo + ", hi " + hi);
    SplittableRandom r = new SplittableRandom(seed);
    double w = hi - lo;
    for (int i = 0; i < a.length; i++) a[i] = (float) (lo + w * r.nextDouble());
  }

  /** Normal(mean, sd), by the Box-Muller transform, optionally clipped to [lo, hi]. */
  public static void normal(float[] a, double mean, double sd, double lo, double hi, long seed) {
    if (!(sd >= 0)) throw new ChiveException("normal: sd must be >= 0, got " + sd);
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < a.length; i += 2) {
      double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
      double rad = Math.sqrt(-2 * Math.log(u1));
      a[i] = (float) Math.min(hi, Math.max(lo, mean + sd * rad * Math.cos(2 * Math.PI * u2)));
      if (i + 1 < a.length) a[i + 1] = (float) Math.min(hi, Math.max(lo, mean + sd * rad * Math.sin(2 * Math.PI * u2)));
    }
  }

  /** Copies {@code values} (one per element, or one for all), scaled by {@code scale}. */
  public static void from(float[] a, double[] values, double scale, String what) {
    if (values.length != 1 && values.length != a.length) {
      throw new ChiveException(what + ": " + values.length + " values for " + a.length + " elements (give 1 or " + a.length + ")");
    }
    for (int i = 0; i < a.length; i++) {
      double v = values[values.length == 1 ? 0 : i] * scale;
      if (!Double.isFinite(v)) throw new ChiveException(what + ": value " + i + " is " + v);
      a[i] = (float) v;
    }
  }

  // Double-precision arrays: the same draws, not rounded to float.

  public static void constant(double[] a, double v) { java.util.Arrays.fill(a, v); }

  /** Uniform in [lo, hi) (the same draws as the float version, unrounded). */
  public static void uniform(double[] a, double lo, double hi, long seed) {
    if (!(hi >= lo)) throw new ChiveException("uniform: need lo <= hi, got lo " + lo + ", hi " + hi);
    SplittableRandom r = new SplittableRandom(seed);
    double w = hi - lo;
    for (int i = 0; i < a.length; i++) a[i] = lo + w * r.nextDouble();
  }

  /** Normal(mean, sd), optionally clipped to [lo, hi] (the same draws as the float version, unrounded). */
  public static void normal(double[] a, double mean, double sd, double lo, double hi, long seed) {
    if (!(sd >= 0)) throw new ChiveException("normal: sd must be >= 0, got " + sd);
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < a.length; i += 2) {
      double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
      double rad = Math.sqrt(-2 * Math.log(u1));
      a[i] = Math.min(hi, Math.max(lo, mean + sd * rad * Math.cos(2 * Math.PI * u2)));
      if (i + 1 < a.length) a[i + 1] = Math.min(hi, Math.max(lo, mean + sd * rad * Math.sin(2 * Math.PI * u2)));
    }
  }

  /** Copies {@code values} (one per element, or one for all), scaled by {@code scale}. */
  public static void from(double[] a, double[] values, double scale, String what) {
    if (values.length != 1 && values.length != a.length) {
      throw new ChiveException(what + ": " + values.length + " values for " + a.length + " elements (give 1 or " + a.length + ")");
    }
    for (int i = 0; i < a.length; i++) {
      double v = values[values.length == 1 ? 0 : i] * scale;
      if (!Double.isFinite(v)) throw new ChiveException(what + ": value " + i + " is " + v);
      a[i] = v;
    }
  }

  /** Permutes {@code values} (given in explicit-pair input order) into CSR order. */
  public static double[] permuted(double[] values, int[] order) {
    double[] out = new double[order.length];
    for (int k = 0; k < order.length; k++) out[k] = values[order[k]];
    return out;
  }

  /** Permutes {@code values} (given in explicit-pair input order) into CSR order. */
  public static float[] permuted(float[] values, int[] order) {
    float[] out = new float[order.length];
    for (int k = 0; k < order.length; k++) out[k] = values[order[k]];
    return out;
  }
}
