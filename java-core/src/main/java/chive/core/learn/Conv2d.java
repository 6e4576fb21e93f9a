package chive.core.learn;

import chive.core.kernel.RowOps;
import chive.core.sim.ChiveException;

/**
 * 2-D convolution (cross-correlation, as PyTorch's Conv2d and NIR's Conv2d)
 * applied to each row (sample and step) on its own: input [C_in, H, W],
 * weights [C_out, C_in/groups, kH, kW], optional bias [C_out], output
 * [C_out, H_out, W_out] with H_out = ⌊(H + 2·pad_h - dil_h·(kH - 1) - 1)/stride_h⌋ + 1
 * (the same for W). Output channel o of group g = o / (C_out/groups) sees
 * input channels g·C_in/groups ... (g+1)·C_in/groups - 1.
 *
 * <p>Two kernels, chosen per call: dense, im2col of a block of rows and one
 * GEMM per group (through {@link chive.core.kernel.Kernels}); and, for binary
 * input (spikes) sparser than {@link #breakEvenDensity}, an event scatter:
 * each input spike adds the kernel slice it touches to the output (a row of
 * output channels per tap, on SIMD lanes: {@link RowOps#axpy}), and the
 * weight gradient gathers the output gradient at the same places. Both are
 * tested against each other and against a direct loop.
 */
public final class Conv2d extends Weighted {
  public final int cin, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  public final float[] w, b;
  private int h, wi, ho, wo;
  /** A fixed density limit for the event kernels, or NaN: the cost model decides ({@link #breakEvenDensity}). */
  private volatile double sparseDensityMax = Double.NaN;
  /** Kernel taps per input position, averaged over the map (fewer than kH·kW at padded edges). */
  private double tapsPerInput;

  public Conv2d(int cin, int cout, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int groups, boolean bias) {
    if (cin <= 0 || cout <= 0) throw new ChiveException("conv2d: channels must be > 0, got " + cin + " in and " + cout + " out");
    if (kh <= 0 || kw <= 0) throw new ChiveException("conv2d: kernel size must be > 0, got " + kh + " x " + kw);
    if (sh <= 0 || sw <= 0) throw new ChiveException("conv2d: stride must be > 0, got " + sh + " x " + sw);
    if (ph < 0 || pw < 0) throw new ChiveException("conv2d: padding must be >= 0, got " + ph + " x " + pw);
    if (dh <= 0 || dw <= 0) throw new ChiveException("conv2d: dilation must be > 0, got " + dh + " x " + dw);
    if (groups <= 0 || cin % groups != 0 || cout % groups != 0) {
      throw new ChiveException("conv2d: groups " + groups + " must divide both " + cin + " input and " + cout + " output channels");
    }
    long nw = (long) cout * (cin / groups) * kh * kw;
    if (nw > Integer.MAX_VALUE / 2) throw new ChiveException("conv2d: " + nw + " weights is too many");
    this.cin = cin; this.cout = cout; this.kh = kh; this.kw = kw; this.sh = sh; this.sw = sw;
    this.ph = ph; this.pw = pw; this.dh = dh; this.dw = dw; this.groups = groups;
    this.w = new float[(int) nw];
    this.b = bias ? new float[cout] : null;
  }

  @Override public String kind() { return "conv2d"; }
  @Override public float[] weights() { return w; }
  @Override public float[] bias() { return b; }
  @Override public int fanIn() { return cin / groups * kh * kw; }
  @Override public int fanOut() { return cout / groups * kh * kw; }
  @Override public float[][] params() { return b == null ? new float[][] {w} : new float[][] {w, b}; }
  @Override public String[] paramNames() { return b == null ? new String[] {"w"} : new String[] {"w", "bias"}; }
  @Override public int[][] paramShapes() {
    int[] ws = {cout, cin / groups, kh, kw};
    return b == null ? new int[][] {ws} : new int[][] {ws, {cout}};
  }

