package chive.core.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chive.core.model.CobaLif;
import chive.core.model.PoissonGroup;
import chive.core.plasticity.Stdp;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Delivery and STDP over rows of consecutive post indices (all-to-all,
 * one-to-one) take a loop without the index array; it must give the bits of
 * the general loop, for any thread count (post ranges cut the rows).
 */
class ContiguousRowsTest {

  @Test
  void detectsConsecutiveRowsOnly() {
    assertTrue(Connectivity.allToAll(5, 7).contiguousRows());
    assertTrue(Connectivity.oneToOne(6, 6).contiguousRows());
    assertFalse(Connectivity.allToAllExceptDiagonal(6, 6).contiguousRows());
    assertFalse(Connectivity.fromPairs(2, 4, new int[] {0, 0, 1}, new int[] {0, 2, 3}).contiguousRows());
    assertTrue(Connectivity.fromPairs(2, 4, new int[] {0, 0, 1}, new int[] {1, 2, 3}).contiguousRows());
  }

  /** Diehl & Cook's shape: Poisson input all-to-all onto adaptive COBA LIF with STDP, one-to-one and lateral inhibition. */
  private static Object[] run(boolean fast, int threads) {
    Network net = new Network(0.5, 3);
    PoissonGroup in = net.add(new PoissonGroup("in", 150));
    CobaLif e = net.add(new CobaLif("e", 41, true));
    CobaLif i = net.add(new CobaLif("i", 41, false));
    e.setParam("tau_m", 100);
    e.setParam("tau_e", 1);
    e.setParam("v_rest", -65);
    e.setParam("v_th", -52);
    e.setParam("theta_plus", 0.05);
    float[] rate = in.var("rate");
    for (int k = 0; k < rate.length; k++) rate[k] = (k * 37 % 64);
    Connectivity all = Connectivity.allToAll(150, 41), one = Connectivity.oneToOne(41, 41),
        lateral = Connectivity.allToAllExceptDiagonal(41, 41);
    if (!fast) {
      all.disableContiguousPath();
      one.disableContiguousPath();
    }
    float[] w = new float[all.size()];
    for (int s = 0; s < w.length; s++) w[s] = 0.003f + (s * 7919 % 1000) * 0.0003f;
    Projection p = net.add(new Projection("in->e", in, e, "ge", all, w, null));
    p.setPlasticity(new Stdp(Stdp.Rule.DIEHL_COOK, 20, 20, 40, 0.01, 0.0001, 0, 1, false));
    float[] w1 = new float[41];
    Arrays.fill(w1, 10.4f);
    net.add(new Projection("e->i", e, i, "ge", one, w1, null));
    float[] w2 = new float[lateral.size()];
    Arrays.fill(w2, 17f);
    net.add(new Projection("i->e", i, e, "gi", lateral, w2, null));
    SpikeMonitor m = net.add(new SpikeMonitor(e));
    net.runSteps(1500, threads, null);
    return new Object[] {p.weights().clone(), m.steps(), m.indices(), e.var("v").clone()};
  }

  @Test
  void theConsecutiveRowLoopsAreTheGeneralLoopsBitForBit() {
    Object[] ref = run(false, 1);
    assertTrue(((int[]) ref[1]).length > 30, "excitatory spikes: " + ((int[]) ref[1]).length);
    for (int threads : new int[] {1, 2, 3}) {
      Object[] got = run(true, threads);
      assertArrayEquals((float[]) ref[0], (float[]) got[0], "weights, " + threads + " threads");
      assertArrayEquals((int[]) ref[1], (int[]) got[1], "spike steps, " + threads + " threads");
      assertArrayEquals((int[]) ref[2], (int[]) got[2], "spike neurons, " + threads + " threads");
      assertArrayEquals((float[]) ref[3], (float[]) got[3], "v, " + threads + " threads");
    }
    Object[] ref3 = run(false, 3);
    assertArrayEquals((float[]) ref[0], (float[]) ref3[0]);
    assertEquals(((int[]) ref[1]).length, ((int[]) ref3[1]).length);
  }
}
