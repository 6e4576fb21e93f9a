package chive.core.learn;

import chive.core.kernel.SpikeRows;
import chive.core.sim.ChiveException;

/**
 * 2-D pooling per channel and row: SUM (NIR's SumPool2d, Sinabs), AVG (the
 * window's mean, padding counted as zeros, as PyTorch's default) or MAX (the
 * gradient goes to the first maximum of each window; padding never wins).
 * Input [C, H, W], output [C, H_out, W_out], H_out = ⌊(H + 2·pad - k)/stride⌋ + 1.
 * Max pooling of spikes gives spikes, passed on as events.
 */
public final class Pool2d extends Module {
  public enum Kind { SUM, AVG, MAX }

  public final Kind type;
  public final int kh, kw, sh, sw, ph, pw;
  private int c, h, wi, ho, wo;

  public Pool2d(Kind type, int kh, int kw, int sh, int sw, int ph, int pw) {
    if (type == null) throw new ChiveException("pooling kind must be given");
    if (kh <= 0 || kw <= 0) throw new ChiveException(type.name().toLowerCase() + "pool2d: kernel size must be > 0, got " + kh + " x " + kw);
    if (sh <= 0 || sw <= 0) throw new ChiveException(type.name().toLowerCase() + "pool2d: stride must be > 0, got " + sh + " x " + sw);
    if (ph < 0 || pw < 0 || 2 * ph > kh || 2 * pw > kw) {
      throw new ChiveException(type.name().toLowerCase() + "pool2d: padding must be between 0 and half the kernel, got " + ph + " x " + pw + " for kernel " + kh + " x " + kw);
    }
    this.type = type; this.kh = kh; this.kw = kw; this.sh = sh; this.sw = sw; this.ph = ph; this.pw = pw;
  }

  @Override public String kind() { return type.name().toLowerCase() + "pool2d"; }

  @Override
  protected int[] shapeFor(int[] in) {
    if (in.length != 3) throw new ChiveException("takes shape [C, H, W], got " + java.util.Arrays.toString(in));
    c = in[0]; h = in[1]; wi = in[2];
    if (h + 2 * ph < kh || wi + 2 * pw < kw) {
      throw new ChiveException("input " + h + " x " + wi + " (padded " + (h + 2 * ph) + " x " + (wi + 2 * pw) + ") is smaller than the window " + kh + " x " + kw);
    }
    ho = (h + 2 * ph - kh) / sh + 1;
    wo = (wi + 2 * pw - kw) / sw + 1;
    return new int[] {c, ho, wo};
  }

  static final class PCtx extends Ctx {
    float[] y;
    int[] arg, evPtr, evIdx;
  }

  @Override public Ctx newContext() { return new PCtx(); }

  @Override
  public Activation forward(Ctx ctx, Activation in, int samples, Env env) {
    PCtx p = (PCtx) ctx;
    final int rows = samples * env.steps, inN = c * h * wi, outN = c * ho * wo;
    final float[] x = in.values();
    float[] y = p.y = grow(p.y, rows * outN);
    final boolean max = type == Kind.MAX;
    int[] arg = max ? (p.arg = p.arg != null && p.arg.length >= rows * outN ? p.arg : new int[rows * outN]) : null;
    if (max && in.binary() && in.eventValue == 1f && ph == 0 && pw == 0 && sh == kh && sw == kw) {
      maxOfEvents(p, in, rows, y, arg);
      return spikesOut(p, rows, y);
    }
    final float scale = type == Kind.AVG ? 1f / (kh * kw) : 1f;
    final boolean unpadded = ph == 0 && pw == 0;
    for (int r = 0; r < rows; r++) {
      for (int ch = 0; ch < c; ch++) {
        int xo = r * inN + ch * h * wi, yo = r * outN + ch * ho * wo;
        for (int oy = 0; oy < ho; oy++) for (int ox = 0; ox < wo; ox++) {
          float acc = max ? Float.NEGATIVE_INFINITY : 0f;
          int at = -1;
          if (unpadded) {
            // Every window lies inside the map: no bounds tests.
            int base = xo + oy * sh * wi + ox * sw;
            for (int ky = 0; ky < kh; ky++) {
              int row = base + ky * wi;
              for (int kx = 0; kx < kw; kx++) {
                float v = x[row + kx];
                if (!max) acc += v;
                else if (v > acc) { acc = v; at = row + kx; }
              }
            }
          } else {
            for (int ky = 0; ky < kh; ky++) {
              int iy = oy * sh - ph + ky;
              if (iy < 0 || iy >= h) continue;
              for (int kx = 0; kx < kw; kx++) {
                int ix = ox * sw - pw + kx;
                if (ix < 0 || ix >= wi) continue;
                float v = x[xo + iy * wi + ix];
                if (!max) acc += v;
                else if (v > acc) { acc = v; at = xo + iy * wi + ix; }
              }
            }
          }
          int q = yo + oy * wo + ox;
          y[q] = max ? acc : acc * scale;
          if (max) arg[q] = at;
        }
      }
    }
    if (!(max && in.binary() && in.eventValue == 1f)) return Activation.dense(rows, outN, y);
    return spikesOut(p, rows, y);
  }