  /**
   * The fixed limit set by {@link #setSparseDensityMax}: the event kernel is
   * used for binary input with at most this fraction of ones (0: never; 1:
   * always); NaN (the default) when the cost model chooses.
   */
  public double sparseDensityMax() { return sparseDensityMax; }
  public void setSparseDensityMax(double d) {
    if (!(Double.isNaN(d) || d >= 0 && d <= 1)) throw new ChiveException("conv2d: sparse density limit must be in [0, 1] (or NaN: automatic), got " + d);
    sparseDensityMax = d;
  }

  // The cost model's unit costs, in ns per item, measured on the build
  // machine (2-core AMD EPYC VM, JDK 17, OpenBLAS 0.3.31, one thread, 24 rows
  // of 1->32 channels on 28x28 and 32->64 on 14x14, 3x3 padding 1, densities
  // 0.02-0.6): only their ratios matter. Event kernel: one output channel of
  // one tap (SIMD lanes or scalar), a tap's own overhead, an output element
  // zeroed and transposed from the channels-last accumulator. Dense kernel:
  // one multiply-add of the GEMM (OpenBLAS or chive's Java GEMM), one im2col
  // element, one output element copied out of the GEMM's result.
  private static final double T_LANE_SIMD = 0.17, T_LANE_SCALAR = 0.5, T_TAP = 2.0, T_TRANSPOSE = 0.5;
  private static final double T_GEMM_OPENBLAS = 0.032, T_GEMM_JAVA = 0.32, T_COL = 0.3, T_COPY = 0.3;

  /**
   * The input density (fraction of ones) below which the event kernel is
   * expected to be faster than im2col + GEMM for this shape and these
   * kernels: per row, events·taps·(C_out/groups·lane + tap) + C_out·H_out·W_out·transpose
   * against H_out·W_out·groups·K·(C_out/groups·gemm + col) + C_out·H_out·W_out·copy,
   * K = C_in/groups·kH·kW (the backward pass mirrors the same sums). The
   * measured crossovers were 0.07 (1->32 channels) and 0.2-0.3 (32->64),
   * where the model gives 0.09 and 0.19.
   */
  public double breakEvenDensity(chive.core.kernel.Kernels kernels) {
    if (tapStart == null) throw new ChiveException("conv2d: the break-even density needs the input shape: build the network first");
    final int hw = ho * wo, cog = cout / groups, k = K();
    final double lane = chive.core.kernel.Simd.ENABLED ? T_LANE_SIMD : T_LANE_SCALAR;
    final double gemm = "openblas".equals(kernels.name()) ? T_GEMM_OPENBLAS : T_GEMM_JAVA;
    final double dense = (double) hw * groups * k * (cog * gemm + T_COL) + (double) cout * hw * T_COPY;
    final double fixed = (double) cout * hw * T_TRANSPOSE;
    final double perDensity = (double) cin * h * wi * tapsPerInput * (cog * lane + T_TAP);
    return Math.max(0, Math.min(1, (dense - fixed) / perDensity));
  }

  @Override
  protected int[] shapeFor(int[] in) {
    if (in.length != 3 || in[0] != cin) {
      throw new ChiveException("takes shape [" + cin + ", H, W], got " + java.util.Arrays.toString(in));
    }
    h = in[1];
    wi = in[2];
    int eh = dh * (kh - 1) + 1, ew = dw * (kw - 1) + 1;
    if (h + 2 * ph < eh || wi + 2 * pw < ew) {
      throw new ChiveException("input " + h + " x " + wi + " (padded " + (h + 2 * ph) + " x " + (wi + 2 * pw) + ") is smaller than the dilated kernel " + eh + " x " + ew);
    }
    ho = (h + 2 * ph - eh) / sh + 1;
    wo = (wi + 2 * pw - ew) / sw + 1;
    buildTaps();
    return new int[] {cout, ho, wo};
  }

