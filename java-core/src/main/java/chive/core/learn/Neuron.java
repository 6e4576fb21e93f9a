package chive.core.learn;

import chive.core.kernel.SpikeRows;
import chive.core.sim.ChiveException;

/**
 * Spiking or integrating neurons applied element-wise to their input (the
 * output of a convolution, an Affine map, a pooling stage): one neuron per
 * input unit, no weights of their own. With J the input drive, per neuron j
 * and step t from zero state:
 * <pre>
 *   I_t = α·I_{t-1} + X_t          (current-based; otherwise J_t = X_t)
 *   P_t = β·U_{t-1} + J_t
 *   U_t = P_t - θ·S_{t-1}          reset SOFT (subtract, snnTorch's default)
 *   U_t = P_t·(1 - S_{t-1})        reset HARD (to zero, SpyTorch)
 *   U_t = β·U_{t-1}·(1 - S_{t-1}) + J_t   reset HARD_LEAK (the JAX seed)
 *   S_t = H(U_t - θ)               the output (surrogate gradient in backward)
 * </pre>
 * Kinds: LIF (β in [0, 1]), IF (β = 1), and the non-spiking readouts LI
 * (U_t = β·U_{t-1} + J_t, output U) and I (β = 1). β, α and θ are stored per
 * neuron, per channel (the first dimension of a [C, H, W] map) or one for
 * the layer; each can be made trainable (ParametricLIF, snnTorch's learnable
 * beta/threshold); trained β and α are used clamped to [0, 1] (the gradient
 * is 0 where the clamp is active). With detachReset the gradient does not
 * flow through the S of the reset (the seeds' stop_gradient), as in
 * {@link Layer}.
 */
public final class Neuron extends Module {
  public enum Kind { LIF, IF, LI, I }
  public enum Per { NEURON, CHANNEL, LAYER }

  public final Kind type;
  public final boolean currentBased;
  public final Layer.Reset reset;
  public final boolean detachReset;
  public final Surrogate surrogate;
  public final Per per;
  public final boolean learnBeta, learnAlpha, learnThreshold;
  private final double beta0, alpha0, threshold0;
  /** Per-neuron/channel/layer values (length set at bind). */
  private float[] beta, alpha, threshold;
  private int n, group;

  public Neuron(Kind type, double beta, boolean currentBased, double alpha, double threshold, Layer.Reset reset,
                boolean detachReset, Surrogate surrogate, Per per, boolean learnBeta, boolean learnAlpha, boolean learnThreshold) {
    if (type == null || reset == null || per == null) throw new ChiveException("neuron kind, reset and per must be given");
    boolean sp = type == Kind.LIF || type == Kind.IF;
    boolean leaky = type == Kind.LIF || type == Kind.LI;
    if (leaky && !(beta >= 0 && beta <= 1)) throw new ChiveException(type + " neurons: beta (the membrane's decay per step) must be in [0, 1], got " + beta);
    if (!leaky && learnBeta) throw new ChiveException(type + " neurons have beta = 1 (no leak); it cannot be trained: use LIF or LI");
    if (currentBased && !(alpha >= 0 && alpha <= 1)) throw new ChiveException("current-based neurons: alpha (the current's decay per step) must be in [0, 1], got " + alpha);
    if (!currentBased && learnAlpha) throw new ChiveException("alpha is trainable only for current-based neurons");
    if (sp && !(threshold > 0) || Double.isInfinite(threshold)) throw new ChiveException(type + " neurons: threshold must be finite and > 0, got " + threshold);
    if (!sp && learnThreshold) throw new ChiveException(type + " is a readout without a threshold; it cannot be trained");
    if (sp && surrogate == null) throw new ChiveException(type + " neurons need a surrogate gradient");
    this.type = type;
    this.beta0 = leaky ? beta : 1.0;
    this.currentBased = currentBased;
    this.alpha0 = currentBased ? alpha : 0.0;
    this.threshold0 = sp ? threshold : 0.0;
    this.reset = reset;
    this.detachReset = detachReset;
    this.surrogate = surrogate;
    this.per = per;
    this.learnBeta = learnBeta;
    this.learnAlpha = learnAlpha;
    this.learnThreshold = learnThreshold;
  }

  @Override public String kind() { return type.name(); }
  @Override public boolean spiking() { return type == Kind.LIF || type == Kind.IF; }
  @Override public boolean readout() { return !spiking(); }

