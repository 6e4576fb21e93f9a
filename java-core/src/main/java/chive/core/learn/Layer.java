package chive.core.learn;

import chive.core.kernel.SpikeRows;
import chive.core.sim.ChiveException;

/**
 * A layer of current-based LIF neurons (or, with spiking = false, leaky
 * integrators used as a readout), feed-forward weights w (nIn × n, row i =
 * the weights out of input i) and optionally recurrent weights v (n × n).
 * One time step, for t = 0..T-1 from zero state:
 * <pre>
 *   I_t  = syn·I_{t-1}  + in_gain·(x_t w)
 *   Ir_t = rec·Ir_{t-1} + rec_gain·(S_{t-1} v)
 *   U_t  = reset(mem·U_{t-1}, S_{t-1}) + mem_gain·(I_{t-1} + Ir_{t-1})
 *   S_t  = H(U_t - threshold)            (output; for a readout the output is U_t)
 * </pre>
 * Resets: HARD_LEAK (the JAX seed): mem·U·(1 - S) + mem_gain·(I + Ir);
 * HARD (SpyTorch): (mem·U + mem_gain·(I + Ir))·(1 - S); SOFT: mem·U - threshold·S
 * + mem_gain·(I + Ir). With detachReset the gradient does not flow through
 * the reset's S (the seeds' stop_gradient / detach).
 * The JAX seed's layer is mem 0.95, syn 0.9, rec 0.85, in_gain 20·(1 - 0.9),
 * rec_gain 1 - 0.85, mem_gain 1 - 0.95 (its 20·I folded into I).
 */
public final class Layer extends Weighted {
  public enum Reset { HARD, HARD_LEAK, SOFT }

  public final int nIn, n;
  public final boolean spiking, recurrent;
  public final float mem, syn, rec, inGain, recGain, memGain, threshold;
  public final Reset reset;
  public final boolean detachReset;
  public final Surrogate surrogate;
  /** Feed-forward weights, nIn × n row-major. */
  public final float[] w;
  /** Recurrent weights n × n (row i: out of neuron i), or null. */
  public final float[] v;

  public Layer(int nIn, int n, boolean spiking, boolean recurrent, double mem, double syn, double rec,
               double inGain, double recGain, double memGain, double threshold, Reset reset,
               boolean detachReset, Surrogate surrogate) {
    if (nIn <= 0 || n <= 0) throw new ChiveException("layer sizes must be > 0, got " + nIn + " inputs and " + n + " neurons");
    if ((long) nIn * n > Integer.MAX_VALUE) throw new ChiveException("layer of " + nIn + " x " + n + " weights is too large");
    check("mem", mem); check("syn", syn); check("rec", rec);
    for (double g : new double[] {inGain, recGain, memGain, threshold}) {
      if (!Double.isFinite(g)) throw new ChiveException("layer gains and threshold must be finite, got " + g);
    }
    if (recurrent && !spiking) throw new ChiveException("a non-spiking readout layer cannot be recurrent");
    if (spiking && surrogate == null) throw new ChiveException("a spiking layer needs a surrogate");
    this.nIn = nIn; this.n = n; this.spiking = spiking; this.recurrent = recurrent;
    this.mem = (float) mem; this.syn = (float) syn; this.rec = (float) rec;
    this.inGain = (float) inGain; this.recGain = (float) recGain; this.memGain = (float) memGain;
    this.threshold = (float) threshold; this.reset = reset; this.detachReset = detachReset; this.surrogate = surrogate;
    this.w = new float[nIn * n];
    this.v = recurrent ? new float[n * n] : null;
  }

  private static void check(String name, double d) {
    if (!(d >= 0 && d <= 1)) throw new ChiveException("layer decay factor '" + name + "' must be in [0, 1], got " + d);
  }

  /** Uniform in ±sqrt(6/(fan_in + fan_out)) (Glorot), as the JAX seed initialises both matrices. */
  @Override public float[] weights() { return w; }
  @Override public float[] bias() { return null; }
  @Override public int fanIn() { return nIn; }
  @Override public int fanOut() { return n; }

  @Override public void initGlorotUniform(java.util.SplittableRandom rng) {
    Init.uniform(w, Math.sqrt(6.0 / (nIn + n)), rng);
    if (v != null) Init.uniform(v, Math.sqrt(6.0 / (n + n)), rng);
  }

  /** Normal(0, scale/sqrt(fan_in)), SpyTorch's initialisation (its scale 7·(1 - mem)). */
  @Override public void initNormal(double scale, java.util.SplittableRandom rng) {
    Init.normal(w, scale / Math.sqrt(nIn), rng);
    if (v != null) Init.normal(v, scale / Math.sqrt(n), rng);
  }

  /** Uniform in ±1/sqrt(fan_in) (PyTorch's default for Linear): w with fan_in nIn, v with fan_in n. */
  @Override public void initKaimingUniform(java.util.SplittableRandom rng) {
    Init.uniform(w, 1 / Math.sqrt(nIn), rng);
    if (v != null) Init.uniform(v, 1 / Math.sqrt(n), rng);
  }