  static final class CCtx extends Ctx {
    float[] y, col, tmp, gcol, wg, dwg, wt, acc, dwt;
    boolean sparse;
  }

  @Override public Ctx newContext() { return new CCtx(); }

  private int K() { return cin / groups * kh * kw; }

  /** Rows per im2col block: the column buffer stays near 4 M floats. */
  private int block(int rows) {
    long per = (long) K() * ho * wo;
    return (int) Math.max(1, Math.min(rows, (4L << 20) / Math.max(1, per)));
  }

  boolean useSparse(Activation in, int rows, Env env) {
    if (!in.binary() || env.dense) return false;
    double density = in.eventCount() / ((double) rows * cin * h * wi);
    double limit = sparseDensityMax;
    if (Double.isNaN(limit)) return density < breakEvenDensity(env.kernels);
    return limit > 0 && density <= limit;
  }

  @Override
  public Activation forward(Ctx ctx, Activation in, int samples, Env env) {
    CCtx c = (CCtx) ctx;
    final int rows = samples * env.steps, hw = ho * wo, outN = cout * hw;
    float[] y = c.y = grow(c.y, rows * outN);
    c.sparse = useSparse(in, rows, env);
    if (c.sparse) {
      java.util.Arrays.fill(y, 0, rows * outN, 0f);
      scatterForward(c, in, rows, y);
      env.countSparse();
    } else {
      denseForward(c, in.values(), rows, y, env);
    }
    if (b != null) {
      for (int r = 0; r < rows; r++) for (int o = 0; o < cout; o++) {
        float bo = b[o];
        for (int s = 0, base = r * outN + o * hw; s < hw; s++) y[base + s] += bo;
      }
    }
    return Activation.dense(rows, outN, y);
  }

  /** The weights of group g as a cog × K matrix (a view when there is one group). */
  private float[] groupWeights(CCtx c, int g) {
    if (groups == 1) return w;
    int cog = cout / groups, k = K();
    float[] wg = c.wg = grow(c.wg, cog * k);
    System.arraycopy(w, g * cog * k, wg, 0, cog * k);
    return wg;
  }

  /** col[k][r·HW + s] for rows [r0, r0 + R) and the input channels of group g. */
  private void im2col(float[] x, int r0, int R, int g, float[] col) { columns(x, r0, R, g, col, false); }

  /** gIn[r0 + r] += the columns' contributions (the adjoint of im2col). */
  private void col2im(float[] col, int r0, int R, int g, float[] gIn) { columns(gIn, r0, R, g, col, true); }

  /**
   * The one traversal behind both: for every column entry and the input unit
   * it reads, copy x into col (padding reads 0), or, with {@code back}, add
   * col back into x (padding receives nothing).
   */
  private void columns(float[] x, int r0, int R, int g, float[] col, boolean back) {
    final int cing = cin / groups, hw = ho * wo, rs = R * hw, inN = cin * h * wi;
    final int[] oxLo = new int[kw], oxHi = new int[kw];
    for (int kx = 0; kx < kw; kx++) {
      int d = kx * dw - pw;
      oxLo[kx] = Math.min(wo, Math.max(0, -Math.floorDiv(d, sw)));
      oxHi[kx] = Math.max(oxLo[kx], Math.min(wo, Math.floorDiv(wi - 1 - d, sw) + 1));
    }
    for (int cl = 0; cl < cing; cl++) {
      int ch = g * cing + cl;
      for (int ky = 0; ky < kh; ky++) for (int kx = 0; kx < kw; kx++) {
        int k = (cl * kh + ky) * kw + kx;
        for (int r = 0; r < R; r++) {
          int xo = (r0 + r) * inN + ch * h * wi, co = k * rs + r * hw;
          for (int oy = 0; oy < ho; oy++) {
            int iy = oy * sh - ph + ky * dh;
            int cr = co + oy * wo;
            if (iy < 0 || iy >= h) {
              if (!back) java.util.Arrays.fill(col, cr, cr + wo, 0f);
              continue;
            }
            // ix = ox·sw + d is inside [0, W) for ox in [lo, hi)
            final int d = kx * dw - pw, xr = xo + iy * wi + d;
            final int lo = oxLo[kx], hi = oxHi[kx];
            if (back) {
              if (sw == 1) for (int ox = lo; ox < hi; ox++) x[xr + ox] += col[cr + ox];
              else for (int ox = lo; ox < hi; ox++) x[xr + ox * sw] += col[cr + ox];
            } else {
              if (lo > 0) java.util.Arrays.fill(col, cr, cr + lo, 0f);
              if (sw == 1) System.arraycopy(x, xr + lo, col, cr + lo, hi - lo);
              else for (int ox = lo; ox < hi; ox++) col[cr + ox] = x[xr + ox * sw];
              if (hi < wo) java.util.Arrays.fill(col, cr + Math.max(hi, lo), cr + wo, 0f);
            }
          }
        }
      }
    }
  }

