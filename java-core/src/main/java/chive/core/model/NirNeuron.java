package chive.core.model;

import chive.core.sim.NeuronGroup;

/**
 * The neurons of a NIR graph in the simulator (chive.nir/import-net): each
 * step the same update as chive.learn's element-wise neuron stage
 * ({@link chive.core.learn.Neuron}), with its per-neuron constants as state
 * variables. Per neuron j, with x the input that projections delivered since
 * the last step (variable {@code in}, cleared when used) plus {@code bias}:
 * <pre>
 *   i = alpha·i + x            current-based (param current = 1); J = i + vdrive, else J = x
 *   v = beta·v·(1 - s) + J     reset to 0 after a spike (NIR's v_reset = 0; chive's hard-leak)
 *   v = beta·v + J - thr·s     with param soft_reset = 1
 *   s = v &gt; thr               spiking kinds only
 * </pre>
 * The bias is added from step {@code drive_from} on (import-net sets it to the
 * number of projections between the Input and the group, so that the group
 * runs as chive.learn's stage does, that many steps later: each projection
 * delivers a step after the spike, where chive.learn passes a spike on
 * within its step).
 * A NIR node with v_reset != 0 is stepped in u = v - v_reset (v holds u,
 * thr is v_threshold - v_reset, the leak drive is towards v_leak - v_reset;
 * nir_v_reset keeps v_reset), an exact change of variables.
 * Param kind: 0 LIF, 1 IF (beta 1), 2 LI and 3 I (beta 1), the last two
 * readouts that never spike (their output is v). Every variable is
 * dimensionless, as NIR's are; the decays, gains and drives of the NIR node
 * at the chosen dt are in beta, alpha and the projections' weights and bias
 * (see chive.nir/import-net).
 */
public final class NirNeuron extends NeuronGroup {
  private final float[] v, i, in, s, beta, alpha, thr, bias, vdrive;
  private boolean spiking, current, soft;
  private long driveFrom;

  public NirNeuron(String name, int n) {
    super(name, n, false);
    addParam("kind", 0.0, "1");
    addParam("current", 0.0, "1");
    addParam("soft_reset", 0.0, "1");
    addParam("drive_from", 0.0, "1");
    // The NIR node this group came from (chive.nir/export-net writes it back):
    // its type (0 LIF, 1 IF, 2 LI, 3 I, 4 CubaLIF, 5 CubaLI, 6 Threshold; -1 none),
    // the discretisation (0 Euler, 1 exact), dt in the graph's time unit and
    // that unit in ms (1000 for seconds).
    addParam("nir_type", -1.0, "1");
    addParam("nir_method", 0.0, "1");
    addParam("nir_dt", 0.0, "1");
    addParam("nir_time_unit_ms", 1000.0, "1");
    v = addVar("v", 0f);
    i = addVar("i", 0f);
    in = addVar("in", 0f);
    s = addVar("s", 0f);
    beta = addVar("beta", 1f);
    alpha = addVar("alpha", 0f);
    thr = addVar("thr", 1f);
    bias = addVar("bias", 0f);
    vdrive = addVar("vdrive", 0f);
    // the NIR node's own per-neuron parameters, the input gain folded into the
    // incoming weights and the incoming Affine biases (not used by the step)
    for (String x : new String[] {"nir_tau", "nir_tau_syn", "nir_r", "nir_w_in", "nir_v_leak", "nir_v_reset", "gain", "in_bias"}) addVar(x, 0f);
    for (String x : new String[] {"v", "i", "in", "s", "beta", "alpha", "thr", "bias", "vdrive",
                                  "nir_r", "nir_w_in", "nir_v_leak", "nir_v_reset", "gain", "in_bias"}) unit(x, "1");
    // the time constants as times (the graph's time unit is param nir_time_unit_ms)
    unit("nir_tau", "ms");
    unit("nir_tau_syn", "ms");
  }

  @Override public String model() { return "NIR"; }
  @Override public double costPerNeuronNs() { return 2.0; }

  @Override
  protected void configure() {
    int kind = (int) param("kind");
    if (kind < 0 || kind > 3 || kind != param("kind")) {
      throw new chive.core.sim.ChiveException("group '" + name() + "': kind must be 0 (LIF), 1 (IF), 2 (LI) or 3 (I), got " + param("kind"));
    }
    spiking = kind <= 1;
    current = flag("current");
    soft = flag("soft_reset");
    double d = param("drive_from");
    if (!(d >= 0) || d != Math.rint(d)) throw new chive.core.sim.ChiveException("group '" + name() + "': drive_from must be a whole number of steps >= 0, got " + d);
    driveFrom = (long) d;
  }

  private boolean flag(String p) {
    double x = param(p);
    if (x != 0 && x != 1) throw new chive.core.sim.ChiveException("group '" + name() + "': " + p + " must be 0 or 1, got " + x);
    return x == 1;
  }

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    int count = 0;
    final boolean driven = step >= driveFrom;
    for (int j = from; j < to; j++) {
      float x = driven ? in[j] + bias[j] : in[j];
      in[j] = 0f;
      float drive;
      if (current) {
        i[j] = alpha[j] * i[j] + x;
        drive = driven ? i[j] + vdrive[j] : i[j];
      } else {
        drive = x;
      }
      // the operations of chive.learn's Neuron stage, in its order
      float u = soft ? beta[j] * v[j] + drive - thr[j] * s[j] : beta[j] * v[j] * (1f - s[j]) + drive;
      v[j] = u;
      if (spiking) {
        boolean fire = u > thr[j];
        s[j] = fire ? 1f : 0f;
        if (fire) spikes[count++] = j;
      }
    }
    return count;
  }

  /** The reset happens in the next step's update (through s), as in chive.learn. */
  @Override protected void reset(int[] spikes, int count) {}
}
