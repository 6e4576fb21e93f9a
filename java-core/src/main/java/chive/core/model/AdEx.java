package chive.core.model;

import chive.core.sim.NeuronGroup;

/**
 * Adaptive exponential integrate-and-fire (Brette &amp; Gerstner 2005):
 * <pre>
 *   c_m dv/dt  = -g_l (v - e_l) + g_l delta_t exp((v - v_t)/delta_t) - w + i_ext + ge   (unless refractory)
 *   tau_w dw/dt = a (v - e_l) - w
 *   spike: v &gt; v_peak;  reset: v = v_reset, w += b
 * </pre>
 * Units: mV, ms, nF, µS, nA (ge is an input current in nA that decays with
 * tau_e). Forward Euler at the network's dt, the exponential term capped at
 * v_peak so a step cannot overflow. Defaults: the paper's regular-spiking cell
 * (C 281 pF, g_l 30 nS, e_l -70.6, v_t -50.4, delta_t 2, tau_w 144 ms,
 * a 4 nS, b 0.0805 nA).
 */
public final class AdEx extends NeuronGroup {
  private final float[] v, w, iext, ge;
  private double cm, gl, el, vt, deltaT, a, tauW, b, vReset, vPeak, ae;
  private int refSteps;

  public AdEx(String name, int n) {
    super(name, n);
    addParam("c_m", 0.281, "nF");
    addParam("g_l", 0.030, "uS");
    addParam("e_l", -70.6, "mV");
    addParam("v_t", -50.4, "mV");
    addParam("delta_t", 2.0, "mV");
    addParam("a", 0.004, "uS");
    addParam("tau_w", 144.0, "ms");
    addParam("b", 0.0805, "nA");
    addParam("v_reset", -70.6, "mV");
    addParam("v_peak", 0.0, "mV");
    addParam("tau_e", 5.0, "ms");
    addParam("t_ref", 0.0, "ms");
    v = addVar("v", -70.6f);
    w = addVar("w", 0f);
    iext = addVar("i_ext", 0f);
    ge = addVar("ge", 0f);
    unit("v", "mV");
    unit("w", "nA");
    unit("i_ext", "nA");
    unit("ge", "nA");
    holdWhileRefractory("v");
  }

  @Override public double costPerNeuronNs() { return 12.0; }

  @Override public String model() { return "AdEx"; }

  @Override
  protected void configure() {
    cm = positive("c_m");
    gl = positive("g_l");
    el = param("e_l");
    vt = param("v_t");
    deltaT = positive("delta_t");
    a = param("a");
    tauW = positive("tau_w");
    b = param("b");
    vReset = param("v_reset");
    vPeak = param("v_peak");
    ae = Math.exp(-dt / positive("tau_e"));
    refSteps = steps(param("t_ref"));
  }

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    final float[] v = this.v, w = this.w, iext = this.iext, ge = this.ge;
    final float[] ref = refractory;
    final double dt = this.dt;
    final float refr = refSteps;
    int count = 0;
    for (int i = from; i < to; i++) {
      double vi = v[i], wi = w[i], in = iext[i] + ge[i];
      ge[i] = (float) (ge[i] * ae);
      w[i] = (float) (wi + dt * (a * (vi - el) - wi) / tauW);
      float c = Math.max(ref[i] - 1f, 0f);
      ref[i] = c;
      if (c > 0f) {
        continue;
      }
      double ex = gl * deltaT * Math.exp((Math.min(vi, vPeak) - vt) / deltaT);
      double vn = vi + dt * (-gl * (vi - el) + ex - wi + in) / cm;
      v[i] = (float) vn;
      if (vn > vPeak) {
        spikes[count++] = i;
        ref[i] = refr;
      }
    }
    return count;
  }

  @Override
  protected void reset(int[] spikes, int count) {
    final float r = (float) vReset, bb = (float) b;
    for (int k = 0; k < count; k++) {
      int i = spikes[k];
      v[i] = r;
      w[i] += bb;
    }
  }
}
