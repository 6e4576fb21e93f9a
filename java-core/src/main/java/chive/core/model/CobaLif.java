package chive.core.model;

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
 * relaxes exactly towards its steady state) or, with {@code method} = 1, by
 * forward Euler for every variable (as Diehl &amp; Cook's Brian 1 code
 * integrated this nonlinear system: v, and ge, gi, theta decaying by
 * 1 - dt/tau per step; no exp per neuron). Otherwise ge, gi and theta decay
 * exactly.
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
  private double aeEuler, aiEuler, athetaEuler;
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

  @Override public double costPerNeuronNs() { return 8.0; }

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
    if (adaptive) {
      atheta = Math.exp(-dt / positive("tau_theta"));
      athetaEuler = 1 - dt / positive("tau_theta");
      thetaPlus = param("theta_plus");
      thetaOffset = param("theta_offset");
      fixTheta = param("fix_theta") != 0;
    }
  }

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    final float[] v = this.v, ge = this.ge, gi = this.gi, iext = this.iext, theta = this.theta;
    final float[] ref = refractory;
    final double k = dtOverTm, vRest = this.vRest, ee = this.ee, ei = this.ei, expK = this.expK;
    // Decay factors per step: exact, or forward Euler's 1 - dt/tau (method 1).
    final double ae = euler ? aeEuler : this.ae, ai = euler ? aiEuler : this.ai;
    final double vTh = this.vTh - (adaptive ? thetaOffset : 0), rm = this.rm;
    final boolean decayTheta = adaptive && !fixTheta;
    final double at = euler ? athetaEuler : atheta;
    final float refr = blockSteps;
    // Held while the counter, after counting down, is above blockSteps - refSteps.
    final float held = blockSteps - refSteps;
    int count = 0;
    for (int i = from; i < to; i++) {
      double e = ge[i], g = gi[i];
      // Conductances below G_FLUSH are set to 0: they move v by far less than
      // a float ulp, and letting them decay into subnormal floats costs a
      // microcode assist per load on x86 (it was half of this loop's time).
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
      double vi = v[i], vn;
      if (euler) {
        vn = vi + k * ((vRest - vi) + e * (ee - vi) + g * (ei - vi) + rm * iext[i]);
      } else if (e == 0 && g == 0) {
        // No synaptic conductance (common once inputs have decayed): the same
        // expression with gtot = 1, whose exp is precomputed.
        double vinf = vRest + rm * iext[i];
        vn = vinf + (vi - vinf) * expK;
      } else {
        // exp(-k·gtot) = exp(-k)·exp(-k·(e + g)); the second factor by a
        // polynomial (FastMath.expNeg, 1e-10 relative) in the usual range.
        double gtot = 1 + e + g;
        double vinf = (vRest + e * ee + g * ei + rm * iext[i]) / gtot;
        vn = vinf + (vi - vinf) * (expK * FastMath.expNeg(k * (e + g)));
      }
      v[i] = (float) vn;
      if (c == 0f && vn > vTh + th) {
        spikes[count++] = i;
        ref[i] = refr;
      }
    }
    return count;
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
