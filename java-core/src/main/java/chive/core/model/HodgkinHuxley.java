package chive.core.model;

import chive.core.sim.NeuronGroup;

/**
 * Hodgkin-Huxley neuron with Traub-Miles kinetics and conductance synapses,
 * as in the COBAHH benchmark (Brette et al. 2007; Brian2's examples/COBAHH.py):
 * <pre>
 *   c_m dv/dt = g_l (e_l - v) + ge (e_e - v) + gi (e_i - v)
 *               - g_na m³ h (v - e_na) - g_kd n⁴ (v - e_k) + i_ext
 *   dx/dt = alpha_x (1 - x) - beta_x x        for x in m, h, n
 *   alpha_m = 0.32·4 / exprel((13 - v + v_t)/4)     beta_m = 0.28·5 / exprel((v - v_t - 40)/5)
 *   alpha_h = 0.128 exp((17 - v + v_t)/18)          beta_h = 4 / (1 + exp((40 - v + v_t)/5))
 *   alpha_n = 0.032·5 / exprel((15 - v + v_t)/5)    beta_n = 0.5 exp((10 - v + v_t)/40)
 *   dge/dt = -ge/tau_e,  dgi/dt = -gi/tau_i
 *   spike: v &gt; v_spike (-20 mV), refractory t_ref (3 ms) blocks the threshold only; no reset
 * </pre>
 * (rates in 1/ms, exprel(x) = (eˣ - 1)/x). Exponential Euler, as Brian2's
 * "exponential_euler": every variable relaxes exactly towards its steady
 * state with the others held at the start of the step. Units: mV, ms, nF, µS,
 * nA; defaults are COBAHH's cell of area 20000 µm².
 */
public final class HodgkinHuxley extends NeuronGroup {
  private final float[] v, m, h, nn, ge, gi, iext;
  private double cm, gl, el, ek, ena, gna, gkd, vt, ee, ei, ae, ai, vSpike;
  private int refSteps;

  public HodgkinHuxley(String name, int n) {
    super(name, n);
    addParam("c_m", 0.2, "nF");       // 1 µF/cm² · 20000 µm²
    addParam("g_l", 0.01, "uS");      // 5e-5 S/cm²
    addParam("e_l", -60.0, "mV");
    addParam("e_k", -90.0, "mV");
    addParam("e_na", 50.0, "mV");
    addParam("g_na", 20.0, "uS");     // 100 mS/cm²
    addParam("g_kd", 6.0, "uS");      // 30 mS/cm²
    addParam("v_t", -63.0, "mV");
    addParam("e_e", 0.0, "mV");
    addParam("e_i", -80.0, "mV");
    addParam("tau_e", 5.0, "ms");
    addParam("tau_i", 10.0, "ms");
    addParam("v_spike", -20.0, "mV");
    addParam("t_ref", 3.0, "ms");
    v = addVar("v", -60f);
    m = addVar("m", 0f);
    h = addVar("h", 0f);
    nn = addVar("n", 0f);
    ge = addVar("ge", 0f);
    gi = addVar("gi", 0f);
    iext = addVar("i_ext", 0f);
    unit("v", "mV");
    unit("m", "1");
    unit("h", "1");
    unit("n", "1");
    unit("ge", "uS");
    unit("gi", "uS");
    unit("i_ext", "nA");
  }

  @Override public double costPerNeuronNs() { return 120.0; }

  @Override public String model() { return "Hodgkin-Huxley (Traub-Miles)"; }

  @Override
  protected void configure() {
    cm = positive("c_m");
    gl = param("g_l");
    el = param("e_l");
    ek = param("e_k");
    ena = param("e_na");
    gna = param("g_na");
    gkd = param("g_kd");
    vt = param("v_t");
    ee = param("e_e");
    ei = param("e_i");
    ae = Math.exp(-dt / positive("tau_e"));
    ai = Math.exp(-dt / positive("tau_i"));
    vSpike = param("v_spike");
    refSteps = steps(param("t_ref"));
  }

  /**
   * (eˣ - 1)/x. Math.exp is a JIT intrinsic where Math.expm1 is not, so away
   * from 0 this uses (exp(x) - 1)/x, whose relative error is below 1e-11 for
   * |x| &gt;= 1e-4; nearer 0, the series 1 + x/2 + x²/6 + x³/24 (error below 1e-17).
   */
  public static double exprel(double x) {
    if (Math.abs(x) < 1e-4) return 1 + x * (0.5 + x * (1.0 / 6 + x / 24));
    return (Math.exp(x) - 1) / x;
  }

  private static final double EXP_M5 = Math.exp(-5);

  /** exprel(x) given ex = exp(x) already computed (the series near 0, as {@link #exprel}). */
  static double exprelFrom(double x, double ex) {
    if (Math.abs(x) < 1e-4) return 1 + x * (0.5 + x * (1.0 / 6 + x / 24));
    return (ex - 1) / x;
  }

  /** x relaxes towards alpha/(alpha+beta) with rate alpha+beta, exactly over dt. */
  private static double gate(double x, double alpha, double beta, double dt) {
    double k = alpha + beta;
    double inf = alpha / k;
    return inf + (x - inf) * Math.exp(-k * dt);
  }

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    final float[] v = this.v, m = this.m, h = this.h, nn = this.nn, ge = this.ge, gi = this.gi, iext = this.iext;
    final float[] ref = refractory;
    final double dt = this.dt;
    final float refr = refSteps;
    int count = 0;
    for (int i = from; i < to; i++) {
      double vi = v[i], mi = m[i], hi = h[i], ni = nn[i], e = ge[i], g = gi[i];
      double x = vi - vt;
      double am = 0.32 * 4 / exprel((13 - x) / 4);
      // One exponential serves beta_m, beta_h and alpha_n: with y = (x - 40)/5,
      // exp((40 - x)/5) = 1/E and exp((15 - x)/5) = exp(-5)/E, E = exp(y).
      double y = (x - 40) / 5, z = -y - 5;
      double ey = Math.exp(y);
      double bm = 0.28 * 5 / exprelFrom(y, ey);
      double ah = 0.128 * Math.exp((17 - x) / 18);
      double bh = 4 * ey / (ey + 1);
      double an = 0.032 * 5 / exprelFrom(z, EXP_M5 / ey);
      double bn = 0.5 * Math.exp((10 - x) / 40);
      double gNa = gna * mi * mi * mi * hi;
      double n2 = ni * ni;
      double gK = gkd * n2 * n2;
      double gtot = gl + e + g + gNa + gK;
      double vinf = (gl * el + e * ee + g * ei + gNa * ena + gK * ek + iext[i]) / gtot;
      double vn = vinf + (vi - vinf) * Math.exp(-gtot * dt / cm);
      v[i] = (float) vn;
      m[i] = (float) gate(mi, am, bm, dt);
      h[i] = (float) gate(hi, ah, bh, dt);
      nn[i] = (float) gate(ni, an, bn, dt);
      ge[i] = (float) (e * ae);
      gi[i] = (float) (g * ai);
      float c = Math.max(ref[i] - 1f, 0f);
      ref[i] = c;
      if (c > 0f) {
        continue;
      }
      if (vn > vSpike) {
        spikes[count++] = i;
        ref[i] = refr;
      }
    }
    return count;
  }

  @Override
  protected void reset(int[] spikes, int count) {
    // No reset: the action potential's own dynamics bring v down.
  }
}
