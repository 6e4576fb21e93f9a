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
 *
 * <p>State is float32 by default; {@code doublePrecision} keeps it in
 * float64 (the same arithmetic, which is double throughout, without the
 * rounding to float after each step), as Brian2 does.
 */
public final class Izhikevich extends NeuronGroup {
  private final float[] v, u, iext, ge;
  private final double[] vD, uD, iextD, geD;
  private double a, b, c, d, vPeak, ae;
  private boolean rk4;
  private int refSteps;

  public Izhikevich(String name, int n) { this(name, n, false); }

  public Izhikevich(String name, int n, boolean doublePrecision) {
    super(name, n, doublePrecision);
    addParam("a", 0.02, "1");
    addParam("b", 0.2, "1");
    addParam("c", -65.0, "mV");
    addParam("d", 8.0, "1");
    addParam("v_peak", 30.0, "mV");
    addParam("tau_e", 0.0, "ms");
    addParam("t_ref", 0.0, "ms");
    addParam("method", 0.0, "1");
    if (doublePrecision) {
      v = u = iext = ge = null;
      vD = addVarD("v", -65);
      uD = addVarD("u", -13);
      iextD = addVarD("i_ext", 0);
      geD = addVarD("ge", 0);
    } else {
      vD = uD = iextD = geD = null;
      v = addVar("v", -65f);
      u = addVar("u", -13f);
      iext = addVar("i_ext", 0f);
      ge = addVar("ge", 0f);
    }
    unit("v", "mV");
    unit("u", "1|mV-per-ms");
    unit("i_ext", "1|mV-per-ms");
    unit("ge", "1|mV-per-ms");
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

  /** v and u after one step from (vi, ui) with input {@code in}: {@code out[0]}, {@code out[1]}. */
  private void step(double vi, double ui, double in, double[] out) {
    final double a = this.a, b = this.b, dt = this.dt;
    if (rk4) {
      double k1v = fv(vi, ui, in), k1u = a * (b * vi - ui);
      double v2 = vi + 0.5 * dt * k1v, u2 = ui + 0.5 * dt * k1u;
      double k2v = fv(v2, u2, in), k2u = a * (b * v2 - u2);
      double v3 = vi + 0.5 * dt * k2v, u3 = ui + 0.5 * dt * k2u;
      double k3v = fv(v3, u3, in), k3u = a * (b * v3 - u3);
      double v4 = vi + dt * k3v, u4 = ui + dt * k3u;
      double k4v = fv(v4, u4, in), k4u = a * (b * v4 - u4);
      out[0] = vi + dt / 6 * (k1v + 2 * k2v + 2 * k3v + k4v);
      out[1] = ui + dt / 6 * (k1u + 2 * k2u + 2 * k3u + k4u);
    } else {
      out[0] = vi + dt * fv(vi, ui, in);
      out[1] = ui + dt * (a * (b * vi - ui));
    }
  }

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    if (vD != null) return updateDouble(from, to, spikes);
    final float[] v = this.v, u = this.u, iext = this.iext, ge = this.ge;
    final float[] ref = refractory;
    final double vPeak = this.vPeak, ae = this.ae;
    final float refr = refSteps;
    final double[] out = new double[2];
    int count = 0;
    for (int i = from; i < to; i++) {
      double in = iext[i] + ge[i];
      ge[i] = (float) (ge[i] * ae);
      step(v[i], u[i], in, out);
      double vn = out[0];
      u[i] = (float) out[1];
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

  private int updateDouble(int from, int to, int[] spikes) {
    final double[] v = this.vD, u = this.uD, iext = this.iextD, ge = this.geD;
    final float[] ref = refractory;
    final double vPeak = this.vPeak, ae = this.ae;
    final float refr = refSteps;
    final double[] out = new double[2];
    int count = 0;
    // Forward Euler in the operation order of Brian2 2.5's generated code for
    // dv/dt = (0.04 v^2 + 5 v + 140 - u + I)/ms, du/dt = a (b v - u)/ms, with
    // its dt converted to seconds and back (dt/ms): in float64 this gives
    // Brian2's spike steps exactly (GoldenTest). RK4 as in the float kernel.
    final double lio = (dt * 1e-3) / 1e-3, a = this.a, b = this.b;
    for (int i = from; i < to; i++) {
      double in = iext[i] + ge[i];
      ge[i] = ge[i] * ae;
      if (rk4) {
        step(v[i], u[i], in, out);
      } else {
        double vi = v[i], ui = u[i];
        out[1] = (lio * (a * ((b * vi) - ui))) + ui;
        out[0] = (lio * ((140.0 + ((in + (0.04 * (vi * vi))) + (5.0 * vi))) - ui)) + vi;
      }
      v[i] = out[0];
      u[i] = out[1];
      float c = Math.max(ref[i] - 1f, 0f);
      ref[i] = c;
      if (c > 0f) continue;
      if (out[0] >= vPeak) {
        spikes[count++] = i;
        ref[i] = refr;
      }
    }
    return count;
  }

  @Override
  protected void reset(int[] spikes, int count) {
    if (vD != null) {
      for (int k = 0; k < count; k++) {
        int i = spikes[k];
        vD[i] = c;
        uD[i] += d;
      }
      return;
    }
    final float c = (float) this.c, d = (float) this.d;
    for (int k = 0; k < count; k++) {
      int i = spikes[k];
      v[i] = c;
      u[i] += d;
    }
  }
}