  /** The trainable arrays: w, then v if recurrent. */
  @Override public float[][] params() { return v == null ? new float[][] {w} : new float[][] {w, v}; }
  @Override public String[] paramNames() { return v == null ? new String[] {"w"} : new String[] {"w", "v"}; }
  @Override public int[][] paramShapes() { return v == null ? new int[][] {{nIn, n}} : new int[][] {{nIn, n}, {n, n}}; }

  @Override public String kind() { return spiking ? "dense LIF" : "dense readout"; }
  @Override public boolean spiking() { return spiking; }
  @Override public boolean readout() { return !spiking; }

  @Override protected int[] shapeFor(int[] in) { return vectorOf(in, nIn, n); }

  /** Per-thread state of one group of samples: rows (b - s0)·steps + t. */
  static final class LCtx extends Ctx {
    int rows;
    float[] u, i, ir, s, lamI, lamIr;
    /** The row pointers and indices of the output spikes, filled while integrating. */
    int[] evPtr, evIdx;
  }

  @Override public Ctx newContext() { return new LCtx(); }

  @Override public float[] membrane(Ctx c) { return ((LCtx) c).u; }

  private void ensure(LCtx c, int rows) {
    if (c.u != null && c.rows == rows) return;
    c.rows = rows;
    c.u = new float[rows * n];
    c.i = new float[rows * n];
    c.ir = recurrent ? new float[rows * n] : null;
    c.s = spiking ? new float[rows * n] : null;
    c.lamI = new float[rows * n];
    c.lamIr = recurrent ? new float[rows * n] : null;
    c.evPtr = new int[rows + 1];
    c.evIdx = null;
  }

  @Override
  public Activation forward(Ctx ctx, Activation x, int samples, Env env) {
    LCtx c = (LCtx) ctx;
    int T = env.steps, rows = samples * T;
    ensure(c, rows);
    float[] I = c.i;
    // Input currents in_gain·(x w) for all rows, into I.
    if (x.binary() && !env.dense) {
      java.util.Arrays.fill(I, 0f);
      x.events.addRowsOf(w, n, inGain * x.eventValue, I, x.eventRow0, x.eventRow0 + rows, x.eventRow0);
      env.countSparse();
    } else {
      env.kernels.sgemm(false, false, rows, n, nIn, inGain, x.values(), nIn, w, n, 0f, I, n);
    }
    int nnz = integrate(c, samples, T, env.smooth);
    if (nnz < 0) return Activation.dense(rows, n, spiking ? c.s : c.u);
    return Activation.events(rows, n, c.s, SpikeRows.ofEngine(rows, n, c.evPtr, c.evIdx), 0, 1f);
  }

  /**
   * The time loop; I holds in_gain·(x_t w) per row on entry. Binary output
   * spikes (a spiking layer, not in smooth mode) are also listed in
   * evPtr/evIdx as they occur; returns their number, or -1 when there is no
   * such list.
   */
  private int integrate(LCtx c, int samples, int T, boolean smooth) {
    final float[] U = c.u, I = c.i, Ir = c.ir, S = c.s, V = v;
    final float mem = this.mem, syn = this.syn, rec = this.rec, mg = memGain, th = threshold, rg = recGain;
    final Surrogate sg = surrogate;
    final boolean listSpikes = S != null && !smooth;
    final int[] ptr = c.evPtr;
    int[] idx = c.evIdx;
    if (listSpikes && idx == null) idx = new int[Math.max(16, samples * T * n / 16)];
    int e = 0;
    for (int b = 0; b < samples; b++) {
      int base = b * T * n;
      for (int t = 0; t < T; t++) {
        int o = base + t * n, p = o - n;
        if (t == 0) {
          // Zero initial state: U_0 = 0, I_0 = input, Ir_0 = 0.
          for (int j = 0; j < n; j++) U[o + j] = 0f;
          if (Ir != null) for (int j = 0; j < n; j++) Ir[o + j] = 0f;
        } else {
          for (int j = 0; j < n; j++) I[o + j] += syn * I[p + j];
          if (Ir != null) {
            for (int j = 0; j < n; j++) Ir[o + j] = rec * Ir[p + j];
            for (int k = 0; k < n; k++) {
              float sk = S[p + k];
              if (sk == 0f) continue;
              float a = rg * sk;
              int vo = k * n;
              for (int j = 0; j < n; j++) Ir[o + j] += a * V[vo + j];
            }
          }
          if (!spiking) {
            for (int j = 0; j < n; j++) U[o + j] = mem * U[p + j] + mg * I[p + j];
          } else {
            for (int j = 0; j < n; j++) {
              float in = mg * (I[p + j] + (Ir != null ? Ir[p + j] : 0f));
              float sp = S[p + j], up = U[p + j];
              float un;
              switch (reset) {
                case HARD_LEAK: un = mem * up * (1f - sp) + in; break;
                case HARD: un = (mem * up + in) * (1f - sp); break;
                default: un = mem * up - th * sp + in;
              }
              U[o + j] = un;
            }
          }
        }
        if (S != null) {
          if (smooth) for (int j = 0; j < n; j++) S[o + j] = (float) sg.smooth(U[o + j] - th);
          else {
            if (e + n > idx.length) idx = java.util.Arrays.copyOf(idx, Math.max(2 * idx.length, e + n));
            for (int j = 0; j < n; j++) {
              boolean fire = U[o + j] > th;
              S[o + j] = fire ? 1f : 0f;
              if (fire) idx[e++] = j;
            }
            ptr[(o / n) + 1] = e;
          }
        }
      }
    }
    if (!listSpikes) return -1;
    c.evIdx = idx;
    return e;
  }

