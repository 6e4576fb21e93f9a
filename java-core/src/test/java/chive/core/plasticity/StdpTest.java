package chive.core.plasticity;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.model.Lif;
import chive.core.model.PoissonGroup;
import chive.core.model.SpikeGeneratorGroup;
import chive.core.sim.Connectivity;
import chive.core.sim.Network;
import chive.core.sim.Projection;
import chive.core.sim.SpikeMonitor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class StdpTest {
  static final double DT = 0.1, TAU_PRE = 16.8, TAU_POST = 33.7, A_PLUS = 0.01, A_MINUS = 0.0105, W0 = 0.5;

  /**
   * Pre neurons k = 0..m-1 spike once each at 50 ms + lag[k]; one post neuron is
   * forced to spike at exactly 50.0 ms. Returns the weight change per synapse.
   */
  static float[] pairing(double[] lagsMs, Stdp rule, int threads) {
    int m = lagsMs.length;
    Network net = new Network(DT, 1);
    double[] t = new double[m];
    int[] idx = new int[m];
    for (int k = 0; k < m; k++) { idx[k] = k; t[k] = 50 + lagsMs[k]; }
    SpikeGeneratorGroup pre = net.add(new SpikeGeneratorGroup("pre", m, idx, t));
    // The forcing spike at 49.9 ms raises v by 100 mV during step 499; the post neuron spikes in step 500 (t = 50.0 ms).
    SpikeGeneratorGroup force = net.add(new SpikeGeneratorGroup("force", 1, new int[] {0}, new double[] {49.9}));
    Lif post = net.add(new Lif("post", 1));
    post.setParam("v_rest", -70);
    post.var("v")[0] = -70f;
    net.add(new Projection("force", force, post, "v", Connectivity.allToAll(1, 1), new float[] {100f}, null));
    float[] w = new float[m];
    Arrays.fill(w, (float) W0);
    Projection p = net.add(new Projection("plastic", pre, post, "gi", Connectivity.allToAll(m, 1), w, null));
    p.setPlasticity(rule);
    SpikeMonitor sm = net.add(new SpikeMonitor(post));
    net.run(150, threads, null);
    assertArrayEquals(new double[] {50.0}, sm.times(), 1e-9, "the post neuron spikes once, at 50 ms");
    float[] dw = p.weights().clone();
    for (int k = 0; k < m; k++) dw[k] -= (float) W0;
    return dw;
  }

  @Test
  void additiveWeightChangeFollowsTheExponentialWindow() {
    double[] lags = {-40, -20, -10, -5, -1, -0.1, 0.1, 1, 5, 10, 20, 40}; // pre time minus post time
    float[] dw = pairing(lags, Stdp.pair(false, TAU_PRE, TAU_POST, A_PLUS, A_MINUS, 0, 1), 1);
    for (int k = 0; k < lags.length; k++) {
      double lag = lags[k];
      double expected = lag < 0 ? A_PLUS * Math.exp(lag / TAU_PRE) : -A_MINUS * Math.exp(-lag / TAU_POST);
      // Traces decay by float32 factors step by step: relative error ~1e-6 per 100 steps.
      assertEquals(expected, dw[k], 1e-6 + 1e-4 * Math.abs(expected), "pre - post = " + lag + " ms");
    }
  }

  @Test
  void simultaneousSpikesPotentiate() {
    // Same step: the pre pathway runs first (post trace still 0), then the post spike sees x = 1.
    float[] dw = pairing(new double[] {0}, Stdp.pair(false, TAU_PRE, TAU_POST, A_PLUS, A_MINUS, 0, 1), 1);
    assertEquals(A_PLUS, dw[0], 1e-7);
  }

  @Test
  void multiplicativeScalesWithTheBounds() {
    double[] lags = {-10, 10};
    float[] dw = pairing(lags, Stdp.pair(true, TAU_PRE, TAU_POST, A_PLUS, A_MINUS, 0, 1), 1);
    assertEquals(A_PLUS * (1 - W0) * Math.exp(-10 / TAU_PRE), dw[0], 1e-6);
    assertEquals(-A_MINUS * W0 * Math.exp(-10 / TAU_POST), dw[1], 1e-6);
  }

  @Test
  void weightsStayWithinBounds() {
    float[] dw = pairing(new double[] {-1, 1}, Stdp.pair(false, TAU_PRE, TAU_POST, 10, 10, 0.2, 0.6), 1);
    assertEquals(0.6 - W0, dw[0], 1e-6);
    assertEquals(0.2 - W0, dw[1], 1e-6);
  }

  @Test
  void diehlCookRuleByHand() {
    // nu_pre 0.0001, nu_post 0.01, tau_pre 20, tau_post1 20, tau_post2 40, traces set to 1.
    Stdp rule = Stdp.diehlCook(20, 20, 40, 0.0001, 0.01, 1.0);
    // Pre 10 ms before the post spike: w += nu_post · x · post2(before) = 0.01 · e^{-10/20} · 0 (no earlier post spike).
    // Pre 10 ms after the post spike: w -= nu_pre · post1 = 0.0001 · e^{-10/20}.
    float[] dw = pairing(new double[] {-10, 10}, rule, 1);
    assertEquals(0.0, dw[0], 1e-9, "post2 was 0 before the first post spike");
    assertEquals(-0.0001 * Math.exp(-0.5), dw[1], 1e-8);
  }

  @Test
  void learningCanBeSwitchedOff() {
    Stdp rule = Stdp.pair(false, TAU_PRE, TAU_POST, A_PLUS, A_MINUS, 0, 1);
    rule.setLearning(false);
    float[] dw = pairing(new double[] {-5, 5}, rule, 1);
    assertArrayEquals(new float[] {0, 0}, dw);
  }

  @Test
  void sameWeightsForAnyThreadCount() {
    float[] ref = null;
    for (int threads : new int[] {1, 2, 3, 7}) {
      Network net = new Network(0.5, 9);
      PoissonGroup in = net.add(new PoissonGroup("in", 300));
      in.setRates(20);
      Lif exc = net.add(new Lif("exc", 60));
      exc.setParam("v_rest", -65);
      Connectivity c = Connectivity.fixedProbability(300, 60, 0.3, false, 4);
      float[] w = new float[c.size()];
      Arrays.fill(w, 1.5f);
      Projection p = net.add(new Projection("in-exc", in, exc, "ge", c, w, null));
      p.setPlasticity(Stdp.diehlCook(20, 20, 40, 0.0001, 0.01, 3.0));
      net.run(1000, threads, null);
      if (ref == null) ref = p.weights().clone();
      else assertArrayEquals(ref, p.weights(), threads + " threads");
    }
    assertFalse(allEqual(ref, 1.5f), "weights changed");
  }

  static boolean allEqual(float[] a, float v) {
    for (float x : a) if (x != v) return false;
    return true;
  }

  @Test
  void normalisationSetsEachPostsIncomingSum() {
    Network net = new Network(0.5, 1);
    PoissonGroup in = net.add(new PoissonGroup("in", 30));
    Lif out = net.add(new Lif("out", 4));
    Connectivity c = Connectivity.allToAll(30, 4);
    float[] w = new float[c.size()];
    for (int s = 0; s < w.length; s++) w[s] = 0.01f * (s % 7 + 1);
    Projection p = net.add(new Projection("p", in, out, "ge", c, w, null));
    p.normalizeIncoming(78);
    double[] sums = new double[4];
    for (int s = 0; s < w.length; s++) sums[c.post()[s]] += p.weights()[s];
    for (double sum : sums) assertEquals(78.0, sum, 1e-3);
  }
}
