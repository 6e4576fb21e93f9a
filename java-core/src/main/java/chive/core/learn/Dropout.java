package chive.core.learn;

import chive.core.kernel.SpikeRows;
import chive.core.sim.ChiveException;
import chive.core.sim.Rng;

/**
 * Dropout as in SNN practice: in a training step each unit of each sample is
 * dropped with probability p for all its time steps (one mask per sample,
 * fixed over time), the rest scaled by 1/(1 - p); in evaluation the stage
 * passes its input on. The mask is a counter-based draw from (seed, training
 * step, sample's place in the batch, unit), so it does not depend on the
 * thread count. Dropped spikes stay events, worth 1/(1 - p).
 */
public final class Dropout extends Module {
  public final double p;
  public final long seed;

  public Dropout(double p, long seed) {
    if (!(p >= 0 && p < 1)) throw new ChiveException("dropout probability must be in [0, 1), got " + p);
    this.p = p;
    this.seed = seed;
  }

  @Override public String kind() { return "dropout"; }
  @Override protected int[] shapeFor(int[] in) { return in; }

  static final class DCtx extends Ctx { float[] y; boolean[] keep; int[] ptr, idx; boolean masked; }

  @Override public Ctx newContext() { return new DCtx(); }

  private boolean kept(long call, int sample, int unit) { return Rng.uniform(seed, call, sample, unit) >= p; }

  @Override
  public Activation forward(Ctx ctx, Activation in, int samples, Env env) {
    DCtx c = (DCtx) ctx;
    c.masked = env.training && p > 0;
    if (!c.masked) return in;
    final int T = env.steps, n = inSize(), rows = samples * T;
    final float scale = (float) (1 / (1 - p));
    boolean[] keep = c.keep = c.keep != null && c.keep.length >= samples * n ? c.keep : new boolean[samples * n];
    for (int b = 0; b < samples; b++) for (int j = 0; j < n; j++) keep[b * n + j] = kept(env.call, env.sample0 + b, j);
    float[] x = in.values(), y = c.y = grow(c.y, rows * n);
    for (int b = 0; b < samples; b++) for (int t = 0; t < T; t++) {
      int o = (b * T + t) * n;
      for (int j = 0; j < n; j++) y[o + j] = keep[b * n + j] ? x[o + j] * scale : 0f;
    }
    if (!in.binary()) return Activation.dense(rows, n, y);
    int[] src = in.events.rowPtr, sidx = in.events.idx;
    int[] ptr = c.ptr = c.ptr != null && c.ptr.length == rows + 1 ? c.ptr : new int[rows + 1];
    long total = in.eventCount();
    int[] idx = c.idx = c.idx != null && c.idx.length >= total ? c.idx : new int[(int) Math.max(16, total)];
    int e = 0;
    for (int r = 0; r < rows; r++) {
      int b = r / T, rr = in.eventRow0 + r;
      for (int q = src[rr]; q < src[rr + 1]; q++) if (keep[b * n + sidx[q]]) idx[e++] = sidx[q];
      ptr[r + 1] = e;
    }
    return Activation.events(rows, n, y, SpikeRows.ofEngine(rows, n, ptr, idx), 0, in.eventValue * scale);
  }

  @Override
  public void backward(Ctx ctx, Activation in, float[] g, float[] gIn, float[][] grads, int samples, Env env) {
    if (gIn == null) return;
    DCtx c = (DCtx) ctx;
    final int T = env.steps, n = inSize(), rows = samples * T;
    if (!c.masked) {
      System.arraycopy(g, 0, gIn, 0, rows * n);
      return;
    }
    final float scale = (float) (1 / (1 - p));
    for (int b = 0; b < samples; b++) for (int t = 0; t < T; t++) {
      int o = (b * T + t) * n;
      for (int j = 0; j < n; j++) gIn[o + j] = c.keep[b * n + j] ? g[o + j] * scale : 0f;
    }
  }
}