  private void denseForward(CCtx c, float[] x, int rows, float[] y, Env env) {
    final int hw = ho * wo, cog = cout / groups, k = K(), outN = cout * hw, B = block(rows);
    float[] col = c.col = grow(c.col, k * B * hw);
    float[] tmp = c.tmp = grow(c.tmp, cog * B * hw);
    for (int r0 = 0; r0 < rows; r0 += B) {
      int R = Math.min(B, rows - r0), rs = R * hw;
      for (int g = 0; g < groups; g++) {
        im2col(x, r0, R, g, col);
        env.kernels.sgemm(false, false, cog, rs, k, 1f, groupWeights(c, g), k, col, rs, 0f, tmp, rs);
        for (int ol = 0; ol < cog; ol++) {
          int o = g * cog + ol;
          for (int r = 0; r < R; r++) System.arraycopy(tmp, ol * rs + r * hw, y, (r0 + r) * outN + o * hw, hw);
        }
      }
    }
  }

  /** The weights as [C_in/groups, kH, kW, C_out/groups] per group (output channels innermost), for the event kernels. */
  private float[] transposedWeights(CCtx c) {
    final int cog = cout / groups, k = K();
    float[] wt = c.wt = grow(c.wt, groups * k * cog);
    for (int g = 0; g < groups; g++) {
      for (int ol = 0; ol < cog; ol++) {
        int o = g * cog + ol;
        for (int q = 0; q < k; q++) wt[(g * k + q) * cog + ol] = w[o * k + q];
      }
    }
    return wt;
  }

  /**
   * The kernel taps of every input position p = iy·W + ix, in the order
   * {@link #taps} lists them: tapK[i] = ky·kW + kx and tapPos[i] = oy·W_out + ox
   * for i in [tapStart[p], tapStart[p + 1]). An event of channel c at p
   * reaches weight offset c_local·kH·kW + tapK[i] at output position
   * tapPos[i]. Built when the input shape is bound, so the event loops do no
   * division per event.
   */
  private int[] tapStart, tapK, tapPos;

  private void buildTaps() {
    final int inHW = h * wi, kk = kh * kw;
    int[] wOff = new int[kk], pos = new int[kk];
    int[] start = new int[inHW + 1], tk = new int[inHW * kk], tpos = new int[inHW * kk];
    int n = 0;
    for (int p = 0; p < inHW; p++) {
      start[p] = n;
      int m = taps(p, wOff, pos);
      for (int i = 0; i < m; i++) { tk[n] = wOff[i]; tpos[n++] = pos[i]; }
    }
    start[inHW] = n;
    tapsPerInput = n / (double) inHW;
    tapStart = start;
    tapK = java.util.Arrays.copyOf(tk, n);
    tapPos = java.util.Arrays.copyOf(tpos, n);
  }

