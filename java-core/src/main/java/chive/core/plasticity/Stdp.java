package chive.core.plasticity;

import chive.core.model.FastMath;
import chive.core.sim.ChiveException;
import chive.core.sim.NeuronGroup;
import chive.core.sim.Plasticity;
import chive.core.sim.Projection;

/**
 * Trace-based spike-timing-dependent plasticity on a projection's weights.
 *
 * <p>Each pre neuron i keeps a trace x_i (time constant tau_pre) and each post
 * neuron j a trace y_j (tau_post), plus for the Diehl &amp; Cook rule a second
 * post trace z_j (tau_post2). Traces decay exactly every step; on a spike they
 * are incremented by 1 ({@code nearest} false: all-to-all pairing) or set to 1
 * (nearest spike, as Diehl &amp; Cook's code). Within a step, pre spikes are
 * handled before post spikes (Brian2's pathway order), and weights stay in
 * [w_min, w_max]:
 * <pre>
 *   ADDITIVE        pre spike:  w -= a_minus · y_j          post spike: w += a_plus · x_i
 *   MULTIPLICATIVE  pre spike:  w -= a_minus · w · y_j      post spike: w += a_plus · (w_max - w) · x_i
 *   DIEHL_COOK      pre spike:  w -= nu_pre · y_j           post spike: w += nu_post · x_i · z_j(before the spike)
 * </pre>
 * (for DIEHL_COOK, a_minus is nu_pre, a_plus nu_post, y the post1 and z the
 * post2 trace). A pair with post after pre by Δt &gt; 0 changes an additive
 * weight by a_plus·exp(-Δt/tau_pre), with pre after post by a_minus·exp(-Δt/tau_post)
 * the other way. Pre spikes act at emission; projection delays do not shift
 * the learning window. {@link #setLearning} switches weight changes off (the
 * traces still run) between runs.
 */
public final class Stdp implements LearningRule {
  public enum Rule { ADDITIVE, MULTIPLICATIVE, DIEHL_COOK }

  private final Rule rule;
  private final double tauPre, tauPost, tauPost2, aPlus, aMinus, wMin, wMax;
  private final boolean nearest;
  private volatile boolean learning = true;
  private Projection proj;
  private float[] x, y, z;
  private int[] colPtr, colSyn, preOfSyn;
  /** The projection's rows hold consecutive posts (Connectivity#contiguousRows). */
  private boolean contiguous;
  private float dx, dy, dz;

  public Stdp(Rule rule, double tauPreMs, double tauPostMs, double tauPost2Ms,
              double aPlus, double aMinus, double wMin, double wMax, boolean nearest) {
    if (!(tauPreMs > 0) || !(tauPostMs > 0) || (rule == Rule.DIEHL_COOK && !(tauPost2Ms > 0))) {
      throw new ChiveException("STDP time constants must be > 0 ms, got tau_pre " + tauPreMs + ", tau_post " + tauPostMs
          + (rule == Rule.DIEHL_COOK ? ", tau_post2 " + tauPost2Ms : ""));
    }
    if (!(wMax >= wMin)) throw new ChiveException("STDP needs w_min <= w_max, got " + wMin + " and " + wMax);
    for (double a : new double[] {aPlus, aMinus}) {
      if (!Double.isFinite(a)) throw new ChiveException("STDP amplitudes must be finite, got " + a);
    }
    this.rule = rule;
    this.tauPre = tauPreMs;
    this.tauPost = tauPostMs;
    this.tauPost2 = tauPost2Ms;
    this.aPlus = aPlus;
    this.aMinus = aMinus;
    this.wMin = wMin;
    this.wMax = wMax;
    this.nearest = nearest;
  }

  /** Pair STDP with all-to-all pairing. */
  public static Stdp pair(boolean multiplicative, double tauPreMs, double tauPostMs,
                          double aPlus, double aMinus, double wMin, double wMax) {
    return new Stdp(multiplicative ? Rule.MULTIPLICATIVE : Rule.ADDITIVE, tauPreMs, tauPostMs, 0, aPlus, aMinus, wMin, wMax, false);
  }

  /** Diehl &amp; Cook 2015's rule with their constants' roles (traces set to 1 on spikes). */
  public static Stdp diehlCook(double tauPreMs, double tauPost1Ms, double tauPost2Ms, double nuPre, double nuPost, double wMax) {
    return new Stdp(Rule.DIEHL_COOK, tauPreMs, tauPost1Ms, tauPost2Ms, nuPost, nuPre, 0, wMax, true);
  }