  @Override
  protected int[] shapeFor(int[] in) {
    n = size(in);
    int p;
    switch (per) {
      case NEURON: p = n; break;
      case CHANNEL: p = in[0]; break;
      default: p = 1;
    }
    group = n / p;
    if (beta == null || beta.length != p) {
      beta = filled(p, beta0);
      alpha = filled(p, alpha0);
      threshold = filled(p, threshold0);
    }
    return in;
  }

  /** The live β, α and θ arrays (one value per neuron, channel or layer, after the network is built). */
  public float[] beta() { return beta; }
  public float[] alpha() { return alpha; }
  public float[] threshold() { return threshold; }

  @Override
  public float[][] params() {
    java.util.List<float[]> p = new java.util.ArrayList<>();
    if (learnBeta) p.add(beta);
    if (learnAlpha) p.add(alpha);
    if (learnThreshold) p.add(threshold);
    return p.toArray(new float[0][]);
  }

  @Override
  public String[] paramNames() {
    java.util.List<String> p = new java.util.ArrayList<>();
    if (learnBeta) p.add("beta");
    if (learnAlpha) p.add("alpha");
    if (learnThreshold) p.add("threshold");
    return p.toArray(new String[0]);
  }

  @Override
  public int[][] paramShapes() {
    int[][] s = new int[params().length][];
    for (int i = 0; i < s.length; i++) s[i] = new int[] {beta.length};
    return s;
  }

  static final class NCtx extends Ctx {
    int rows;
    float[] u, s, i, x;
    int[] evPtr, evIdx;
    /** Backward scratch (length n): surrogate row, per-unit β and θ gradient sums, zeros, a sink for gIn. */
    float[] sig, accB, accT, zero, sink;
  }

  @Override public Ctx newContext() { return new NCtx(); }
  @Override public float[] membrane(Ctx c) { return ((NCtx) c).u; }

  private static float clamp01(float v) { return Math.max(0f, Math.min(1f, v)); }

  /** The reset as coefficients of one formula: U_t = β·U_{t-1}·(1 - cU·S) + J_t·(1 - cJ·S) - cT·θ·S, S = S_{t-1}. */
  private float cU() { return reset == Layer.Reset.SOFT ? 0f : 1f; }
  private float cJ() { return reset == Layer.Reset.HARD ? 1f : 0f; }
  private float cT() { return reset == Layer.Reset.SOFT ? 1f : 0f; }

