package chive.core.model;

/**
 * Elementary functions for per-neuron kernels whose state is float: a result
 * within a few units of 1e-10 relative of {@link Math} is exact after the
 * cast to float, and cheaper than the library call.
 */
public final class FastMath {
  private FastMath() {}

  /** Below this, {@link #expNeg} uses its polynomial; above, {@link Math#exp}. */
  public static final double EXP_NEG_POLY_MAX = 0.25;

  /**
   * exp(-x) for x &gt;= 0 (any x is accepted): the degree-8 Taylor polynomial
   * for 0 &lt;= x &lt; 0.25, where its relative error is below 1e-10
   * (x^9/9! &lt; 1.1e-11), Math.exp otherwise. Exponential-Euler factors
   * exp(-dt·g/tau) are almost always in that range.
   */
  public static double expNeg(double x) {
    if (x >= 0 && x < EXP_NEG_POLY_MAX) {
      double m = -x;
      return 1 + m * (1 + m * (1.0 / 2 + m * (1.0 / 6 + m * (1.0 / 24 + m * (1.0 / 120
          + m * (1.0 / 720 + m * (1.0 / 5040 + m * (1.0 / 40320))))))));
    }
    return Math.exp(-x);
  }

  /** Steps between {@link #flushSubnormal(float[], int, int)} passes over decaying traces. */
  public static final int FLUSH_EVERY = 16;

  /**
   * Flushes subnormal entries (|v| &lt; Float.MIN_NORMAL, about 1.2e-38) of
   * a[from, to) to 0. Decaying traces would otherwise drift through the
   * subnormal range, where x86 loads and multiplies take microcode assists
   * (tens to hundreds of cycles); what is flushed is below any effect on a
   * float sum with a normal number. Trace decays call it every
   * {@link #FLUSH_EVERY} steps rather than per element and step, so the
   * decay loop itself stays a plain multiply that the JIT vectorises; at
   * any decay rate slower than a factor 2^-23 per 16 steps a trace then
   * spends a negligible part of its life subnormal.
   */
  public static void flushSubnormal(float[] a, int from, int to) {
    chive.core.kernel.RowOps.flushSubnormal(a, from, to);
  }
}