  public Rule rule() { return rule; }
  /** {tau_pre, tau_post, tau_post2, a_plus, a_minus, w_min, w_max} as constructed. */
  public double[] params() { return new double[] {tauPre, tauPost, tauPost2, aPlus, aMinus, wMin, wMax}; }
  public boolean nearest() { return nearest; }
  @Override public boolean learning() { return learning; }
  /** Weight changes on (true) or off; takes effect at the next step. */
  @Override public void setLearning(boolean on) {
    if (proj != null) proj.checkIdle("switch learning of projection '" + proj.name() + "'");
    learning = on;
  }
  /** Live trace arrays: pre (x), post (y), second post (z, Diehl &amp; Cook; else null). */
  public float[] preTrace() { return x; }
  public float[] postTrace() { return y; }
  public float[] postTrace2() { return z; }

  /**
   * The rule and its constants in the core's units: "rule" (ADDITIVE,
   * MULTIPLICATIVE, DIEHL_COOK), "tau_pre", "tau_post", "tau_post2", "a_plus",
   * "a_minus", "w_min", "w_max" (as {@link #params}), "nearest", "learning".
   */
  @Override
  public java.util.Map<String, Object> config() {
    return chive.core.sim.State.map("rule", rule.name(), "tau_pre", tauPre, "tau_post", tauPost, "tau_post2", tauPost2,
        "a_plus", aPlus, "a_minus", aMinus, "w_min", wMin, "w_max", wMax, "nearest", nearest, "learning", learning);
  }

  /** The rule from {@link #config}: every key present, with the right type. */
  public static Stdp fromConfig(java.util.Map<String, ?> c) {
    java.util.function.Function<String, Object> get = k -> {
      if (!c.containsKey(k)) throw new ChiveException("STDP config lacks \"" + k + "\"; it has " + c.keySet());
      return c.get(k);
    };
    java.util.function.Function<String, Double> num = k -> {
      Object v = get.apply(k);
      if (!(v instanceof Number)) throw new ChiveException("STDP config \"" + k + "\" must be a number, got " + v);
      return ((Number) v).doubleValue();
    };
    java.util.function.Function<String, Boolean> bool = k -> {
      Object v = get.apply(k);
      if (!(v instanceof Boolean)) throw new ChiveException("STDP config \"" + k + "\" must be true or false, got " + v);
      return (Boolean) v;
    };
    Object r = get.apply("rule");
    Rule rule;
    try {
      rule = Rule.valueOf(String.valueOf(r));
    } catch (IllegalArgumentException e) {
      throw new ChiveException("STDP config \"rule\" must be one of " + java.util.Arrays.toString(Rule.values()) + ", got " + r);
    }
    Stdp s = new Stdp(rule, num.apply("tau_pre"), num.apply("tau_post"), num.apply("tau_post2"), num.apply("a_plus"),
        num.apply("a_minus"), num.apply("w_min"), num.apply("w_max"), bool.apply("nearest"));
    s.learning = bool.apply("learning");
    return s;
  }

  /** "trace_pre", "trace_post" and, for Diehl &amp; Cook, "trace_post2" (live; empty before the rule is attached). */
  @Override
  public java.util.Map<String, Object> arrays() {
    java.util.Map<String, Object> m = chive.core.sim.State.map("trace_pre", x == null ? new float[0] : x,
        "trace_post", y == null ? new float[0] : y);
    if (rule == Rule.DIEHL_COOK) m.put("trace_post2", z == null ? new float[0] : z);
    return m;
  }

  @Override
  public void restore(java.util.Map<String, Object> saved) {
    if (proj != null) proj.checkIdle("restore the learning rule of projection '" + proj.name() + "'");
    chive.core.sim.State.restoreLive("STDP rule" + (proj == null ? "" : " of " + proj), arrays(), saved);
  }

  @Override
  public void attach(Projection p) {
    if (proj != null && proj != p) throw new ChiveException("an STDP rule belongs to one projection; make a new one for " + p);
    proj = p;
    x = new float[p.pre().size()];
    y = new float[p.post().size()];
    z = rule == Rule.DIEHL_COOK ? new float[p.post().size()] : null;
    int[][] pi = p.connectivity().postIndex();
    colPtr = pi[0];
    colSyn = pi[1];
    preOfSyn = p.connectivity().pre();
    contiguous = p.connectivity().contiguousRows();
  }

  @Override
  public void bind(double dt) {
    // exp(-(1/tau)·dt): the form chive.model/defsynapse generates for a decay dx/dt = -x/tau.
    dx = (float) Math.exp(-(1.0 / tauPre) * dt);
    dy = (float) Math.exp(-(1.0 / tauPost) * dt);
    dz = rule == Rule.DIEHL_COOK ? (float) Math.exp(-(1.0 / tauPost2) * dt) : 0f;
  }

  @Override
  public void preStep(long step, int part) {
    NeuronGroup pre = proj.pre();
    final float[] x = this.x;
    final float d = dx;
    for (int i = pre.partitionFrom(part), to = pre.partitionTo(part); i < to; i++) x[i] *= d;
    if (step % FastMath.FLUSH_EVERY == 0) FastMath.flushSubnormal(x, pre.partitionFrom(part), pre.partitionTo(part));
    int[] sp = pre.partitionSpikes(part);
    for (int k = 0, c = pre.partitionSpikeCount(part); k < c; k++) {
      int i = sp[k];
      x[i] = nearest ? 1f : x[i] + 1f;
    }
  }

