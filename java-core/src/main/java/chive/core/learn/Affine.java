package chive.core.learn;

import chive.core.sim.ChiveException;

/**
 * y = x·w + b per row (sample and step): w is nIn × n (row i = the weights
 * out of input i), b has n entries (or none: NIR's Linear). Binary input
 * (spikes) is multiplied by adding the weight rows of its events; dense input
 * through GEMM.
 */
public final class Affine extends Weighted {
  public final int nIn, n;
  public final float[] w, b;

  public Affine(int nIn, int n, boolean bias) {
    if (nIn <= 0 || n <= 0) throw new ChiveException("affine sizes must be > 0, got " + nIn + " inputs and " + n + " outputs");
    if ((long) nIn * n > Integer.MAX_VALUE) throw new ChiveException("affine map of " + nIn + " x " + n + " weights is too large");
    this.nIn = nIn;
    this.n = n;
    this.w = new float[nIn * n];
    this.b = bias ? new float[n] : null;
  }

  @Override public String kind() { return b == null ? "linear" : "affine"; }
  @Override public float[] weights() { return w; }
  @Override public float[] bias() { return b; }
  @Override public int fanIn() { return nIn; }
  @Override public int fanOut() { return n; }

  @Override public float[][] params() { return b == null ? new float[][] {w} : new float[][] {w, b}; }
  @Override public String[] paramNames() { return b == null ? new String[] {"w"} : new String[] {"w", "bias"}; }
  @Override public int[][] paramShapes() { return b == null ? new int[][] {{nIn, n}} : new int[][] {{nIn, n}, {n}}; }

  @Override protected int[] shapeFor(int[] in) { return vectorOf(in, nIn, n); }

  static final class ACtx extends Ctx { float[] y; }

  @Override public Ctx newContext() { return new ACtx(); }

  @Override
  public Activation forward(Ctx ctx, Activation x, int samples, Env env) {
    ACtx c = (ACtx) ctx;
    int rows = samples * env.steps;
    float[] y = c.y = grow(c.y, rows * n);
    if (x.binary() && !env.dense) {
      java.util.Arrays.fill(y, 0, rows * n, 0f);
      x.events.addRowsOf(w, n, x.eventValue, y, x.eventRow0, x.eventRow0 + rows, x.eventRow0);
      env.countSparse();
    } else {
      env.kernels.sgemm(false, false, rows, n, nIn, 1f, x.values(), nIn, w, n, 0f, y, n);
    }
    if (b != null) for (int r = 0; r < rows; r++) for (int j = 0, o = r * n; j < n; j++) y[o + j] += b[j];
    return Activation.dense(rows, n, y);
  }

  @Override
  public void backward(Ctx ctx, Activation x, float[] g, float[] gIn, float[][] grads, int samples, Env env) {
    int rows = samples * env.steps;
    float[] dW = grads[0];
    if (x.binary() && !env.dense) x.events.scatterInto(g, n, x.eventValue, dW, x.eventRow0, x.eventRow0 + rows, x.eventRow0);
    else env.kernels.sgemm(true, false, nIn, n, rows, 1f, x.values(), nIn, g, n, 1f, dW, n);
    if (b != null) {
      float[] db = grads[1];
      for (int r = 0; r < rows; r++) for (int j = 0, o = r * n; j < n; j++) db[j] += g[o + j];
    }
    if (gIn != null) env.kernels.sgemm(false, true, rows, nIn, n, 1f, g, n, w, n, 0f, gIn, nIn);
  }
}