  /**
   * Max pooling of spikes over windows that tile the map (stride = kernel, no
   * padding): a window is 1 when one of its inputs spiked, and its gradient
   * goes to the first of them in scan order, which is the smallest input
   * index, the first event listed: the dense loop's result, from the events
   * alone.
   */
  private void maxOfEvents(PCtx p, Activation in, int rows, float[] y, int[] arg) {
    final int inN = c * h * wi, outN = c * ho * wo, inHW = h * wi;
    final int[] ptr = in.events.rowPtr, idx = in.events.idx;
    java.util.Arrays.fill(y, 0, rows * outN, 0f);
    // A window without a spike has maximum 0 everywhere: its gradient goes to its first input, as in the dense loop.
    for (int r = 0; r < rows; r++) for (int ch = 0; ch < c; ch++) for (int oy = 0; oy < ho; oy++) for (int ox = 0; ox < wo; ox++) {
      arg[r * outN + (ch * ho + oy) * wo + ox] = r * inN + ch * inHW + oy * sh * wi + ox * sw;
    }
    for (int r = 0; r < rows; r++) {
      int rr = in.eventRow0 + r, yo = r * outN;
      for (int e = ptr[rr]; e < ptr[rr + 1]; e++) {
        int u = idx[e], ch = u / inHW, rem = u - ch * inHW, iy = rem / wi, ix = rem - iy * wi;
        int oy = iy / sh, ox = ix / sw;
        if (oy >= ho || ox >= wo) continue;
        int q = yo + (ch * ho + oy) * wo + ox;
        if (y[q] == 0f) {
          y[q] = 1f;
          arg[q] = r * inN + u;
        } else if (r * inN + u < arg[q]) {
          arg[q] = r * inN + u;
        }
      }
    }
  }

  /** y (0/1) with its ones listed as events. */
  private Activation spikesOut(PCtx p, int rows, float[] y) {
    final int outN = c * ho * wo;
    // Max pooling of spikes is a spike: list the ones for the next stage's event kernels.
    int[] ptr = p.evPtr = p.evPtr != null && p.evPtr.length == rows + 1 ? p.evPtr : new int[rows + 1];
    int nnz = 0;
    for (int i = 0; i < rows * outN; i++) if (y[i] != 0f) nnz++;
    int[] idx = p.evIdx = p.evIdx != null && p.evIdx.length >= nnz ? p.evIdx : new int[Math.max(16, nnz)];
    int e = 0;
    for (int r = 0; r < rows; r++) {
      for (int j = 0, o = r * outN; j < outN; j++) if (y[o + j] != 0f) idx[e++] = j;
      ptr[r + 1] = e;
    }
    return Activation.events(rows, outN, y, SpikeRows.ofEngine(rows, outN, ptr, idx), 0, 1f);
  }

  @Override
  public void backward(Ctx ctx, Activation in, float[] g, float[] gIn, float[][] grads, int samples, Env env) {
    if (gIn == null) return;
    PCtx p = (PCtx) ctx;
    final int rows = samples * env.steps, inN = c * h * wi, outN = c * ho * wo;
    java.util.Arrays.fill(gIn, 0, rows * inN, 0f);
    if (type == Kind.MAX) {
      int[] arg = p.arg;
      for (int q = 0; q < rows * outN; q++) if (arg[q] >= 0) gIn[arg[q]] += g[q];
      return;
    }
    final float scale = type == Kind.AVG ? 1f / (kh * kw) : 1f;
    for (int r = 0; r < rows; r++) {
      for (int ch = 0; ch < c; ch++) {
        int xo = r * inN + ch * h * wi, yo = r * outN + ch * ho * wo;
        for (int oy = 0; oy < ho; oy++) for (int ox = 0; ox < wo; ox++) {
          float gv = g[yo + oy * wo + ox] * scale;
          for (int ky = 0; ky < kh; ky++) {
            int iy = oy * sh - ph + ky;
            if (iy < 0 || iy >= h) continue;
            for (int kx = 0; kx < kw; kx++) {
              int ix = ox * sw - pw + kx;
              if (ix >= 0 && ix < wi) gIn[xo + iy * wi + ix] += gv;
            }
          }
        }
      }
    }
  }
}
