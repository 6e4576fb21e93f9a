package chive.core.kernel;

/**
 * Loops over a row of consecutive post neurons (all-to-all and one-to-one
 * synapse rows: synapse j + off reaches post neuron j), used by delivery and
 * STDP. On SIMD lanes ({@link RowVector}) when {@link Simd#ENABLED}, else
 * scalar; both perform the same float operations per element, so they give
 * the same bits (RowOpsTest). The JIT does not vectorise the scalar forms by
 * itself: it cannot prove that the two arrays are distinct.
 */
public final class RowOps {
  private RowOps() {}

  /** tgt[j] += w[j + off] for j in [lo, hi). */
  public static void add(float[] tgt, float[] w, int off, int lo, int hi) {
    int j = Simd.ENABLED ? RowVector.add(tgt, w, off, lo, hi) : lo;
    for (; j < hi; j++) tgt[j] += w[j + off];
  }

  /**
   * y[yOff + i] += a·x[xOff + i] for i in [0, n) (the product rounded, then
   * the sum: no fused multiply-add, as the scalar loop): the event kernels'
   * row of output channels per spike and kernel tap.
   */
  public static void axpy(float[] y, int yOff, float[] x, int xOff, int n, float a) {
    int i = Simd.ENABLED ? RowVector.axpy(y, yOff, x, xOff, n, a) : 0;
    for (; i < n; i++) y[yOff + i] += a * x[xOff + i];
  }

  /** w[j + off] = min(wMax, max(wMin, w[j + off] - a·y[j])) for j in [lo, hi) (STDP depression at a pre spike). */
  public static void depress(float[] w, int off, float[] y, float a, float wMin, float wMax, int lo, int hi) {
    int j = Simd.ENABLED ? RowVector.depress(w, off, y, a, wMin, wMax, lo, hi) : lo;
    for (; j < hi; j++) w[j + off] = Math.min(wMax, Math.max(wMin, w[j + off] - a * y[j]));
  }

  /** a[i] = 0 where |a[i]| &lt; Float.MIN_NORMAL (subnormals and -0), for i in [from, to); NaN stays. */
  public static void flushSubnormal(float[] a, int from, int to) {
    int i = Simd.ENABLED ? RowVector.flushSubnormal(a, from, to) : from;
    for (; i < to; i++) if (Math.abs(a[i]) < Float.MIN_NORMAL) a[i] = 0f;
  }
}
