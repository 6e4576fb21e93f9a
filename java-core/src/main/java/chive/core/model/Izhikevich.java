package chive.core.model;

import chive.core.sim.NeuronGroup;

/**
 * Izhikevich (2003) simple model, in its published dimensionless form (v in
 * mV, t in ms, input i_ext in the model's units):
 * <pre>
 *   dv/dt = 0.04 v² + 5 v + 140 - u + i_ext + ge
 *   du/dt = a (b v - u)
 *   spike: v &gt;= v_peak (30);  reset: v = c, u += d
 * </pre>
 * Forward Euler at the network's dt (Brian2's "euler"), or RK4 with
 * {@code method} = 1. ge is an input variable that projections increment and
 * that decays with tau_e (0: instantaneous pulses of one step).
 * Regular spiking: a 0.02, b 0.2, c -65, d 8; fast spiking a 0.1, d 2;
 * chattering c -50, d 2; intrinsically bursting c -55, d 4.
 */
public final class Izhikevich extends NeuronGroup {
  private final float[] v, u, iext, ge;
  private double a, b, c, d, vPeak, ae;
  private boolean rk4;
  private int refSteps;

  public Izhikevich(String name, int n) {
    super(name, n);
    addParam("a", 0.02);
    addParam("b", 0.2);
    addParam("c", -65.0);
    addParam("d", 8.0);
    addParam("v_peak", 30.0);
    addParam("tau_e", 0.0);
    addParam("t_ref", 0.0);
    addParam("method", 0.0);
    v = addVar("v", -65f);
    u = addVar("u", -13f);
    iext = addVar("i_ext", 0f);
    ge = addVar("ge", 0f);
  }

  @Override public double costPerNeuronNs() { return 4.0; }

  @Override public String model() { return "Izhikevich"; }

  @Override
  protected void configure() {
    a = param("a");
    b = param("b");
    c = param("c");
    d = param("d");
    vPeak = param("v_peak");
    double te = param("tau_e");
    ae = te > 0 ? Math.exp(-dt / te) : 0;
    double m = param("method");
    if (m != 0 && m != 1) throw new chive.core.sim.ChiveException("group '" + name() + "': method must be 0 (euler) or 1 (rk4), got " + m);
    rk4 = m == 1;
    refSteps = steps(param("t_ref"));
  }

  private static double fv(double v, double u, double in) { return 0.04 * v * v + 5 * v + 140 - u + in; }

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    final float[] v = this.v, u = this.u, iext = this.iext, ge = this.ge;
    final float[] ref = refractory;
    final double a = this.a, b = this.b, dt = this.dt, vPeak = this.vPeak, ae = this.ae;
    final float refr = refSteps;
    int count = 0;
    for (int i = from; i < to; i++) {
      double vi = v[i], ui = u[i], in = iext[i] + ge[i];
      ge[i] = (float) (ge[i] * ae);
      double vn, un;
      if (rk4) {
        double k1v = fv(vi, ui, in), k1u = a * (b * vi - ui);
        double v2 = vi + 0.5 * dt * k1v, u2 = ui + 0.5 * dt * k1u;
        double k2v = fv(v2, u2, in), k2u = a * (b * v2 - u2);
        double v3 = vi + 0.5 * dt * k2v, u3 = ui + 0.5 * dt * k2u;
        double k3v = fv(v3, u3, in), k3u = a * (b * v3 - u3);
        double v4 = vi + dt * k3v, u4 = ui + dt * k3u;
        double k4v = fv(v4, u4, in), k4u = a * (b * v4 - u4);
        vn = vi + dt / 6 * (k1v + 2 * k2v + 2 * k3v + k4v);
        un = ui + dt / 6 * (k1u + 2 * k2u + 2 * k3u + k4u);
      } else {
        vn = vi + dt * fv(vi, ui, in);
        un = ui + dt * (a * (b * vi - ui));
      }
      u[i] = (float) un;
      float c = Math.max(ref[i] - 1f, 0f);
      ref[i] = c;
      if (c > 0f) {
        v[i] = (float) vn;
        continue;
      }
      float vf = (float) vn;
      v[i] = vf;
      if (vf >= vPeak) {
        spikes[count++] = i;
        ref[i] = refr;
      }
    }
    return count;
  }

  @Override
  protected void reset(int[] spikes, int count) {
    final float c = (float) this.c, d = (float) this.d;
    for (int k = 0; k < count; k++) {
      int i = spikes[k];
      v[i] = c;
      u[i] += d;
    }
  }
}