  /** Without spikes the weights stay and the traces decay exponentially: always a closed form. */
  @Override
  public boolean quietFor(long step, long n) { return proj != null; }

  /**
   * n steps without spikes: every trace multiplied by its per-step factor to
   * the n-th power (in double, rounded once to float; stepping rounds every
   * step), then subnormals flushed as the stepped decay does.
   */
  @Override
  public void advanceQuiet(long step, long n) {
    decay(x, Math.pow(dx, n));
    decay(y, Math.pow(dy, n));
    if (z != null) decay(z, Math.pow(dz, n));
  }

  private static void decay(float[] a, double f) {
    for (int i = 0; i < a.length; i++) a[i] = (float) (a[i] * f);
    FastMath.flushSubnormal(a, 0, a.length);
  }

  @Override
  public void postStep(long step, int part) {
    NeuronGroup post = proj.post(), pre = proj.pre();
    final int from = post.partitionFrom(part), to = post.partitionTo(part);
    final float[] w = proj.weights(), x = this.x, y = this.y, z = this.z;
    for (int j = from; j < to; j++) y[j] *= dy;
    if (z != null) for (int j = from; j < to; j++) z[j] *= dz;
    if (step % FastMath.FLUSH_EVERY == 0) {
      FastMath.flushSubnormal(y, from, to);
      if (z != null) FastMath.flushSubnormal(z, from, to);
    }
    final boolean learn = learning;
    final float lo = (float) wMin, hi = (float) wMax, am = (float) aMinus, ap = (float) aPlus;
    if (learn) {
      // Pre spikes (all partitions of the pre group, ascending) onto posts in [from, to): depression.
      final int[] rowPtr = proj.rowPtr(), col = proj.postIndex();
      if (contiguous && rule != Rule.MULTIPLICATIVE) {
        // Rows of consecutive posts (all-to-all input, as in Diehl & Cook): the
        // loop below without reading col, on SIMD lanes (RowOps).
        for (int q = 0, parts = pre.partitions(); q < parts; q++) {
          int[] sp = pre.partitionSpikes(q);
          for (int k = 0, c = pre.partitionSpikeCount(q); k < c; k++) {
            int i = sp[k];
            int a = rowPtr[i], b = rowPtr[i + 1];
            if (a == b) continue;
            int off = a - col[a];
            chive.core.kernel.RowOps.depress(w, off, y, am, lo, hi, Math.max(col[a], from), Math.min(col[a] + (b - a), to));
          }
        }
      } else {
        for (int q = 0, parts = pre.partitions(); q < parts; q++) {
          int[] sp = pre.partitionSpikes(q);
          for (int k = 0, c = pre.partitionSpikeCount(q); k < c; k++) {
            int i = sp[k];
            int a = lowerBound(col, rowPtr[i], rowPtr[i + 1], from);
            for (int s = a, b = rowPtr[i + 1]; s < b; s++) {
              int j = col[s];
              if (j >= to) break;
              float nw = rule == Rule.MULTIPLICATIVE ? w[s] - am * w[s] * y[j] : w[s] - am * y[j];
              w[s] = Math.min(hi, Math.max(lo, nw));
            }
          }
        }
      }
      // Post spikes in this partition: potentiation of their incoming synapses.
      int[] sp = post.partitionSpikes(part);
      for (int k = 0, c = post.partitionSpikeCount(part); k < c; k++) {
        int j = sp[k];
        float zj = z != null ? z[j] : 0f;
        for (int t = colPtr[j], e = colPtr[j + 1]; t < e; t++) {
          int s = colSyn[t];
          float xi = x[preOfSyn[s]];
          float nw;
          switch (rule) {
            case MULTIPLICATIVE: nw = w[s] + ap * (hi - w[s]) * xi; break;
            case DIEHL_COOK: nw = w[s] + ap * xi * zj; break;
            default: nw = w[s] + ap * xi;
          }
          w[s] = Math.min(hi, Math.max(lo, nw));
        }
      }
    }
    int[] sp = post.partitionSpikes(part);
    for (int k = 0, c = post.partitionSpikeCount(part); k < c; k++) {
      int j = sp[k];
      y[j] = nearest ? 1f : y[j] + 1f;
      if (z != null) z[j] = nearest ? 1f : z[j] + 1f;
    }
  }

  private static int lowerBound(int[] col, int a, int b, int key) {
    int lo = a, hi = b;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (col[mid] < key) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  @Override
  public long bytes() {
    long b = 4L * (x == null ? 0 : x.length + y.length + (z == null ? 0 : z.length));
    if (colSyn != null) b += 4L * (colPtr.length + colSyn.length + preOfSyn.length);
    return b;
  }
}
