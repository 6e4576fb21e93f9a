package chive.core.model;

import chive.core.kernel.FastExpF;
import chive.core.sim.NeuronGroup;

/**
 * Conductance-based leaky integrate-and-fire, conductances relative to the
 * leak (dimensionless), optionally with the adaptive threshold of Diehl &amp;
 * Cook 2015:
 * <pre>
 *   dv/dt  = (v_rest - v + ge·(e_e - v) + gi·(e_i - v) + r_m·i_ext) / tau_m   (unless refractory)
 *   dge/dt = -ge / tau_e,   dgi/dt = -gi / tau_i
 *   dtheta/dt = -theta / tau_theta                       (adaptive, unless theta is fixed)
 *   spike: v &gt; v_th + theta - theta_offset   (theta = 0 when not adaptive)
 *   reset: v = v_reset; theta += theta_plus (adaptive, unless fixed)
 * </pre>
 * v integrates by exponential Euler (conductances held over the step, then v
 * relaxes exactly towards its steady state) in float arithmetic, on SIMD lanes
 * when the Vector API is present ({@link #stepFloat} states the numerics), or,
 * with {@code method} = 1, by forward Euler for every variable in double
 * precision (as Diehl &amp; Cook's Brian 1 code integrated this nonlinear
 * system: v, and ge, gi, theta decaying by 1 - dt/tau per step; no exp per
 * neuron). Otherwise ge, gi and theta decay exactly; a very slow theta decays
 * every few steps (see {@code thetaEvery}).
 * Conductances decayed below {@link #G_FLUSH} become exactly 0.
 * {@code fix_theta} = 1 freezes theta (Diehl &amp; Cook's test phase).
 * {@code t_block} (&gt;= t_ref) blocks further spikes for that long after a
 * spike while v integrates again after t_ref: Diehl &amp; Cook's code requires
 * {@code timer > refrac_e} with dtimer/dt = 0.1, which blocks 50 ms.
 */
public final class CobaLif extends NeuronGroup {
  /**
   * Conductances (relative to the leak) smaller than this are flushed to 0
   * after their decay: over any number of steps they move v by less than a
   * millionth of a float ulp of a membrane potential in mV.
   */
  public static final float G_FLUSH = 1e-9f;
  private final boolean adaptive;
  private final float[] v, ge, gi, iext, theta;
  private double dtOverTm, ae, ai, atheta, vRest, ee, ei, vTh, vReset, rm, thetaPlus, thetaOffset;
  private boolean fixTheta;
  private boolean euler;
  /** exp(-dt/tau_m): the exponential Euler factor when ge = gi = 0. */
  private double expK;
  /** Theta's decay factor over {@link #thetaEvery} steps: exact, or forward Euler's (1 - dt/tau_theta)^thetaEvery. */
  private double aeEuler, aiEuler, athetaEuler;
  /**
   * Steps between theta decays, a power of two (1 unless tau_theta is very
   * slow). theta is a float: a decay by dt/tau_theta = 5e-8 per step (Diehl
   * &amp; Cook's 1e7 ms at dt 0.5 ms) is below half a float ulp of theta
   * for theta in [16, 19) mV and rounds to no decay at all, and to a full ulp
   * (about twice the true decay) in [19, 32). So theta decays once every
   * thetaEvery steps (at steps that are multiples of it, by that many steps'
   * factor): the smallest power of two whose decay reaches THETA_STEP_MIN
   * (2^-16, about 130 float ulps, so rounding errs by under 1 %), at most
   * THETA_EVERY_MAX steps (256: theta is then ahead of its exact decay by at
   * most 255 steps of it, 1.3e-5 relative).
   */
  private int thetaEvery = 1;
  static final double THETA_STEP_MIN = 0x1p-16;
  static final int THETA_EVERY_MAX = 256;
  /** Float forms of the exponential Euler constants, shared with {@link CobaVector}. */
  float aeF, aiF, negKF, vRestF, eeF, eiF, rmF, expKF, heldF;
  /** The spike threshold without theta, v_th (- theta_offset when adaptive), and the largest float not above it. */
  double vThEff;
  float vThLoF;
  /** Refractory counter value after a spike. */
  float refrF;
  private int refSteps;
  /** Steps a spike blocks further spikes (>= refSteps); v is held for the first refSteps of them. */
  private int blockSteps;

