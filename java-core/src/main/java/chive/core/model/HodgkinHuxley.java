package chive.core.model;

import chive.core.kernel.FastExp;
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
  /** True when the SIMD step ({@link HhVector}) is used: {@link chive.core.kernel.Simd#ENABLED}. */
  public static final boolean VECTOR = chive.core.kernel.Simd.ENABLED;

  /** Below this |z|, exprel(z) is its series 1 + z/2 + z²/6 + z³/24 (error below 1e-17). */
  static final double SMALL = 1e-4;
  static final double EXP_M5 = Math.exp(-5);

  final float[] v, m, h, nn, ge, gi, iext;
  double cm, gl, el, ek, ena, gna, gkd, vt, ee, ei, ae, ai, vSpike, dtOverCm;
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

  @Override public double costPerNeuronNs() { return VECTOR ? 25.0 : 60.0; }

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
    dtOverCm = dt / cm;
  }

  /**
   * (eˣ - 1)/x: for |x| &gt;= 1e-4 (exp(x) - 1)/x, relative error below 1e-11;
   * nearer 0, the series 1 + x/2 + x²/6 + x³/24 (error below 1e-17).
   */
  public static double exprel(double x) {
    if (Math.abs(x) < SMALL) return 1 + x * (0.5 + x * (1.0 / 6 + x / 24));
    return (FastExp.exp(x) - 1) / x;
  }

  /**
   * c / exprel(z) written as c·num/den, with num = z, den = eᶻ - 1 given by the
   * caller (or any equal ratio), and the series of exprel for |z| &lt; 1e-4.
   */
  static double ratio(double c, double z, double num, double den) {
    if (Math.abs(z) < SMALL) {
      num = 1.0;
      den = ((z * (1.0 / 24) + 1.0 / 6) * z + 0.5) * z + 1.0;
    }
    return num * c / den;
  }

  /** x relaxes towards a/(a+b) with rate k = a+b, exactly over dt: (a + (x·k - a)·e^(-k·dt))/k. */
  static double gate(double x, double a, double b, double dt) {
    double k = a + b;
    double e = FastExp.exp(k * -dt);
    return ((x * k - a) * e + a) / k;
  }

  /**
   * The exponential-Euler step of neurons [from, to), one neuron at a time.
   * The rates, with x = v - v_t:
   * alpha_m = 1.28·z/(eᶻ - 1), z = (13 - x)/4; beta_m = 1.4·y/(eʸ - 1), y = (x - 40)/5;
   * alpha_h = 0.128·e^((17 - x)/18); beta_h = 4·eʸ/(eʸ + 1);
   * alpha_n = 0.16·w·eʸ/(e⁻⁵ - eʸ), w = -y - 5 (= 0.16/exprel(w), sharing eʸ);
   * beta_n = 0.5·e^((10 - x)/40). Every exponential is {@link FastExp#exp}
   * and the operation order is {@link HhVector}'s, lane for lane.
   */
  static void stepScalar(HodgkinHuxley p, int from, int to) {
    final float[] va = p.v, ma = p.m, ha = p.h, na = p.nn, gea = p.ge, gia = p.gi, ia = p.iext;
    final double vt = p.vt, gl = p.gl, glel = p.gl * p.el, ee = p.ee, ei = p.ei, ena = p.ena, ek = p.ek;
    final double gna = p.gna, gkd = p.gkd, dt = p.dt, dtcm = p.dtOverCm, ae = p.ae, ai = p.ai;
    for (int i = from; i < to; i++) {
      double v = va[i], m = ma[i], h = ha[i], n = na[i], e = gea[i], g = gia[i];
      double x = v - vt;
      double za = (13 - x) * 0.25;
      double am = ratio(1.28, za, za, FastExp.exp(za) - 1.0);
      double y = (x - 40) * 0.2;
      double ey = FastExp.exp(y);
      double bm = ratio(1.4, y, y, ey - 1.0);
      double ah = FastExp.exp((17 - x) * (1.0 / 18)) * 0.128;
      double bh = ey * 4 / (ey + 1.0);
      double z = -y - 5;
      double an = ratio(0.16, z, z * ey, EXP_M5 - ey);
      double bn = FastExp.exp((10 - x) * 0.025) * 0.5;
      double gNa = m * m * m * h * gna;
      double n2 = n * n;
      double gK = n2 * n2 * gkd;
      double gtot = e + gl + g + gNa + gK;
      double num = e * ee + glel + g * ei + gNa * ena + gK * ek + ia[i];
      double vinf = num / gtot;
      double vn = (v - vinf) * FastExp.exp(gtot * -dtcm) + vinf;
      va[i] = (float) vn;
      ma[i] = (float) gate(m, am, bm, dt);
      ha[i] = (float) gate(h, ah, bh, dt);
      na[i] = (float) gate(n, an, bn, dt);
      gea[i] = (float) (e * ae);
      gia[i] = (float) (g * ai);
    }
  }

  /** The step of [from, to) on SIMD lanes where possible, the rest (and without the module, all) scalar. */
  void step(int from, int to) {
    int done = VECTOR ? HhVector.step(this, from, to) : from;
    stepScalar(this, done, to);
  }

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    step(from, to);
    return threshold(from, to, spikes);
  }

  /** The refractory countdown, then v &gt; v_spike for neurons that are not refractory. */
  int threshold(int from, int to, int[] spikes) {
    final float[] v = this.v, ref = refractory;
    final float refr = refSteps, vs = (float) vSpike;
    int count = 0;
    for (int i = from; i < to; i++) {
      float c = Math.max(ref[i] - 1f, 0f);
      ref[i] = c;
      if (c > 0f) {
        continue;
      }
      if (v[i] > vs) {
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
