package chive.core.sim;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.model.Lif;
import chive.core.model.PoissonGroup;
import chive.core.model.SpikeGeneratorGroup;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class NetworkTest {

  /** A CUBA-like network with Poisson drive and heterogeneous delays. */
  static Network randomNetwork(long seed) {
    Network net = new Network(0.1, seed);
    PoissonGroup in = net.add(new PoissonGroup("in", 200));
    in.setRates(80);
    Lif exc = net.add(new Lif("exc", 800));
    Lif inh = net.add(new Lif("inh", 200));
    SplittableRandom r = new SplittableRandom(seed);
    for (Lif g : new Lif[] {exc, inh}) {
      float[] v = g.var("v");
      for (int i = 0; i < v.length; i++) v[i] = (float) (-60 + 10 * r.nextDouble());
    }
    Connectivity c1 = Connectivity.fixedProbability(200, 800, 0.05, false, seed + 1);
    net.add(new Projection("in-exc", in, exc, "ge", c1, filled(c1.size(), 2.0f), null));
    Connectivity c2 = Connectivity.fixedProbability(800, 200, 0.05, false, seed + 2);
    double[] d = new double[c2.size()];
    for (int s = 0; s < d.length; s++) d[s] = 0.1 * (s % 17);
    net.add(new Projection("exc-inh", exc, inh, "ge", c2, filled(c2.size(), 1.62f), d));
    Connectivity c3 = Connectivity.fixedProbability(200, 800, 0.05, false, seed + 3);
    net.add(new Projection("inh-exc", inh, exc, "gi", c3, filled(c3.size(), -9f), new double[] {0.8}));
    Connectivity c4 = Connectivity.fixedProbability(800, 800, 0.02, true, seed + 4);
    net.add(new Projection("exc-exc", exc, exc, "ge", c4, filled(c4.size(), 1.62f), null));
    net.add(new SpikeMonitor(exc));
    net.add(new SpikeMonitor(inh));
    return net;
  }

  static float[] filled(int n, float v) {
    float[] a = new float[n];
    Arrays.fill(a, v);
    return a;
  }

  @Test
  void identicalSpikesForAnyThreadCount() {
    int[] refIdx = null, refSteps = null;
    float[] refV = null;
    for (int threads : new int[] {1, 2, 3, 7}) {
      Network net = randomNetwork(42);
      net.run(300, threads, null);
      SpikeMonitor m = (SpikeMonitor) net.monitors().get(0);
      int[] idx = m.indices(), st = m.steps();
      float[] v = net.group("exc").var("v").clone();
      assertTrue(idx.length > 500, "the network should be active, got " + idx.length + " spikes");
      if (refIdx == null) {
        refIdx = idx; refSteps = st; refV = v;
      } else {
        assertArrayEquals(refIdx, idx, threads + " threads: spike indices differ");
        assertArrayEquals(refSteps, st, threads + " threads: spike steps differ");
        assertArrayEquals(refV, v, threads + " threads: membrane potentials differ");
      }
    }
  }

  @Test
  void runContinuesWhereItStopped() {
    Network a = randomNetwork(7);
    a.run(300, 1, null);
    Network b = randomNetwork(7);
    b.run(100, 2, null);
    b.run(120, 3, null);
    b.run(80, 1, null);
    assertEquals(a.step(), b.step());
    SpikeMonitor ma = (SpikeMonitor) a.monitors().get(0), mb = (SpikeMonitor) b.monitors().get(0);
    assertArrayEquals(ma.indices(), mb.indices());
    assertArrayEquals(ma.steps(), mb.steps());
  }

  @Test
  void differentSeedsGiveDifferentSpikes() {
    Network a = randomNetwork(1), b = randomNetwork(2);
    a.run(100, 1, null);
    b.run(100, 1, null);
    assertFalse(Arrays.equals(((SpikeMonitor) a.monitors().get(0)).indices(), ((SpikeMonitor) b.monitors().get(0)).indices()));
  }

  @Test
  void interruptStopsAtAStepBoundaryAndTheRunCanContinue() throws Exception {
    Network whole = randomNetwork(3);
    whole.run(2000, 2, null);

    Network net = randomNetwork(3);
    AtomicReference<Network.RunResult> result = new AtomicReference<>();
    AtomicReference<Boolean> flagAfter = new AtomicReference<>();
    Thread t = new Thread(() -> {
      // Long enough that the interrupt lands mid-run.
      result.set(net.run(2000, 2, null));
      flagAfter.set(Thread.currentThread().isInterrupted());
    });
    t.start();
    Thread.sleep(30);
    t.interrupt();
    t.join(10000);
    assertFalse(t.isAlive(), "run returned after the interrupt");
    Network.RunResult r = result.get();
    assertTrue(r.interrupted, "the run reports the interrupt");
    assertTrue(flagAfter.get(), "the interrupt flag is left set for the caller");
    assertTrue(r.stepsRun < 20000, "stopped early: " + r.stepsRun);
    assertEquals(r.stepsRun, net.step());
    assertEquals(0, Thread.getAllStackTraces().keySet().stream().filter(x -> x.getName().startsWith("chive-sim-") && x.isAlive()).count(),
        "workers were joined");
    net.runSteps(20000 - net.step(), 1, null);
    assertArrayEquals(((SpikeMonitor) whole.monitors().get(0)).indices(), ((SpikeMonitor) net.monitors().get(0)).indices());
    assertArrayEquals(((SpikeMonitor) whole.monitors().get(0)).steps(), ((SpikeMonitor) net.monitors().get(0)).steps());
  }

  @Test
  void progressIsReported() {
    Network net = randomNetwork(5);
    double[] last = new double[2];
    net.run(50, 1, (done, total, simMs, wall) -> { last[0] = done; last[1] = total; });
    assertEquals(500, last[0]);
    assertEquals(500, last[1]);
  }

  @Test
  void delayedSpikesArriveExactlyOnTheirStep() {
    Network net = new Network(0.1, 1);
    SpikeGeneratorGroup src = net.add(new SpikeGeneratorGroup("src", 1, new int[] {0}, new double[] {1.0}));
    Lif tgt = net.add(new Lif("tgt", 3));
    tgt.setParam("tau_m", 1e9);
    tgt.setParam("v_rest", -70);
    tgt.setParam("v_th", 100);
    Arrays.fill(tgt.var("v"), -70f);
    // Synapses onto neurons 0, 1, 2 with delays 0, 1.5 and 2.0 ms, all targeting v directly.
    Connectivity c = Connectivity.fromPairs(1, 3, new int[] {0, 0, 0}, new int[] {0, 1, 2});
    net.add(new Projection("p", src, tgt, "v", c, new float[] {1, 2, 3}, new double[] {0, 1.5, 2.0}));
    StateMonitor mon = net.add(new StateMonitor(tgt, "v", new int[] {0, 1, 2}, 1));
    net.run(5, 1, null);
    float[][] v = mon.values();
    // Spike in step 10 (t = 1.0 ms). A delay of d steps adds the weight during step 10 + d,
    // so it shows in the state recorded at the start of step 11 + d.
    int[] arrive = {10, 25, 30};
    float[] w = {1, 2, 3};
    for (int k = 0; k < 3; k++) {
      assertEquals(-70f, v[arrive[k]][k], 1e-4, "neuron " + k + " before arrival");
      assertEquals(-70f + w[k], v[arrive[k] + 1][k], 1e-4, "neuron " + k + " right after arrival");
    }
  }

  @Test
  void nanBlowUpNamesTheVariableAndNeuron() {
    Network net = new Network(0.1, 1);
    Lif g = net.add(new Lif("cells", 10));
    g.var("v")[3] = Float.NaN;
    ChiveException e = assertThrows(ChiveException.class, () -> net.run(10, 2, null));
    assertTrue(e.getMessage().contains("'v'") && e.getMessage().contains("neuron 3"), e.getMessage());
    assertTrue(e.getMessage().contains("cells"), e.getMessage());
  }

  @Test
  void badInputIsNamed() {
    assertThrows(ChiveException.class, () -> new Network(0, 1));
    Network net = new Network(0.1, 1);
    Lif g = net.add(new Lif("g", 4));
    ChiveException e = assertThrows(ChiveException.class, () -> g.setParam("tau_x", 3));
    assertTrue(e.getMessage().contains("tau_x") && e.getMessage().contains("tau_m"), e.getMessage());
    e = assertThrows(ChiveException.class, () -> g.setParam("tau_m", -1));
    assertTrue(e.getMessage().contains("tau_m") && e.getMessage().contains("-1"), e.getMessage());
    assertEquals(20.0, g.param("tau_m"), "a rejected value leaves the old one");
    e = assertThrows(ChiveException.class, () -> g.var("w"));
    assertTrue(e.getMessage().contains("[v, ge, gi, i_ext]"), e.getMessage());
    assertThrows(ChiveException.class, () -> net.add(new Lif("g", 2)));
    assertThrows(ChiveException.class, () -> net.run(10, 0, null));
    Connectivity c = Connectivity.allToAll(4, 4);
    e = assertThrows(ChiveException.class, () -> new Projection("p", g, g, "gx", c, new float[16], null));
    assertTrue(e.getMessage().contains("gx"), e.getMessage());
  }

  @Test
  void memoryCheckRefusesImpossibleSizes() {
    ChiveException e = assertThrows(ChiveException.class,
        () -> Connectivity.fixedProbability(2_000_000, 2_000_000, 0.5, false, 1));
    assertTrue(e.getMessage().contains("synapses"), e.getMessage());
  }
}
