package chive.core.sim;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.model.CobaLif;
import chive.core.model.PoissonGroup;
import chive.core.plasticity.Stdp;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Quiet fast-forward (Network.setFastForward) against stepping every step: a
 * Diehl & Cook-like protocol (stimulus, then rest with every input rate 0)
 * skips most of each rest and ends with the same spikes, weights within
 * float rounding, and v, theta and the STDP traces within the bounds stated
 * here; nothing is skipped where something could still happen.
 */
class QuietTest {
  static final class Dc {
    final Network net = new Network(0.5, 3);
    final PoissonGroup in = net.add(new PoissonGroup("in", 60));
    final CobaLif exc = net.add(new CobaLif("exc", 12, true));
    final CobaLif inh = net.add(new CobaLif("inh", 12, false));
    final Projection stdp;
    final Stdp rule = Stdp.diehlCook(20, 20, 40, 0.0001, 0.01, 1.0);
    final SpikeMonitor spikes = net.add(new SpikeMonitor(exc));
    final SpikeCountMonitor counts = net.add(new SpikeCountMonitor(exc));

    Dc(boolean fastForward) {
      net.setFastForward(fastForward);
      exc.setParam("tau_m", 100);
      exc.setParam("tau_e", 1);
      exc.setParam("tau_i", 2);
      exc.setParam("v_rest", -65);
      exc.setParam("v_reset", -65);
      exc.setParam("v_th", -52);
      exc.setParam("e_i", -100);
      inh.setParam("tau_m", 10);
      inh.setParam("tau_e", 1);
      inh.setParam("tau_i", 2);
      inh.setParam("v_rest", -60);
      inh.setParam("v_reset", -45);
      inh.setParam("v_th", -40);
      inh.setParam("t_ref", 2);
      inh.setParam("e_i", -85);
      Arrays.fill(exc.var("v"), -105f);
      SplittableRandom r = new SplittableRandom(1);
      float[] w = new float[60 * 12];
      for (int k = 0; k < w.length; k++) w[k] = (float) r.nextDouble(0.003, 0.603);
      stdp = net.add(new Projection("stdp", in, exc, "ge", Connectivity.allToAll(60, 12), w, null));
      stdp.setPlasticity(rule);
      float[] one = new float[12];
      Arrays.fill(one, 10.4f);
      net.add(new Projection("ei", exc, inh, "ge", Connectivity.oneToOne(12, 12), one, null));
      float[] all = new float[12 * 11];
      Arrays.fill(all, 17f);
      net.add(new Projection("ie", inh, exc, "gi", Connectivity.allToAllExceptDiagonal(12, 12), all, null));
    }

    /** Three stimuli of 100 ms (random rates up to 120 Hz), each followed by 150 ms of rest. */
    void protocol() {
      protocol(1);
    }

    void protocol(int threads) {
      SplittableRandom r = new SplittableRandom(9);
      for (int k = 0; k < 3; k++) {
        double[] hz = new double[60];
        for (int i = 0; i < 60; i++) hz[i] = r.nextInt(3) == 0 ? 0 : r.nextDouble(0, 120);
        in.setRates(hz);
        net.run(100, threads, null);
        in.setRates(0);
        net.run(150, threads, null);
      }
    }
  }

  @Test
  void restsAreSkippedWithTheSameOutcome() {
    Dc a = new Dc(true), b = new Dc(false);
    a.protocol();
    b.protocol();
    assertEquals(0, b.net.quietSteps(), "fast-forward off steps every step");
    // Each rest: 300 steps; conductances flush within about 100, then the rest is skipped.
    assertTrue(a.net.quietSteps() >= 3 * 150, "skipped " + a.net.quietSteps() + " of 900 rest steps");
    assertEquals(b.net.step(), a.net.step(), "the clock");
    assertTrue(b.spikes.steps().length > 10, "the network fires: " + b.spikes.steps().length);
    assertArrayEquals(b.spikes.steps(), a.spikes.steps(), "spike steps");
    assertArrayEquals(b.spikes.indices(), a.spikes.indices(), "spiking neurons");
    assertArrayEquals(b.counts.counts(), a.counts.counts());
    // v: closed form rounded once against float steps rounded each step.
    for (CobaLif[] g : new CobaLif[][] {{a.exc, b.exc}, {a.inh, b.inh}}) {
      float[] va = g[0].var("v"), vb = g[1].var("v");
      for (int i = 0; i < va.length; i++) assertEquals(vb[i], va[i], 2e-4, g[0].name() + " v of neuron " + i);
    }
    float[] ta = a.exc.var("theta"), tb = b.exc.var("theta");
    for (int i = 0; i < ta.length; i++) assertEquals(tb[i], ta[i], 1e-5 * Math.abs(tb[i]), "theta of neuron " + i);
    // Traces: float decays per step against one power; relative 1e-5.
    float[][] tra = {a.rule.preTrace(), a.rule.postTrace(), a.rule.postTrace2()};
    float[][] trb = {b.rule.preTrace(), b.rule.postTrace(), b.rule.postTrace2()};
    for (int k = 0; k < 3; k++) {
      for (int i = 0; i < tra[k].length; i++) assertEquals(trb[k][i], tra[k][i], 1e-5 * Math.abs(trb[k][i]) + 1e-30, "trace " + k + " of " + i);
    }
    float[] wa = a.stdp.weights(), wb = b.stdp.weights();
    for (int s = 0; s < wa.length; s++) assertEquals(wb[s], wa[s], 1e-6, "weight " + s);
  }