  public CobaLif(String name, int n, boolean adaptive) {
    super(name, n);
    this.adaptive = adaptive;
    addParam("tau_m", 20.0, "ms");
    addParam("tau_e", 5.0, "ms");
    addParam("tau_i", 10.0, "ms");
    addParam("v_rest", -60.0, "mV");
    addParam("e_e", 0.0, "mV");
    addParam("e_i", -80.0, "mV");
    addParam("v_th", -50.0, "mV");
    addParam("v_reset", -60.0, "mV");
    addParam("t_ref", 5.0, "ms");
    addParam("r_m", 1.0, "Mohm");
    if (adaptive) {
      addParam("theta_plus", 0.05, "mV");
      addParam("tau_theta", 1e7, "ms");
      addParam("theta_offset", 20.0, "mV");
      addParam("fix_theta", 0.0, "1");
    }
    addParam("method", 0.0, "1");
    addParam("t_block", 0.0, "ms");
    v = addVar("v", -60f);
    ge = addVar("ge", 0f);
    gi = addVar("gi", 0f);
    iext = addVar("i_ext", 0f);
    theta = adaptive ? addVar("theta", 20f) : null;
    unit("v", "mV");
    unit("ge", "1");
    unit("gi", "1");
    unit("i_ext", "nA");
    if (adaptive) unit("theta", "mV");
    holdWhileRefractory("v");
  }

  /** v is held for the first t_ref of the t_block after a spike. */
  @Override public float holdAbove() { return blockSteps - refSteps; }

  @Override public double costPerNeuronNs() { return VECTOR ? 3.0 : 8.0; }

  @Override public String model() { return adaptive ? "adaptive COBA LIF" : "COBA LIF"; }

  public boolean adaptive() { return adaptive; }

  @Override
  protected void configure() {
    dtOverTm = dt / positive("tau_m");
    expK = Math.exp(-dtOverTm * 1);
    ae = Math.exp(-dt / positive("tau_e"));
    ai = Math.exp(-dt / positive("tau_i"));
    vRest = param("v_rest");
    ee = param("e_e");
    ei = param("e_i");
    vTh = param("v_th");
    vReset = param("v_reset");
    rm = param("r_m");
    refSteps = steps(param("t_ref"));
    double m = param("method");
    if (m != 0 && m != 1) throw new chive.core.sim.ChiveException("group '" + name() + "': method must be 0 (exponential Euler) or 1 (forward Euler), got " + m);
    euler = m == 1;
    aeEuler = 1 - dt / positive("tau_e");
    aiEuler = 1 - dt / positive("tau_i");
    if (euler && (aeEuler < 0 || aiEuler < 0)) {
      throw new chive.core.sim.ChiveException("group '" + name() + "': forward Euler needs dt <= tau_e and tau_i, got dt " + dt
          + " ms with tau_e " + param("tau_e") + ", tau_i " + param("tau_i"));
    }
    blockSteps = Math.max(refSteps, steps(param("t_block")));
    aeF = (float) ae;
    aiF = (float) ai;
    negKF = (float) -dtOverTm;
    vRestF = (float) vRest;
    eeF = (float) ee;
    eiF = (float) ei;
    rmF = (float) rm;
    expKF = (float) expK;
    heldF = blockSteps - refSteps;
    if (adaptive) {
      double rate = dt / positive("tau_theta");
      int every = 1;
      while (every < THETA_EVERY_MAX && every * rate < THETA_STEP_MIN) every *= 2;
      thetaEvery = every;
      atheta = Math.exp(-every * rate);
      athetaEuler = Math.pow(1 - rate, every);
      thetaPlus = param("theta_plus");
      thetaOffset = param("theta_offset");
      fixTheta = param("fix_theta") != 0;
    }
    vThEff = vTh - (adaptive ? thetaOffset : 0);
    float lo = (float) vThEff;
    vThLoF = lo > vThEff ? Math.nextDown(lo) : lo;
    refrF = blockSteps;
  }