  /**
   * The kernel taps that input position p = iy·W + ix reaches: for each,
   * ky·kW + kx into {@code wOff} and the output position oy·W_out + ox into
   * {@code pos}. Returns how many (at most kH·kW).
   */
  private int taps(int p, int[] wOff, int[] pos) {
    final int iy = p / wi, ix = p - iy * wi;
    int m = 0;
    for (int ky = 0; ky < kh; ky++) {
      int ty = iy + ph - ky * dh;
      if (ty < 0) break;
      if (ty % sh != 0) continue;
      int oy = ty / sh;
      if (oy >= ho) continue;
      for (int kx = 0; kx < kw; kx++) {
        int tx = ix + pw - kx * dw;
        if (tx < 0) break;
        if (tx % sw != 0) continue;
        int ox = tx / sw;
        if (ox >= wo) continue;
        wOff[m] = ky * kw + kx;
        pos[m++] = oy * wo + ox;
      }
    }
    return m;
  }

  /**
   * Adds, for every input event, the kernel slice it reaches:
   * y[r, o, oy, ox] += v·w[o, c, ky, kx], accumulated channels-last
   * ([oy, ox, o]: the output channels of a group are contiguous, as are the
   * transposed weights) and transposed into y once per row; rows with few
   * events add straight into y instead.
   */
  private void scatterForward(CCtx c, Activation in, int rows, float[] y) {
    final int cing = cin / groups, cog = cout / groups, hw = ho * wo, outN = cout * hw, k = K(), kk = kh * kw, inHW = h * wi;
    final int[] ptr = in.events.rowPtr, idx = in.events.idx, ts = tapStart, tk = tapK, tpo = tapPos;
    final float v = in.eventValue;
    final float[] wt = transposedWeights(c);
    final float[] acc = c.acc = grow(c.acc, outN);
    for (int r = 0; r < rows; r++) {
      final int rr = in.eventRow0 + r, yo = r * outN;
      if (ptr[rr] == ptr[rr + 1]) continue; // y is zero there already
      final boolean direct = (long) (ptr[rr + 1] - ptr[rr]) * kk < hw;
      if (!direct) java.util.Arrays.fill(acc, 0, outN, 0f);
      for (int e = ptr[rr]; e < ptr[rr + 1]; e++) {
        final int u = idx[e], ch = u / inHW, p = u - ch * inHW, g = ch / cing, w0 = (ch - g * cing) * kk;
        for (int i = ts[p], i1 = ts[p + 1]; i < i1; i++) {
          final int wo0 = w0 + tk[i], pos = tpo[i];
          if (direct) {
            // Few events (a latency code's row): add straight into y, no transposition.
            for (int ol = 0, o = g * cog; ol < cog; ol++, o++) y[yo + pos + o * hw] += v * w[o * k + wo0];
          } else {
            RowOps.axpy(acc, pos * cout + g * cog, wt, (g * k + wo0) * cog, cog, v);
          }
        }
      }
      if (!direct) for (int q = 0; q < hw; q++) for (int o = 0; o < cout; o++) y[yo + o * hw + q] = acc[q * cout + o];
    }
  }