  @Test
  void anyThreadCountSkipsTheSameStepsWithTheSameBits() {
    Dc one = new Dc(true), two = new Dc(true), three = new Dc(true);
    one.protocol(1);
    two.protocol(2);
    three.protocol(3);
    assertTrue(one.net.quietSteps() > 0);
    for (Dc d : new Dc[] {two, three}) {
      assertEquals(one.net.quietSteps(), d.net.quietSteps());
      assertArrayEquals(one.spikes.steps(), d.spikes.steps());
      assertArrayEquals(one.spikes.indices(), d.spikes.indices());
      assertArrayEquals(one.exc.var("v"), d.exc.var("v"));
      assertArrayEquals(one.exc.var("theta"), d.exc.var("theta"));
      assertArrayEquals(one.inh.var("v"), d.inh.var("v"));
      assertArrayEquals(one.rule.preTrace(), d.rule.preTrace());
      assertArrayEquals(one.stdp.weights(), d.stdp.weights());
    }
  }

  @Test
  void aNeuronThatWillFireKeepsTheNetworkStepped() {
    Dc a = new Dc(true), b = new Dc(false);
    for (Dc d : new Dc[] {a, b}) {
      d.inh.var("i_ext")[5] = 25f; // v_inf = -35 mV, above the -40 mV threshold: it fires during the rest
      d.protocol();
    }
    assertEquals(0, a.net.quietSteps());
    assertArrayEquals(b.spikes.steps(), a.spikes.steps());
    assertArrayEquals(b.exc.var("v"), a.exc.var("v"), "bit-identical when nothing is skipped");
  }

  @Test
  void nothingIsSkippedWhereSomethingIsWatchedOrInFlight() {
    // A state monitor records every step.
    Dc m = new Dc(true);
    m.net.add(new StateMonitor(m.exc, "v", new int[] {0}, 1));
    m.protocol();
    assertEquals(0, m.net.quietSteps(), "with a state monitor");
    // A delayed spike still in flight when the group is otherwise quiet.
    Network net = new Network(0.5, 1);
    CobaLif g = net.add(new CobaLif("g", 2, false));
    g.setParam("v_th", 0);
    PoissonGroup src = net.add(new PoissonGroup("src", 1));
    net.add(new Projection("late", src, g, "ge", Connectivity.allToAll(1, 2), new float[] {0.5f, 0.5f}, new double[] {60}));
    src.setRates(2000); // 2000 Hz at dt 0.5 ms: a spike every step
    net.runSteps(1, 1, null);
    src.setRates(0);
    SpikeCountMonitor none = net.add(new SpikeCountMonitor(g));
    net.run(60, 1, null); // the spike arrives 60 ms after it left: not before this run ends
    assertEquals(0, net.quietSteps(), "not skipped while the spike is in flight");
    float arrived = g.var("ge")[0];
    assertTrue(arrived > 0.3f, "the delayed input arrived: ge " + arrived);
    net.run(300, 1, null); // ge (tau_e 5 ms) flushes after about 100 ms; then the rest is skipped
    assertTrue(net.quietSteps() > 300 && net.quietSteps() < 450, "skipped after the conductance left: " + net.quietSteps());
    assertEquals(0, none.counts()[0]);
  }

  @Test
  void theClosedFormTracksStepping() {
    // One neuron relaxing from -30 mV (no input, threshold above) for 2000 steps,
    // both methods, with theta decaying fast enough to matter.
    for (int method = 0; method <= 1; method++) {
      float[][] v = new float[2][], th = new float[2][];
      for (int ff = 0; ff < 2; ff++) {
        Network net = new Network(0.5, 1);
        net.setFastForward(ff == 1);
        CobaLif g = net.add(new CobaLif("g", 3, true));
        g.setParam("method", method);
        g.setParam("tau_theta", 200);
        g.setParam("v_th", 40);
        g.var("v")[0] = -30f;
        g.var("v")[1] = -95f;
        g.var("i_ext")[2] = 3f;
        Arrays.fill(g.var("theta"), 25f);
        net.runSteps(2000, 1, null);
        assertEquals(ff == 1 ? 1984 : 0, net.quietSteps(), "method " + method); // checked at step 16
        v[ff] = g.var("v").clone();
        th[ff] = g.var("theta").clone();
      }
      for (int i = 0; i < 3; i++) {
        assertEquals(v[0][i], v[1][i], 2e-4, "method " + method + ", v of neuron " + i);
        assertEquals(th[0][i], th[1][i], 1e-5 * th[0][i], "method " + method + ", theta of neuron " + i);
      }
      assertEquals(-60f + 3f, v[1][2], 1e-3, "v relaxed to v_rest + r_m i_ext");
    }
  }
}
