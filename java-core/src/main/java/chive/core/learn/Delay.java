package chive.core.learn;

import chive.core.kernel.SpikeRows;
import chive.core.sim.ChiveException;

/**
 * Delays every unit by a whole number of steps d: out_t = in_{t-d}, and 0 for
 * t &lt; d (NIR's Delay at a dt that makes its delays whole steps). Spikes
 * stay events.
 */
public final class Delay extends Module {
  public final int steps;

  public Delay(int steps) {
    if (steps < 0) throw new ChiveException("delay must be >= 0 steps, got " + steps);
    this.steps = steps;
  }

  @Override public String kind() { return "delay"; }
  @Override protected int[] shapeFor(int[] in) { return in; }

  static final class DCtx extends Ctx { float[] y; int[] ptr, idx; }

  @Override public Ctx newContext() { return new DCtx(); }

  @Override
  public Activation forward(Ctx ctx, Activation in, int samples, Env env) {
    DCtx c = (DCtx) ctx;
    final int T = env.steps, n = inSize(), rows = samples * T, d = steps;
    if (d == 0) return in;
    float[] x = in.values(), y = c.y = grow(c.y, rows * n);
    for (int b = 0; b < samples; b++) {
      int o = b * T * n;
      int keep = Math.max(0, T - d);
      java.util.Arrays.fill(y, o, o + Math.min(d, T) * n, 0f);
      if (keep > 0) System.arraycopy(x, o, y, o + d * n, keep * n);
    }
    if (!in.binary()) return Activation.dense(rows, n, y);
    int[] ptr = c.ptr = c.ptr != null && c.ptr.length == rows + 1 ? c.ptr : new int[rows + 1];
    int[] src = in.events.rowPtr, sidx = in.events.idx;
    int nnz = 0;
    for (int b = 0; b < samples; b++) for (int t = d; t < T; t++) {
      int rr = in.eventRow0 + b * T + t - d;
      nnz += src[rr + 1] - src[rr];
    }
    int[] idx = c.idx = c.idx != null && c.idx.length >= nnz ? c.idx : new int[Math.max(16, nnz)];
    int e = 0;
    for (int b = 0; b < samples; b++) for (int t = 0; t < T; t++) {
      if (t >= d) {
        int rr = in.eventRow0 + b * T + t - d, len = src[rr + 1] - src[rr];
        System.arraycopy(sidx, src[rr], idx, e, len);
        e += len;
      }
      ptr[b * T + t + 1] = e;
    }
    return Activation.events(rows, n, y, SpikeRows.ofEngine(rows, n, ptr, idx), 0, in.eventValue);
  }

  @Override
  public void backward(Ctx ctx, Activation in, float[] g, float[] gIn, float[][] grads, int samples, Env env) {
    if (gIn == null) return;
    final int T = env.steps, n = inSize(), d = steps;
    for (int b = 0; b < samples; b++) {
      int o = b * T * n, keep = Math.max(0, T - d);
      if (keep > 0) System.arraycopy(g, o + d * n, gIn, o, keep * n);
      java.util.Arrays.fill(gIn, o + keep * n, o + T * n, 0f);
    }
  }
}
