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
 *
 * <p>State is float32 by default (a vectorised kernel); {@code doublePrecision}
 * keeps it and the step's coefficients in float64, as Brian2 does.
 */
public final class Lif extends NeuronGroup {
  private final float[] v, ge, gi, iext;
  private final double[] vD, geD, giD, iextD;
  private double dGe, dGi, dVge, dVgi, dVi, dVv, dcV;
  private double vRest, vTh, vReset, rm;
  private float mGe, cGe, mGi, cGi, mVge, mVgi, mVi, mVv, cV;
  private int refSteps;

  public Lif(String name, int n) { this(name, n, false); }

  public Lif(String name, int n, boolean doublePrecision) {
    super(name, n, doublePrecision);
    addParam("tau_m", 20.0, "ms");
    addParam("tau_e", 5.0, "ms");
    addParam("tau_i", 10.0, "ms");
    addParam("v_rest", -49.0, "mV");
    addParam("v_th", -50.0, "mV");
    addParam("v_reset", -60.0, "mV");
    addParam("t_ref", 5.0, "ms");
    addParam("r_m", 1.0, "Mohm");
    if (doublePrecision) {
      v = ge = gi = iext = null;
      vD = addVarD("v", -60);
      geD = addVarD("ge", 0);
      giD = addVarD("gi", 0);
      iextD = addVarD("i_ext", 0);
    } else {
      vD = geD = giD = iextD = null;
      v = addVar("v", -60f);
      ge = addVar("ge", 0f);
      gi = addVar("gi", 0f);
      iext = addVar("i_ext", 0f);
    }
    unit("v", "mV");
    unit("ge", "mV");
    unit("gi", "mV");
    unit("i_ext", "nA");
    holdWhileRefractory("v");
  }

  @Override public double costPerNeuronNs() { return 1.0; }

  @Override public String model() { return "LIF"; }

  /** Coefficient of a synaptic variable with time constant ts in v after one step (closed form). */
  static double coupling(double dt, double tm, double ts) {
    double am = Math.exp(-dt / tm), as = Math.exp(-dt / ts);
    if (Math.abs(ts - tm) < 1e-9 * tm) return dt / tm * am;
    return ts / (ts - tm) * (as - am);
  }

  /**
   * The exact one-step map x' = M x + c of the linear system, state ordered
   * (ge, gi, i_ext, v), computed by {@link Affine#step} from
   * dv/dt = (ge + gi + (v_rest - v) + r_m·i_ext)/tau_m, dge/dt = -ge/tau_e,
   * dgi/dt = -gi/tau_i. chive's DSL builds the same matrix for the same
   * equations, so a DSL LIF reproduces this model bit for bit.
   */
  @Override
  protected void configure() {
    double tm = positive("tau_m"), te = positive("tau_e"), ti = positive("tau_i");
    vRest = param("v_rest");
    vTh = param("v_th");
    vReset = param("v_reset");
    rm = param("r_m");
    refSteps = steps(param("t_ref"));
    double[][] a = new double[4][4];
    double[] b = new double[4];
    a[0][0] = -(1.0 / te);
    a[1][1] = -(1.0 / ti);
    a[3][0] = 1.0 / tm;
    a[3][1] = 1.0 / tm;
    a[3][2] = (rm * 1.0) / tm;
    a[3][3] = (-1.0) / tm;
    b[3] = vRest / tm;
    double[][] mc = Affine.step(a, b, dt);
    mGe = (float) mc[0][0];
    cGe = (float) mc[0][4];
    mGi = (float) mc[1][1];
    cGi = (float) mc[1][4];
    mVge = (float) mc[3][0];
    mVgi = (float) mc[3][1];
    mVi = (float) mc[3][2];
    mVv = (float) mc[3][3];
    cV = (float) mc[3][4];
    dGe = mc[0][0];
    dGi = mc[1][1];
    dVge = mc[3][0];
    dVgi = mc[3][1];
    dVi = mc[3][2];
    dVv = mc[3][3];
    dcV = mc[3][4];
  }

  /** The float coefficients of the one-step map, for tests: {mGe, cGe, mGi, cGi, mVge, mVgi, mVi, mVv, cV}. */
  float[] coefficients() { return new float[] {mGe, cGe, mGi, cGi, mVge, mVgi, mVi, mVv, cV}; }

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    if (vD != null) return updateDouble(from, to, spikes);
    integrate(from, to);
    return threshold(from, to, spikes);
  }

  /** The same step in float64: exact map with double coefficients, v held while refractory. */
  private int updateDouble(int from, int to, int[] spikes) {
    final double[] v = vD, ge = geD, gi = giD, iext = iextD;
    final float[] ref = refractory;
    final float r = refSteps;
    int count = 0;
    for (int i = from; i < to; i++) {
      double e = ge[i], g = gi[i], vi = v[i];
      double vn = dVge * e + dVgi * g + dVi * iext[i] + dVv * vi + dcV;
      ge[i] = dGe * e;
      gi[i] = dGi * g;
      float c = Math.max(ref[i] - 1f, 0f);
      ref[i] = c;
      if (c > 0f) continue;
      v[i] = vn;
      if (vn > vTh) {
        spikes[count++] = i;
        ref[i] = r;
      }
    }
    return count;
  }

  /**
   * Branch-free pass over [from, to), in float arithmetic so the JIT can
   * vectorise it: apply the exact one-step map to (ge, gi, v); count the
   * refractory counter c down; hold v while the counter, after counting down,
   * is still above 0, with the blend v' = vn + (v - vn)·min(c, 1). min(c, 1) is
   * exactly 0 or 1; for a held neuron vn + (v - vn) equals v exactly whenever v
   * and vn have the same sign and lie within a factor of two of each other
   * (Sterbenz), as membrane potentials do; outside that it may differ by one ulp.
   * The scalar reference in the tests checks this pass bit for bit.
   */
  private void integrate(int from, int to) {
    final float[] v = this.v, ge = this.ge, gi = this.gi, iext = this.iext, ref = refractory;
    final float mGe = this.mGe, mGi = this.mGi;
    final float mVge = this.mVge, mVgi = this.mVgi, mVi = this.mVi, mVv = this.mVv, cV = this.cV;
    for (int i = from; i < to; i++) {
      float e = ge[i], g = gi[i], x = iext[i], vi = v[i];
      float vn = mVge * e + mVgi * g + mVi * x + mVv * vi + cV;
      ge[i] = mGe * e; // the affine constants of ge and gi are 0 (b = 0 in their rows)
      gi[i] = mGi * g;
      float c = Math.max(ref[i] - 1f, 0f);
      ref[i] = c;
      v[i] = vn + (vi - vn) * Math.min(c, 1f);
    }
  }

  /** Neurons not refractory whose v crossed v_th spike; their counter is set to t_ref/dt. */
  private int threshold(int from, int to, int[] spikes) {
    final float[] v = this.v, ref = refractory;
    final double vTh = this.vTh;
    final float r = refSteps;
    int count = 0;
    for (int i = from; i < to; i++) {
      if (v[i] > vTh && ref[i] == 0f) {
        spikes[count++] = i;
        ref[i] = r;
      }
    }
    return count;
  }

  @Override
  protected void reset(int[] spikes, int count) {
    if (vD != null) {
      for (int k = 0; k < count; k++) vD[spikes[k]] = vReset;
      return;
    }
    final float r = (float) vReset;
    for (int k = 0; k < count; k++) v[spikes[k]] = r;
  }
}