  @Override
  public void backward(Ctx ctx, Activation x, float[] gOut, float[] gIn, float[][] grads, int samples, Env env) {
    LCtx c = (LCtx) ctx;
    int rows = samples * env.steps;
    float[] dW = grads[0], dV = recurrent ? grads[1] : null;
    adjoint(c, gOut, samples, env.steps, dV);
    float[] lam = c.lamI;
    // dW = in_gain · x^T λ_I
    if (x.binary() && !env.dense) x.events.scatterInto(lam, n, inGain * x.eventValue, dW, x.eventRow0, x.eventRow0 + rows, x.eventRow0);
    else env.kernels.sgemm(true, false, nIn, n, rows, inGain, x.values(), nIn, lam, n, 1f, dW, n);
    // dL/d(input) = in_gain · λ_I w^T
    if (gIn != null) env.kernels.sgemm(false, true, rows, nIn, n, inGain, lam, n, w, n, 0f, gIn, nIn);
  }

  /** Reverse-time adjoints from G = dL/d(output); fills lamI (and lamIr, dV). */
  private void adjoint(LCtx c, float[] G, int samples, int T, float[] dV) {
    final float[] U = c.u, I = c.i, Ir = c.ir, S = c.s, V = v, LI = c.lamI, LR = c.lamIr;
    final float mem = this.mem, syn = this.syn, rec = this.rec, mg = memGain, th = threshold, rg = recGain;
    final boolean detach = detachReset;
    final Surrogate sg = surrogate;
    float[] lu = new float[n], li = new float[n], lr = new float[n], recBack = new float[n];
    float[] luN = new float[n], liN = new float[n], lrN = new float[n];
    for (int b = 0; b < samples; b++) {
      int base = b * T * n;
      java.util.Arrays.fill(luN, 0f); java.util.Arrays.fill(liN, 0f); java.util.Arrays.fill(lrN, 0f);
      for (int t = T - 1; t >= 0; t--) {
        int o = base + t * n;
        if (Ir != null) {
          // dL/dS_t through Ir_{t+1} = rec·Ir_t + rec_gain·S_t v: rec_gain · v λ_Ir(t+1)
          for (int k = 0; k < n; k++) {
            float acc = 0f;
            int vo = k * n;
            for (int j = 0; j < n; j++) acc += V[vo + j] * lrN[j];
            recBack[k] = rg * acc;
          }
        }
        for (int j = 0; j < n; j++) {
          float lun = luN[j];
          if (!spiking) {
            lu[j] = G[o + j] + mem * lun;
            li[j] = syn * liN[j] + mg * lun;
            continue;
          }
          float st = S[o + j], ut = U[o + j];
          float dUdU, dUdS, dUdIn;
          switch (reset) {
            case HARD_LEAK: dUdU = mem * (1f - st); dUdS = -mem * ut; dUdIn = mg; break;
            case HARD: {
              float pre = mem * ut + mg * (I[o + j] + (Ir != null ? Ir[o + j] : 0f));
              dUdU = mem * (1f - st); dUdS = -pre; dUdIn = mg * (1f - st); break;
            }
            default: dUdU = mem; dUdS = -th; dUdIn = mg;
          }
          float ls = G[o + j] + (Ir != null ? recBack[j] : 0f) + (detach ? 0f : dUdS * lun);
          lu[j] = ls * (float) sg.grad(ut - th) + dUdU * lun;
          li[j] = syn * liN[j] + dUdIn * lun;
          if (Ir != null) lr[j] = rec * lrN[j] + dUdIn * lun;
        }
        System.arraycopy(li, 0, LI, o, n);
        if (Ir != null) {
          System.arraycopy(lr, 0, LR, o, n);
          // dV += rec_gain · S_{t-1}^T λ_Ir(t)
          if (t > 0) {
            int po = o - n;
            for (int k = 0; k < n; k++) {
              float sk = S[po + k];
              if (sk == 0f) continue;
              float a = rg * sk;
              int vo = k * n;
              for (int j = 0; j < n; j++) dV[vo + j] += a * lr[j];
            }
          }
        }
        float[] tmp;
        tmp = luN; luN = lu; lu = tmp;
        tmp = liN; liN = li; li = tmp;
        tmp = lrN; lrN = lr; lr = tmp;
      }
    }
  }
}
