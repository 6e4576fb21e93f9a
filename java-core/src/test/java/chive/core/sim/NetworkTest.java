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
    Network net = randomNetwork(3);
    AtomicReference<Network.RunResult> result = new AtomicReference<>();
    AtomicReference<Boolean> flagAfter = new AtomicReference<>();
    Thread t = new Thread(() -> {
      // Long enough (10^7 steps, many seconds) that the interrupt lands mid-run
      // however fast the machine: 2 s of network time took only ~30 ms once.
      result.set(net.run(1_000_000, 2, null));
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
    assertTrue(r.stepsRun < 10_000_000, "stopped early: " + r.stepsRun);
    assertEquals(r.stepsRun, net.step());
    assertEquals(0, busySimulationThreads(), "every simulation thread finished its part");
    // continued on one thread, it equals one uninterrupted run to the same step
    long target = Math.max(20000, net.step() + 5000);
    Network whole = randomNetwork(3);
    whole.runSteps(target, 2, null);
    net.runSteps(target - net.step(), 1, null);
    assertArrayEquals(((SpikeMonitor) whole.monitors().get(0)).indices(), ((SpikeMonitor) net.monitors().get(0)).indices());
    assertArrayEquals(((SpikeMonitor) whole.monitors().get(0)).steps(), ((SpikeMonitor) net.monitors().get(0)).steps());
  }

  /** Simulation threads still running code (idle pooled threads wait in the pool). */
  static long busySimulationThreads() throws InterruptedException {
    for (int attempt = 0; ; attempt++) {
      long busy = Thread.getAllStackTraces().keySet().stream()
          .filter(x -> x.getName().startsWith("chive-sim-") && x.getState() == Thread.State.RUNNABLE).count();
      if (busy == 0 || attempt == 50) return busy;
      Thread.sleep(20); // a thread returning to the pool is briefly runnable
    }
  }

  @Test
  void aSecondRunOrAChangeDuringARunFailsFast() throws Exception {
    Network net = randomNetwork(4);
    Thread t = new Thread(() -> net.run(1e6, 1, null));
    t.start();
    while (!net.running()) Thread.sleep(1);
    ChiveException e = assertThrows(ChiveException.class, () -> net.run(10, 1, null));
    assertTrue(e.getMessage().contains("running") && e.getMessage().contains("one run at a time"), e.getMessage());
    e = assertThrows(ChiveException.class, () -> net.group("exc").setParam("tau_m", 25));
    assertTrue(e.getMessage().contains("tau_m") && e.getMessage().contains("running"), e.getMessage());
    assertEquals(20.0, net.group("exc").param("tau_m"));
    e = assertThrows(ChiveException.class, () -> ((PoissonGroup) net.group("in")).setRates(5));
    assertTrue(e.getMessage().contains("rates"), e.getMessage());
    e = assertThrows(ChiveException.class, () -> net.projections().get(0).normalizeIncoming(3));
    assertTrue(e.getMessage().contains("running"), e.getMessage());
    e = assertThrows(ChiveException.class, () -> net.setStep(0));
    assertTrue(e.getMessage().contains("clock"), e.getMessage());
    t.interrupt();
    t.join(10000);
    assertFalse(t.isAlive());
    assertFalse(net.running());
    net.group("exc").setParam("tau_m", 25); // fine once the run returned
    net.run(1, 1, null);
  }

  @Test
  void aRunStartedFromItsOwnProgressListenerFails() {
    Network net = randomNetwork(4);
    AtomicReference<Throwable> inner = new AtomicReference<>();
    ChiveException e = assertThrows(ChiveException.class, () -> net.run(3000, 1, (done, total, simMs, wall) -> {
      if (inner.get() == null) {
        try { net.run(1, 1, null); } catch (ChiveException x) { inner.set(x); throw x; }
      }
    }));
    assertTrue(inner.get() != null && e.getMessage().contains("one run at a time"), e.getMessage());
    assertFalse(net.running());
  }

  /**
   * nREPL's interrupt falls back on Thread.stop after a few seconds (honoured up
   * to JDK 19). A stop aimed at a non-interruptible run's caller ends the run
   * at a step boundary, leaves no thread spinning, and the network continues
   * exactly.
   */
  @Test
  void threadStopOnARunningCallerLeavesAConsistentNetwork() throws Exception {
    java.lang.reflect.Method stop = Thread.class.getMethod("stop");
    org.junit.jupiter.api.Assumptions.assumeTrue(Runtime.version().feature() < 20, "Thread.stop is a no-op from JDK 20 on");
    for (int threads : new int[] {1, 2}) {
      Network whole = randomNetwork(6);
      whole.runSteps(20000, 1, null);
      Network net = randomNetwork(6);
      AtomicReference<Throwable> thrown = new AtomicReference<>();
      Thread t = new Thread(() -> {
        try {
          net.runSteps(20000, threads, null, false);
        } catch (Throwable x) {
          thrown.set(x);
        }
      });
      t.start();
      while (net.step() < 100) Thread.sleep(1);
      stop.invoke(t);
      t.join(10000);
      assertFalse(t.isAlive(), "the caller died");
      assertEquals("java.lang.ThreadDeath", thrown.get().getClass().getName(), "the stop reached the caller");
      assertFalse(net.running(), "the network is free again");
      assertEquals(0, busySimulationThreads(), "no simulation thread left spinning");
      long at = net.step();
      assertTrue(at > 0 && at < 20000, "stopped early at a step boundary: " + at);
      net.runSteps(20000 - at, threads, null);
      SpikeMonitor a = (SpikeMonitor) whole.monitors().get(0), b = (SpikeMonitor) net.monitors().get(0);
      assertArrayEquals(a.indices(), b.indices(), threads + " threads: same spikes after continuing");
      assertArrayEquals(a.steps(), b.steps());
      assertArrayEquals(whole.group("exc").var("v"), net.group("exc").var("v"));
    }
  }

  /**
   * Thread.stop aimed at the caller at any instant, including while the run is
   * still handing its threads to the pool: the network is either untouched or
   * stopped at a step boundary, and continues exactly.
   */
  @Test
  void threadStopAtAnyInstantLeavesAConsistentNetwork() throws Exception {
    java.lang.reflect.Method stop = Thread.class.getMethod("stop");
    org.junit.jupiter.api.Assumptions.assumeTrue(Runtime.version().feature() < 20, "Thread.stop is a no-op from JDK 20 on");
    int total = 600;
    Network whole = randomNetwork(8);
    whole.runSteps(total, 1, null);
    SpikeMonitor a = (SpikeMonitor) whole.monitors().get(0);
    SplittableRandom r = new SplittableRandom(3);
    for (int trial = 0; trial < 40; trial++) {
      int threads = 1 + trial % 3;
      Network net = randomNetwork(8);
      Thread t = new Thread(() -> net.runSteps(total, threads, null, false));
      t.setUncaughtExceptionHandler((th, x) -> { });
      t.start();
      long until = System.nanoTime() + r.nextLong(300_000);
      while (System.nanoTime() < until) Thread.onSpinWait();
      stop.invoke(t);
      t.join(10000);
      assertFalse(t.isAlive(), "trial " + trial + ": the caller died");
      assertFalse(net.running(), "trial " + trial + ": the network is free again");
      assertEquals(0, busySimulationThreads(), "trial " + trial + ": no simulation thread left spinning");
      long at = net.step();
      assertTrue(at >= 0 && at <= total, "trial " + trial + ": at a step boundary: " + at);
      net.runSteps(total - at, threads, null);
      SpikeMonitor b = (SpikeMonitor) net.monitors().get(0);
      assertArrayEquals(a.indices(), b.indices(), "trial " + trial + " (" + threads + " threads, stopped at " + at + ")");
      assertArrayEquals(a.steps(), b.steps());
      assertArrayEquals(whole.group("exc").var("v"), net.group("exc").var("v"));
    }
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
