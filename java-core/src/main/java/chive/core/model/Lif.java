package chive.core.model;

import chive.core.sim.NeuronGroup;

/**
 * Leaky integrate-and-fire with exponential current synapses (CUBA), as in
 * Brian2's CUBA example (Vogels &amp; Abbott 2005):
 * <pre>
 *   dv/dt  = (v_rest - v + r_m·i_ext + ge + gi) / tau_m     (unless refractory)
 *   dge/dt = -ge / tau_e
 *   dgi/dt = -gi / tau_i
 *   spike: v &gt; v_th;  reset: v = v_reset;  refractory t_ref (v held)
 * </pre>
 * ge and gi are in mV (synaptic current times membrane resistance), i_ext in
 * nA, r_m in MΩ. The system is linear: each step uses its exact solution, so
 * results do not depend on dt beyond the sampling of spikes.
 */
public final class Lif extends NeuronGroup {
  private final float[] v, ge, gi, iext;
  private double am, ae, ai, ce, ci, vRest, vTh, vReset, rm;
  private int refSteps;

  public Lif(String name, int n) {
    super(name, n);
    addParam("tau_m", 20.0);
    addParam("tau_e", 5.0);
    addParam("tau_i", 10.0);
    addParam("v_rest", -49.0);
    addParam("v_th", -50.0);
    addParam("v_reset", -60.0);
    addParam("t_ref", 5.0);
    addParam("r_m", 1.0);
    v = addVar("v", -60f);
    ge = addVar("ge", 0f);
    gi = addVar("gi", 0f);
    iext = addVar("i_ext", 0f);
  }

  @Override public String model() { return "LIF"; }

  /** Coefficient of a synaptic variable with time constant ts in v after one step (exact). */
  static double coupling(double dt, double tm, double ts) {
    double am = Math.exp(-dt / tm), as = Math.exp(-dt / ts);
    if (Math.abs(ts - tm) < 1e-9 * tm) return dt / tm * am;
    return ts / (ts - tm) * (as - am);
  }

  @Override
  protected void configure() {
    double tm = positive("tau_m"), te = positive("tau_e"), ti = positive("tau_i");
    am = Math.exp(-dt / tm);
    ae = Math.exp(-dt / te);
    ai = Math.exp(-dt / ti);
    ce = coupling(dt, tm, te);
    ci = coupling(dt, tm, ti);
    vRest = param("v_rest");
    vTh = param("v_th");
    vReset = param("v_reset");
    rm = param("r_m");
    refSteps = steps(param("t_ref"));
  }

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    final float[] v = this.v, ge = this.ge, gi = this.gi, iext = this.iext;
    final int[] ref = refractory;
    final double am = this.am, ae = this.ae, ai = this.ai, ce = this.ce, ci = this.ci;
    final double vRest = this.vRest, vTh = this.vTh, rm = this.rm;
    final int hold = Math.max(0, refSteps - 1);
    int count = 0;
    for (int i = from; i < to; i++) {
      double e = ge[i], g = gi[i];
      ge[i] = (float) (e * ae);
      gi[i] = (float) (g * ai);
      if (ref[i] > 0) {
        ref[i]--;
        continue;
      }
      double vinf = vRest + rm * iext[i];
      double vn = vinf + (v[i] - vinf) * am + ce * e + ci * g;
      v[i] = (float) vn;
      if (vn > vTh) {
        spikes[count++] = i;
        ref[i] = hold;
      }
    }
    return count;
  }

  @Override
  protected void reset(int[] spikes, int count) {
    final float r = (float) vReset;
    for (int k = 0; k < count; k++) v[spikes[k]] = r;
  }
}
