package chive.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import chive.core.sim.Connectivity;
import chive.core.sim.Network;
import chive.core.sim.NeuronGroup;
import chive.core.sim.Projection;
import chive.core.sim.StateMonitor;
import org.junit.jupiter.api.Test;

/**
 * Refractoriness as Brian2 and NEST define it: a neuron that spikes at step s
 * holds v through step s + R - 1 and discards every input to v meanwhile
 * (from the synaptic phase of step s on); at step s + R it integrates and
 * takes input again. Checked against Brian2 2.5.1 on the same case (dt 0.1 ms,
 * t_ref 2 ms, spike at t = 0, +5 mV inputs at 0.5, 1.9 and 2.0 ms): v stays at
 * v_reset until 2.0 ms, the input at 2.0 ms is applied (v = v_reset + 5 mV at
 * 2.1 ms) and the earlier two are lost.
 */
class RefractoryTest {

  /** v recorded every step from a network with one neuron that spikes at t = 0 and gets +5 mV at the given times. */
  static float[] trace(NeuronGroup g, double[] inputMs, double delayMs) {
    Network net = new Network(0.1, 1);
    net.add(g);
    SpikeGeneratorGroup src = net.add(new SpikeGeneratorGroup("src", 1, new int[inputMs.length],
        shift(inputMs, -delayMs)));
    net.add(new Projection("in", src, g, "v", Connectivity.allToAll(1, 1), new float[] {5f},
        delayMs > 0 ? new double[] {delayMs} : null));
    StateMonitor m = net.add(new StateMonitor(g, "v", new int[] {0}, 1));
    net.run(3.0, 1, null);
    float[][] v = m.values();
    float[] out = new float[v.length];
    for (int k = 0; k < v.length; k++) out[k] = v[k][0];
    return out;
  }

  static double[] shift(double[] t, double d) {
    double[] o = t.clone();
    for (int k = 0; k < o.length; k++) o[k] += d;
    return o;
  }

  static void checkMinimalCase(java.util.function.Supplier<NeuronGroup> make, float vReset, String what) {
    for (double delay : new double[] {0, 0.3}) {
      float[] v = trace(make.get(), new double[] {0.5, 1.9, 2.0}, delay);
      for (int k = 1; k <= 20; k++) {
        assertEquals(vReset, v[k], 1e-6, what + " (delay " + delay + " ms): v at " + (k / 10.0) + " ms is v_reset: the inputs at 0.5 and 1.9 ms are lost");
      }
      assertEquals(vReset + 5f, v[21], 0.05, what + " (delay " + delay + " ms): the input at 2.0 ms, when refractoriness ends, is applied");
    }
  }

  static Lif lif() {
    Lif g = new Lif("cell", 1);
    g.setParam("tau_m", 20);
    g.setParam("v_rest", -60);
    g.setParam("v_reset", -60);
    g.setParam("v_th", -50);
    g.setParam("t_ref", 2);
    g.var("v")[0] = -40f;
    return g;
  }

  static CobaLif coba(boolean adaptive) {
    CobaLif g = new CobaLif("cell", 1, adaptive);
    g.setParam("tau_m", 20);
    g.setParam("v_rest", -60);
    g.setParam("v_reset", -60);
    g.setParam("v_th", -50);
    g.setParam("t_ref", 2);
    if (adaptive) g.setParam("theta_offset", 0);
    g.var("v")[0] = -40f;
    if (adaptive) g.var("theta")[0] = 0f;
    return g;
  }

  static AdEx adex() {
    AdEx g = new AdEx("cell", 1);
    g.setParam("t_ref", 2);
    g.setParam("v_reset", -60);
    g.setParam("e_l", -60);
    g.var("v")[0] = 100f; // above v_peak: spikes in the first step
    return g;
  }

  @Test
  void lifDropsInputWhileRefractory() { checkMinimalCase(RefractoryTest::lif, -60f, "LIF"); }

  @Test
  void cobaLifDropsInputWhileRefractory() {
    checkMinimalCase(() -> coba(false), -60f, "COBA LIF");
    checkMinimalCase(() -> coba(true), -60f, "adaptive COBA LIF");
  }

  @Test
  void adexDropsInputWhileRefractory() {
    float[] v = trace(adex(), new double[] {0.5, 1.9}, 0);
    for (int k = 1; k <= 20; k++) assertEquals(-60f, v[k], 1e-6, "AdEx v at " + (k / 10.0) + " ms");
  }

  /** With t_block longer than t_ref (Diehl & Cook's code), v takes input again once t_ref is over. */
  @Test
  void cobaLifHoldsForTRefNotTBlock() {
    CobaLif g = coba(false);
    g.setParam("t_block", 10);
    float[] v = trace(g, new double[] {2.5}, 0);
    assertEquals(-60f, v[25], 1e-6);
    assertEquals(-55f, v[26], 0.05, "the input at 2.5 ms (after t_ref, within t_block) is applied");
  }
}