  @Override
  public void backward(Ctx ctx, Activation in, float[] gy, float[] gIn, float[][] grads, int samples, Env env) {
    CCtx c = (CCtx) ctx;
    final int rows = samples * env.steps, hw = ho * wo, outN = cout * hw, cog = cout / groups, k = K();
    float[] dW = grads[0];
    if (b != null) {
      float[] db = grads[1];
      for (int r = 0; r < rows; r++) for (int o = 0; o < cout; o++) {
        double s = 0;
        for (int q = 0, base = r * outN + o * hw; q < hw; q++) s += gy[base + q];
        db[o] += (float) s;
      }
    }
    if (c.sparse) scatterBackward(c, in, rows, gy, dW);
    if (c.sparse && gIn == null) return;
    if (gIn != null) java.util.Arrays.fill(gIn, 0, rows * cin * h * wi, 0f);
    final float[] x = c.sparse ? null : in.values();
    final int B = block(rows);
    float[] col = c.col = grow(c.col, k * B * hw);
    float[] tmp = c.tmp = grow(c.tmp, cog * B * hw);
    for (int r0 = 0; r0 < rows; r0 += B) {
      int R = Math.min(B, rows - r0), rs = R * hw;
      for (int g = 0; g < groups; g++) {
        for (int ol = 0; ol < cog; ol++) {
          int o = g * cog + ol;
          for (int r = 0; r < R; r++) System.arraycopy(gy, (r0 + r) * outN + o * hw, tmp, ol * rs + r * hw, hw);
        }
        if (!c.sparse) {
          im2col(x, r0, R, g, col);
          if (groups == 1) env.kernels.sgemm(false, true, cog, k, rs, 1f, tmp, rs, col, rs, 1f, dW, k);
          else {
            float[] dwg = c.dwg = grow(c.dwg, cog * k);
            env.kernels.sgemm(false, true, cog, k, rs, 1f, tmp, rs, col, rs, 0f, dwg, k);
            for (int q = 0, off = g * cog * k; q < cog * k; q++) dW[off + q] += dwg[q];
          }
        }
        if (gIn != null) {
          float[] gcol = c.gcol = grow(c.gcol, k * B * hw);
          env.kernels.sgemm(true, false, k, rs, cog, 1f, groupWeights(c, g), k, tmp, rs, 0f, gcol, rs);
          col2im(gcol, r0, R, g, gIn);
        }
      }
    }
  }

  /**
   * dW[o, c, ky, kx] += v·gy[r, o, oy, ox] at every input event's kernel
   * positions: gathered channels-last (gy of a row transposed to [oy, ox, o]
   * once) into a transposed gradient added to dW at the end, or, for rows
   * with few events, read straight from gy.
   */
  private void scatterBackward(CCtx c, Activation in, int rows, float[] gy, float[] dW) {
    final int cing = cin / groups, cog = cout / groups, hw = ho * wo, outN = cout * hw, k = K(), kk = kh * kw, inHW = h * wi;
    final int[] ptr = in.events.rowPtr, idx = in.events.idx, ts = tapStart, tk = tapK, tpo = tapPos;
    final float v = in.eventValue;
    final float[] dwt = c.dwt = grow(c.dwt, groups * k * cog);
    java.util.Arrays.fill(dwt, 0, groups * k * cog, 0f);
    final float[] gt = c.acc = grow(c.acc, outN);
    for (int r = 0; r < rows; r++) {
      final int rr = in.eventRow0 + r, yo = r * outN;
      if (ptr[rr] == ptr[rr + 1]) continue;
      final boolean direct = (long) (ptr[rr + 1] - ptr[rr]) * kk < hw;
      if (!direct) for (int o = 0; o < cout; o++) for (int q = 0; q < hw; q++) gt[q * cout + o] = gy[yo + o * hw + q];
      for (int e = ptr[rr]; e < ptr[rr + 1]; e++) {
        final int u = idx[e], ch = u / inHW, p = u - ch * inHW, g = ch / cing, w0 = (ch - g * cing) * kk;
        for (int i = ts[p], i1 = ts[p + 1]; i < i1; i++) {
          final int wo0 = w0 + tk[i], pos = tpo[i];
          if (direct) {
            for (int ol = 0, o = g * cog; ol < cog; ol++, o++) dW[o * k + wo0] += v * gy[yo + pos + o * hw];
          } else {
            RowOps.axpy(dwt, (g * k + wo0) * cog, gt, pos * cout + g * cog, cog, v);
          }
        }
      }
    }
    for (int g = 0; g < groups; g++) {
      for (int ol = 0; ol < cog; ol++) {
        int o = g * cog + ol;
        for (int q = 0; q < k; q++) dW[o * k + q] += dwt[(g * k + q) * cog + ol];
      }
    }
  }
}