  @Override
  public Activation forward(Ctx ctx, Activation in, int samples, Env env) {
    NCtx c = (NCtx) ctx;
    final int T = env.steps, rows = samples * T, n = this.n, grp = group, P = beta.length;
    if (c.u == null || c.rows != rows) {
      c.rows = rows;
      c.u = new float[rows * n];
      c.s = spiking() ? new float[rows * n] : null;
      c.i = currentBased ? new float[rows * n] : null;
      c.evPtr = new int[rows + 1];
    }
    final float[] X = in.values(), U = c.u, S = c.s, I = c.i;
    final boolean sp = spiking(), smooth = env.smooth, list = sp && !smooth;
    final Surrogate sg = surrogate;
    final float cU = cU(), cJ = cJ(), cT = cT();
    int[] idx = c.evIdx;
    if (list && idx == null) idx = new int[Math.max(16, rows * n / 16)];
    if (c.zero == null || c.zero.length != n) c.zero = new float[n];
    final float[] zero = c.zero;
    int e = 0;
    for (int b = 0; b < samples; b++) {
      for (int t = 0; t < T; t++) {
        final int o = (b * T + t) * n, p = o - n;
        final boolean first = t == 0;
        if (list && e + n > idx.length) idx = java.util.Arrays.copyOf(idx, Math.max(2 * idx.length, e + n));
        for (int q = 0; q < P; q++) {
          final float bq = clamp01(beta[q]), aq = clamp01(alpha[q]), th = threshold[q];
          final int j0 = q * grp, j1 = j0 + grp;
          if (I != null) {
            if (first) System.arraycopy(X, o + j0, I, o + j0, grp);
            else for (int j = j0; j < j1; j++) I[o + j] = aq * I[p + j] + X[o + j];
          }
          final float[] J = I != null ? I : X;
          if (!sp) {
            if (first) System.arraycopy(J, o + j0, U, o + j0, grp);
            else for (int j = j0; j < j1; j++) U[o + j] = bq * U[p + j] + J[o + j];
            continue;
          }
          if (list) {
            // One pass: the reset formula (with zero state before the first
            // step, read from a zero row: the same values as the cases
            // below), the threshold, and the event written unconditionally,
            // kept by advancing e only on a spike.
            final float[] Up = first ? zero : U, Sp = first ? zero : S;
            final int pp = first ? 0 : p;
            final float thc = cT * th;
            for (int j = j0; j < j1; j++) {
              final float sprev = Sp[pp + j];
              final float u = bq * Up[pp + j] * (1f - cU * sprev) + J[o + j] * (1f - cJ * sprev) - thc * sprev;
              U[o + j] = u;
              final boolean f = u > th;
              S[o + j] = f ? 1f : 0f;
              idx[e] = j;
              e += f ? 1 : 0;
            }
            continue;
          }
          if (first) System.arraycopy(J, o + j0, U, o + j0, grp);
          else if (cT != 0f) {
            final float thc = cT * th;
            for (int j = j0; j < j1; j++) U[o + j] = bq * U[p + j] + J[o + j] - thc * S[p + j];
          } else {
            for (int j = j0; j < j1; j++) {
              float sprev = S[p + j];
              U[o + j] = bq * U[p + j] * (1f - cU * sprev) + J[o + j] * (1f - cJ * sprev);
            }
          }
          if (smooth) {
            for (int j = j0; j < j1; j++) S[o + j] = (float) sg.smooth(U[o + j] - th);
          } else {
            for (int j = j0; j < j1; j++) S[o + j] = U[o + j] > th ? 1f : 0f;
            for (int j = j0; j < j1; j++) if (S[o + j] != 0f) idx[e++] = j;
          }
        }
        if (list) c.evPtr[b * T + t + 1] = e;
      }
    }
    c.x = X;
    if (!sp) return Activation.dense(rows, n, U);
    if (!list) return Activation.dense(rows, n, S);
    c.evIdx = idx;
    return Activation.events(rows, n, S, SpikeRows.ofEngine(rows, n, c.evPtr, idx), 0, 1f);
  }

  @Override
  public void backward(Ctx ctx, Activation in, float[] G, float[] gIn, float[][] grads, int samples, Env env) {
    NCtx c = (NCtx) ctx;
    final int T = env.steps, n = this.n, grp = group, P = beta.length;
    final float[] U = c.u, S = c.s, I = c.i, X = c.x;
    final float[] J = I != null ? I : X;
    final boolean sp = spiking(), detach = detachReset;
    final Surrogate sg = surrogate;
    final float cU = cU(), cJ = cJ(), cT = cT();
    int k = 0;
    final float[] dBeta = learnBeta ? grads[k++] : null, dAlpha = learnAlpha ? grads[k++] : null, dTh = learnThreshold ? grads[k++] : null;
    float[] luN = new float[n], liN = new float[n];
    if (sp && I == null) {
      backwardSpiking(c, G, gIn, samples, T, luN, dBeta, dTh);
      return;
    }
    for (int b = 0; b < samples; b++) {
      java.util.Arrays.fill(luN, 0f);
      java.util.Arrays.fill(liN, 0f);
      for (int t = T - 1; t >= 0; t--) {
        final int o = (b * T + t) * n, p = o - n, nx = o + n;
        final boolean first = t == 0, last = t == T - 1;
        for (int q = 0; q < P; q++) {
          final float rawB = beta[q], bq = clamp01(rawB), rawA = alpha[q], aq = clamp01(rawA), th = threshold[q];
          final int j0 = q * grp, j1 = j0 + grp;
          double dB = 0, dA = 0, dT = 0;
          for (int j = j0; j < j1; j++) {
            final float lun = luN[j], up = first ? 0f : U[p + j];
            float lu, dJ, dBetaTerm;
            if (!sp) {
              lu = G[o + j] + bq * lun;
              dJ = lu;
              dBetaTerm = lu * up;
            } else {
              final float st = S[o + j], ut = U[o + j], sprev = first ? 0f : S[p + j];
              // How U_{t+1} depends on S_t and U_t (lun = 0 at the last step).
              final float jn = last ? 0f : J[nx + j];
              final float dNextdS = -(cT * th + cU * bq * ut + cJ * jn);
              final float dNextdU = bq * (1f - cU * st);
              final float dS = G[o + j] + (detach ? 0f : dNextdS * lun);
              final float sig = (float) sg.grad(ut - th);
              lu = dS * sig + dNextdU * lun;
              dT += -sig * dS - cT * sprev * lu;
              dJ = lu * (1f - cJ * sprev);
              dBetaTerm = lu * up * (1f - cU * sprev);
            }
            dB += dBetaTerm;
            luN[j] = lu;
            if (I != null) {
              float li = dJ + aq * liN[j];
              if (!first) dA += li * I[p + j];
              liN[j] = li;
              if (gIn != null) gIn[o + j] = li;
            } else if (gIn != null) gIn[o + j] = dJ;
          }
          if (dBeta != null && rawB >= 0f && rawB <= 1f) dBeta[q] += (float) dB;
          if (dAlpha != null && rawA >= 0f && rawA <= 1f) dAlpha[q] += (float) dA;
          if (dTh != null) dTh[q] += (float) dT;
        }
      }
    }
  }

