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
 *
 * <p>Recurrent (spiking kinds, vector input): the input of step t gets the
 * previous step's spikes through an n × n matrix V (row i: out of neuron i),
 * X'_t = X_t + S_{t-1}·V, a trainable parameter (snnTorch's RLeaky with
 * all-to-all feedback, a NIR neuron with a Linear loop); backpropagation
 * through time carries the gradient of X'_t back to S_{t-1} (through the
 * surrogate) and into V.
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
  public final boolean recurrent;
  private final double beta0, alpha0, threshold0;
  /** Recurrent weights n × n (row i: out of neuron i), or null. */
  private float[] v;
  /** A constant drive of the membrane per neuron for current-based neurons (J = I + drive), or null. */
  private float[] drive;
  /** Per-neuron/channel/layer values (length set at bind). */
  private float[] beta, alpha, threshold;
  private int n, group;

  public Neuron(Kind type, double beta, boolean currentBased, double alpha, double threshold, Layer.Reset reset,
                boolean detachReset, Surrogate surrogate, Per per, boolean learnBeta, boolean learnAlpha, boolean learnThreshold) {
    this(type, beta, currentBased, alpha, threshold, reset, detachReset, surrogate, per, learnBeta, learnAlpha, learnThreshold, false);
  }

  public Neuron(Kind type, double beta, boolean currentBased, double alpha, double threshold, Layer.Reset reset,
                boolean detachReset, Surrogate surrogate, Per per, boolean learnBeta, boolean learnAlpha, boolean learnThreshold,
                boolean recurrent) {
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
    if (recurrent && !sp) throw new ChiveException(type + " is a readout; only spiking neurons (LIF, IF) can be recurrent");
    this.recurrent = recurrent;
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
    if (recurrent) {
      if (in.length != 1) throw new ChiveException("recurrent neurons take a vector of units, got shape " + java.util.Arrays.toString(in) + " (flatten first)");
      if ((long) n * n > Integer.MAX_VALUE / 2) throw new ChiveException("recurrent neurons: " + n + " x " + n + " weights is too many");
      if (v == null || v.length != n * n) v = new float[n * n];
    }
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
  /** The live recurrent weights (n × n, row i: out of neuron i), or null. */
  public float[] recurrentWeights() { return v; }

  /** Recurrent weights uniform in ±1/sqrt(n) (PyTorch's RNN default); nothing without recurrence. */
  public void initRecurrent(java.util.SplittableRandom rng) {
    if (v != null) Init.uniform(v, 1 / Math.sqrt(n), rng);
  }

  /**
   * Sets a constant drive of the membrane per neuron, added to the synaptic
   * current each step (J_t = I_t + drive: a leak towards a potential other
   * than the reset, as NIR's CubaLIF with v_leak != v_reset has); current-based
   * neurons only (the others take a constant drive as a bias of the stage
   * before). Not trained; kept as a buffer (checkpoints save it).
   */
  public void setDrive(float[] d) {
    if (!currentBased) throw new ChiveException(type + " neurons without a synaptic current take a drive as the bias of the stage before");
    if (d == null) { drive = null; return; }
    if (d.length != n) throw new ChiveException("neuron drive: " + d.length + " values for " + n + " neurons");
    drive = d.clone();
  }

  public float[] drive() { return drive; }

  @Override public float[][] buffers() { return drive == null ? new float[0][] : new float[][] {drive}; }
  @Override public String[] bufferNames() { return drive == null ? new String[0] : new String[] {"drive"}; }

  @Override
  public float[][] params() {
    java.util.List<float[]> p = new java.util.ArrayList<>();
    if (learnBeta) p.add(beta);
    if (learnAlpha) p.add(alpha);
    if (learnThreshold) p.add(threshold);
    if (recurrent) p.add(v);
    return p.toArray(new float[0][]);
  }

  @Override
  public String[] paramNames() {
    java.util.List<String> p = new java.util.ArrayList<>();
    if (learnBeta) p.add("beta");
    if (learnAlpha) p.add("alpha");
    if (learnThreshold) p.add("threshold");
    if (recurrent) p.add("v");
    return p.toArray(new String[0]);
  }

  @Override
  public int[][] paramShapes() {
    int[][] s = new int[params().length][];
    for (int i = 0; i < s.length; i++) s[i] = new int[] {beta.length};
    if (recurrent) s[s.length - 1] = new int[] {n, n};
    return s;
  }

  static final class NCtx extends Ctx {
    int rows;
    float[] u, s, i, x;
    /** Recurrent: the input with the feedback added (rows × n), and backward's rows (n each). */
    float[] xr, gr, dx;
    /** With a drive: J = I + drive (rows × n). */
    float[] jd;
    int[] evPtr, evIdx;
    /** Backward scratch (length n): surrogate row, per-unit β and θ gradient sums, zeros, a sink for gIn. */
    float[] sig, accB, accT, zero, sink;
    /** Backward's carried gradients of U and I (length n). */
    float[] luN, liN;
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
    // The buffers only grow (every row used is written below): groups of
    // other sizes (an evaluation's, a last batch's) do not reallocate them
    // call after call.
    if (c.u == null || c.u.length < rows * n) {
      c.u = new float[rows * n];
      c.s = spiking() ? new float[rows * n] : null;
      c.i = currentBased ? new float[rows * n] : null;
    }
    if (c.evPtr == null || c.rows != rows) c.evPtr = new int[rows + 1];
    c.rows = rows;
    final float[] X0 = in.values(), U = c.u, S = c.s, I = c.i;
    if (recurrent) c.xr = grow(c.xr, rows * n);
    final float[] X = recurrent ? c.xr : X0, V = v, D = drive;
    if (D != null) c.jd = grow(c.jd, rows * n);
    final float[] JD = c.jd;
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
        if (recurrent) {
          // X'_t = X_t + S_{t-1}·V, row by row of the spikes (most are 0)
          System.arraycopy(X0, o, X, o, n);
          if (!first) {
            for (int i = 0; i < n; i++) {
              final float si = S[p + i];
              if (si == 0f) continue;
              final int r = i * n;
              for (int j = 0; j < n; j++) X[o + j] += si * V[r + j];
            }
          }
        }
        for (int q = 0; q < P; q++) {
          final float bq = clamp01(beta[q]), aq = clamp01(alpha[q]), th = threshold[q];
          final int j0 = q * grp, j1 = j0 + grp;
          if (I != null) {
            if (first) System.arraycopy(X, o + j0, I, o + j0, grp);
            else for (int j = j0; j < j1; j++) I[o + j] = aq * I[p + j] + X[o + j];
            if (D != null) for (int j = j0; j < j1; j++) JD[o + j] = I[o + j] + D[j];
          }
          final float[] J = I != null ? (D != null ? JD : I) : X;
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
    final float[] J = I != null ? (drive != null ? c.jd : I) : X;
    final boolean sp = spiking(), detach = detachReset;
    final Surrogate sg = surrogate;
    final float cU = cU(), cJ = cJ(), cT = cT();
    int k = 0;
    final float[] dBeta = learnBeta ? grads[k++] : null, dAlpha = learnAlpha ? grads[k++] : null, dTh = learnThreshold ? grads[k++] : null;
    final float[] dV = recurrent ? grads[k++] : null;
    if (c.luN == null || c.luN.length != n) {
      c.luN = new float[n];
      c.liN = new float[n];
    }
    final float[] luN = c.luN, liN = c.liN;
    if (recurrent && (c.gr == null || c.gr.length != n)) {
      c.gr = new float[n];
      c.dx = new float[n];
    }
    final float[] gr = c.gr, dx = c.dx;
    if (sp && I == null) {
      backwardSpiking(c, G, gIn, samples, T, luN, dBeta, dTh, dV);
      return;
    }
    for (int b = 0; b < samples; b++) {
      java.util.Arrays.fill(luN, 0f);
      java.util.Arrays.fill(liN, 0f);
      if (gr != null) java.util.Arrays.fill(gr, 0f);
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
              final float dS = G[o + j] + (gr != null ? gr[j] : 0f) + (detach ? 0f : dNextdS * lun);
              final float sig = (float) sg.grad(ut - th);
              lu = dS * sig + dNextdU * lun;
              dT += -sig * dS - cT * sprev * lu;
              dJ = lu * (1f - cJ * sprev);
              dBetaTerm = lu * up * (1f - cU * sprev);
            }
            dB += dBetaTerm;
            luN[j] = lu;
            final float dxj;
            if (I != null) {
              float li = dJ + aq * liN[j];
              if (!first) dA += li * I[p + j];
              liN[j] = li;
              dxj = li;
            } else dxj = dJ;
            if (gIn != null) gIn[o + j] = dxj;
            if (dx != null) dx[j] = dxj;
          }
          if (dBeta != null && rawB >= 0f && rawB <= 1f) dBeta[q] += (float) dB;
          if (dAlpha != null && rawA >= 0f && rawA <= 1f) dAlpha[q] += (float) dA;
          if (dTh != null) dTh[q] += (float) dT;
        }
        if (recurrent) recurrentBackward(S, p, first, dx, 0, gr, dV);
      }
    }
  }

  /**
   * For the recurrent input X'_t = X_t + S_{t-1}·V, given the gradient dx of
   * X'_t (row at dxOff): dV += S_{t-1}ᵀ·dx, and gr = dx·Vᵀ, the gradient that
   * reaches S_{t-1} (used when step t-1 is processed next). At t = 0 there
   * is no previous step (gr = 0).
   */
  private void recurrentBackward(float[] S, int p, boolean first, float[] dx, int dxOff, float[] gr, float[] dV) {
    final int n = this.n;
    final float[] V = v;
    if (first) {
      java.util.Arrays.fill(gr, 0f);
      return;
    }
    for (int i = 0; i < n; i++) {
      final int r = i * n;
      float acc = 0f;
      for (int j = 0; j < n; j++) acc += V[r + j] * dx[dxOff + j];
      gr[i] = acc;
      final float si = S[p + i];
      if (si != 0f && dV != null) for (int j = 0; j < n; j++) dV[r + j] += si * dx[dxOff + j];
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
  private void backwardSpiking(NCtx c, float[] G, float[] gIn, int samples, int T, float[] luN, float[] dBeta, float[] dTh, float[] dV) {
    final int n = this.n, grp = group, P = beta.length;
    final float[] U = c.u, S = c.s, X = c.x, gr = recurrent ? c.gr : null;
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
    final boolean softDetached = reset == Layer.Reset.SOFT && detachReset && gr == null;
    final float sh = surrogate.rationalScale(), sq = (float) surrogate.p;
    final boolean rational = !Float.isNaN(sh);
    for (int b = 0; b < samples; b++) {
      java.util.Arrays.fill(luN, 0f);
      if (gr != null) java.util.Arrays.fill(gr, 0f);
      for (int t = T - 1; t >= 0; t--) {
        final int o = (b * T + t) * n;
        final boolean first = t == 0, last = t == T - 1;
        final float[] Up = first ? zero : U, Sp = first ? zero : S, Jn = last ? zero : X, Gi = gIn != null ? gIn : c.sink;
        final float[] Gr = gr != null ? gr : zero;
        final int pp = first ? 0 : o - n, pn = last ? 0 : o + n, go = gIn != null ? o : 0;
        for (int q = 0; q < P; q++) {
          final float bq = clamp01(beta[q]), th = threshold[q];
          final float cTth = cT * th, cUb = cU * bq;
          final int j0 = q * grp, j1 = j0 + grp;
          if (softDetached) {
            // The same recursion with cU = cJ = 0, cT = 1, the reset detached
            // and no feedback: dS = G, and the terms that vanish are not
            // read (U_t's row only for the surrogate, no S_t, X_{t+1}, Gr),
            // the surrogate inlined where it is the rational kind.
            if (rational) {
              for (int j = j0; j < j1; j++) {
                final float d = sq * Math.abs(U[o + j] - th) + 1f, sgm = sh / (d * d);
                final float dS = G[o + j], sprev = Sp[pp + j];
                final float lu = dS * sgm + bq * luN[j];
                accT[j] += -sgm * dS - sprev * lu;
                accB[j] += lu * Up[pp + j];
                luN[j] = lu;
                Gi[go + j] = lu;
              }
            } else {
              surrogate.gradRow(U, o + j0, th, sig, j0, grp);
              for (int j = j0; j < j1; j++) {
                final float sgm = sig[j], dS = G[o + j], sprev = Sp[pp + j];
                final float lu = dS * sgm + bq * luN[j];
                accT[j] += -sgm * dS - sprev * lu;
                accB[j] += lu * Up[pp + j];
                luN[j] = lu;
                Gi[go + j] = lu;
              }
            }
            continue;
          }
          surrogate.gradRow(U, o + j0, th, sig, j0, grp);
          for (int j = j0; j < j1; j++) {
            final float lun = luN[j], ut = U[o + j], st = S[o + j], sprev = Sp[pp + j], sgm = sig[j];
            final float dS = G[o + j] + Gr[j] - dm * (cTth + cUb * ut + cJ * Jn[pn + j]) * lun;
            final float lu = dS * sgm + bq * (1f - cU * st) * lun;
            accT[j] += -sgm * dS - cT * sprev * lu;
            accB[j] += lu * Up[pp + j] * (1f - cU * sprev);
            luN[j] = lu;
            Gi[go + j] = lu * (1f - cJ * sprev);
          }
        }
        if (gr != null) recurrentBackward(S, o - n, first, Gi, go, gr, dV);
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