  /** True when the SIMD step ({@link CobaVector}) is used: {@link chive.core.kernel.Simd#ENABLED}. */
  public static final boolean VECTOR = chive.core.kernel.Simd.ENABLED;
  /** This group's use of the SIMD step (VECTOR; tests compare it with the scalar step on the same network). */
  boolean vector = VECTOR;

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    if (euler) return updateEuler(from, to, step, spikes);
    final float[] v = this.v, ge = this.ge, gi = this.gi, iext = this.iext, theta = this.theta, ref = refractory;
    if (adaptive && !fixTheta && step % thetaEvery == 0) {
      final double at = atheta;
      for (int i = from; i < to; i++) theta[i] = (float) (theta[i] * at);
    }
    // The SIMD step also finds the spikes of the neurons it steps (the same
    // test as below, in the same order); the rest are stepped and tested here.
    int count = 0, done = from;
    if (vector) {
      count = CobaVector.step(this, v, ge, gi, iext, ref, theta, from, to, spikes);
      done = from + (to - from) / CobaVector.LANES * CobaVector.LANES;
    }
    stepFloat(done, to);
    // Spikes: not refractory (the counter just counted down to 0) and above threshold.
    final double vTh = vThEff;
    final float refr = refrF;
    for (int i = done; i < to; i++) {
      if (ref[i] == 0f && v[i] > vTh + (adaptive ? theta[i] : 0)) {
        spikes[count++] = i;
        ref[i] = refr;
      }
    }
    return count;
  }

  /**
   * The exponential Euler step of neurons [from, to) in float arithmetic, in
   * the operation order of {@link CobaVector}, lane for lane: both give the
   * same bits (CobaVectorTest). Conductances are held over the step and v
   * relaxes exactly towards v_inf = (v_rest + ge·e_e + gi·e_i + r_m·i_ext) /
   * (1 + ge + gi) with rate (1 + ge + gi)/tau_m; the exponential is
   * exp(-dt/tau_m)·{@link FastExpF#exp}(-dt/tau_m·(ge + gi)) (2.5e-7 relative).
   * Every operation rounds to float: against the same step in double
   * precision v differs by a few float ulps per step (ModelTest states the
   * bound). Refractory counters count down; v is held while above
   * {@link #holdAbove()}.
   */
  final void stepFloat(int from, int to) {
    final float[] v = this.v, ge = this.ge, gi = this.gi, iext = this.iext, ref = refractory;
    final float ae = aeF, ai = aiF, negK = negKF, vRest = vRestF, ee = eeF, ei = eiF, rm = rmF, expK = expKF, held = heldF;
    for (int i = from; i < to; i++) {
      float e = ge[i], g = gi[i];
      // Conductances below G_FLUSH become 0: they move v by far less than a
      // float ulp, and decaying into subnormal floats costs a microcode assist
      // per load on x86.
      float ne = e * ae, ng = g * ai;
      ge[i] = Math.abs(ne) < G_FLUSH ? 0f : ne;
      gi[i] = Math.abs(ng) < G_FLUSH ? 0f : ng;
      float c = Math.max(ref[i] - 1f, 0f);
      ref[i] = c;
      float vi = v[i];
      float gs = e + g;
      float num = e * ee + vRest + g * ei + iext[i] * rm;
      float vinf = num / (gs + 1f);
      float f = FastExpF.exp(gs * negK) * expK;
      float vn = (vi - vinf) * f + vinf;
      v[i] = c > held ? vi : vn;
    }
  }

  /** Method 1: forward Euler for every variable, in double precision (Diehl &amp; Cook's Brian 1 code). */
  private int updateEuler(int from, int to, long step, int[] spikes) {
    final float[] v = this.v, ge = this.ge, gi = this.gi, iext = this.iext, theta = this.theta;
    final float[] ref = refractory;
    final double k = dtOverTm, vRest = this.vRest, ee = this.ee, ei = this.ei;
    final double ae = aeEuler, ai = aiEuler;
    final double vTh = this.vTh - (adaptive ? thetaOffset : 0), rm = this.rm;
    final boolean decayTheta = adaptive && !fixTheta && step % thetaEvery == 0;
    final double at = athetaEuler;
    final float refr = blockSteps;
    final float held = blockSteps - refSteps;
    int count = 0;
    for (int i = from; i < to; i++) {
      double e = ge[i], g = gi[i];
      float ne = (float) (e * ae), ng = (float) (g * ai);
      ge[i] = Math.abs(ne) < G_FLUSH ? 0f : ne;
      gi[i] = Math.abs(ng) < G_FLUSH ? 0f : ng;
      double th = 0;
      if (adaptive) {
        th = theta[i];
        if (decayTheta) theta[i] = (float) (th *= at);
      }
      float c = Math.max(ref[i] - 1f, 0f);
      ref[i] = c;
      if (c > held) {
        continue;
      }
      double vi = v[i];
      double vn = vi + k * ((vRest - vi) + e * (ee - vi) + g * (ei - vi) + rm * iext[i]);
      v[i] = (float) vn;
      if (c == 0f && vn > vTh + th) {
        spikes[count++] = i;
        ref[i] = refr;
      }
    }
    return count;
  }

  /** Theta decays (steps that are multiples of thetaEvery) in [step, step + n). */
  private long thetaDecays(long step, long n) {
    return Math.floorDiv(step + n - 1, (long) thetaEvery) - Math.floorDiv(step - 1, (long) thetaEvery);
  }

  /** theta's decay factor over steps [step, step + n), 1 when it is fixed. */
  private double thetaFactor(long step, long n) {
    if (!adaptive || fixTheta) return 1;
    return Math.pow(euler ? athetaEuler : atheta, thetaDecays(step, n));
  }

  /**
   * Quiet when no conductance is left (both flushed to 0), no neuron is
   * refractory, and v, relaxing monotonically from its value towards
   * v_inf = v_rest + r_m·i_ext, stays at or below the threshold at its
   * lowest over the n steps (theta decays towards 0).
   */
  @Override
  protected boolean quietFor(long step, long n) {
    final float[] v = this.v, ge = this.ge, gi = this.gi, iext = this.iext, theta = this.theta, ref = refractory;
    final double vTh = this.vTh - (adaptive ? thetaOffset : 0), tf = thetaFactor(step, n);
    for (int i = 0; i < this.n; i++) {
      if (ge[i] != 0 || gi[i] != 0 || ref[i] != 0) return false;
      double th = adaptive ? Math.min(theta[i], theta[i] * tf) : 0;
      double vinf = vRest + rm * iext[i];
      if (Math.max(v[i], vinf) > vTh + th) return false;
    }
    return true;
  }

  /**
   * n quiet steps in closed form (ge = gi = 0 throughout):
   * v = v_inf + (v - v_inf)·q^n with q = exp(-dt/tau_m) (method 0) or
   * 1 - dt/tau_m (method 1, forward Euler), and theta multiplied by its
   * factor once per decay step in the window. In double precision, rounded
   * once to float: stepping rounds every step, so the two differ by a few float
   * ulps of v (ModelTest states the bound).
   */
  @Override
  protected void advanceQuiet(long step, long n) {
    final float[] v = this.v, iext = this.iext, theta = this.theta;
    final double q = Math.pow(euler ? 1 - dtOverTm : expK, n);
    for (int i = 0; i < this.n; i++) {
      double vinf = vRest + rm * iext[i];
      v[i] = (float) (vinf + (v[i] - vinf) * q);
    }
    if (adaptive && !fixTheta) {
      final double tf = thetaFactor(step, n);
      for (int i = 0; i < this.n; i++) theta[i] = (float) (theta[i] * tf);
    }
  }

  @Override
  protected void reset(int[] spikes, int count) {
    final float r = (float) vReset;
    final boolean grow = adaptive && !fixTheta;
    final float tp = (float) thetaPlus;
    for (int k = 0; k < count; k++) {
      int i = spikes[k];
      v[i] = r;
      if (grow) theta[i] += tp;
    }
  }
}