  /**
   * The spiking, not current-based case of {@link #backward} (the
   * convolutional LIF/IF layers): the same recursion with the surrogate
   * computed per row ({@link Surrogate#gradRow}), the first and last steps'
   * missing neighbours read from a zero row, and the β and θ gradients
   * summed per unit over the samples and steps before the sum per
   * channel/layer, so the inner loop has no call and no branch.
   */
  private void backwardSpiking(NCtx c, float[] G, float[] gIn, int samples, int T, float[] luN, float[] dBeta, float[] dTh) {
    final int n = this.n, grp = group, P = beta.length;
    final float[] U = c.u, S = c.s, X = c.x;
    if (c.sig == null || c.sig.length != n) {
      c.sig = new float[n];
      c.accB = new float[n];
      c.accT = new float[n];
      c.zero = new float[n];
      c.sink = new float[n];
    }
    final float[] sig = c.sig, accB = c.accB, accT = c.accT, zero = c.zero;
    java.util.Arrays.fill(accB, 0f);
    java.util.Arrays.fill(accT, 0f);
    final float cU = cU(), cJ = cJ(), cT = cT(), dm = detachReset ? 0f : 1f;
    for (int b = 0; b < samples; b++) {
      java.util.Arrays.fill(luN, 0f);
      for (int t = T - 1; t >= 0; t--) {
        final int o = (b * T + t) * n;
        final boolean first = t == 0, last = t == T - 1;
        final float[] Up = first ? zero : U, Sp = first ? zero : S, Jn = last ? zero : X, Gi = gIn != null ? gIn : c.sink;
        final int pp = first ? 0 : o - n, pn = last ? 0 : o + n, go = gIn != null ? o : 0;
        for (int q = 0; q < P; q++) {
          final float bq = clamp01(beta[q]), th = threshold[q];
          final float cTth = cT * th, cUb = cU * bq;
          final int j0 = q * grp, j1 = j0 + grp;
          surrogate.gradRow(U, o + j0, th, sig, j0, grp);
          for (int j = j0; j < j1; j++) {
            final float lun = luN[j], ut = U[o + j], st = S[o + j], sprev = Sp[pp + j], sgm = sig[j];
            final float dS = G[o + j] - dm * (cTth + cUb * ut + cJ * Jn[pn + j]) * lun;
            final float lu = dS * sgm + bq * (1f - cU * st) * lun;
            accT[j] += -sgm * dS - cT * sprev * lu;
            accB[j] += lu * Up[pp + j] * (1f - cU * sprev);
            luN[j] = lu;
            Gi[go + j] = lu * (1f - cJ * sprev);
          }
        }
      }
    }
    for (int q = 0; q < P; q++) {
      final int j0 = q * grp, j1 = j0 + grp;
      final float rawB = beta[q];
      if (dBeta != null && rawB >= 0f && rawB <= 1f) {
        double sum = 0;
        for (int j = j0; j < j1; j++) sum += accB[j];
        dBeta[q] += (float) sum;
      }
      if (dTh != null) {
        double sum = 0;
        for (int j = j0; j < j1; j++) sum += accT[j];
        dTh[q] += (float) sum;
      }
    }
  }
}
