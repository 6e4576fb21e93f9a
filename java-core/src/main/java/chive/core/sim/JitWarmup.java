package chive.core.sim;

import chive.core.model.HodgkinHuxley;
import chive.core.model.Izhikevich;
import chive.core.model.Lif;

/**
 * JIT warm-up on a spare core, so that the first network a fresh JVM runs
 * already meets compiled kernels.
 *
 * <p>Why: HotSpot compiles a method with its optimising compiler (C2) only
 * after some ten thousand calls or loop iterations, so the first run of a
 * network in a fresh JVM pays for interpreted and lightly compiled steps
 * (measured on CUBA, N = 4,000, 1 s: 0.14 s against 0.033 s once warm). JDK
 * 17 cannot store compiled code between processes. But a command-line start
 * spends most of a second loading Clojure on one core while the other idles.
 * {@link #start} uses that core: a daemon thread builds small private
 * networks (current-based LIF with delivery and spike monitors as in CUBA,
 * then Izhikevich, and with four or more processors Hodgkin-Huxley with
 * conductance synapses as in COBAHH) and steps them in chunks of
 * {@link #CHUNK} steps, one kind after the other, so that the kernels the
 * user's network calls are compiled by the time it runs.
 *
 * <p>It changes no result: the warm-up networks share no state with any
 * other network (random numbers are counter-based per network, scratch
 * arrays are per thread). It stops at the first chunk boundary after any
 * other network starts a run, so it does not compete with the user's steps
 * for long; it also stops after {@link #BUDGET_NS} of wall time. It starts only
 * when the JVM has at least two processors, and not at all with
 * {@code -Dchive.warmup=false}.
 */
public final class JitWarmup {
  private JitWarmup() {}

  /** At most this much wall time on warm-up. */
  static final long BUDGET_NS = 5_000_000_000L;
  /** Steps per chunk, between checks for a user's run. */
  static final int CHUNK = 10;
  /** Steps per kind after which it counts as warm. */
  static final int STEPS = 20_000;

  private static Thread thread;
  private static volatile long stepsDone;
  private static volatile String stoppedBecause = "not started";
  private static volatile double seconds;

  /** True when a warm-up would start here: two or more processors, and chive.warmup is not "false". */
  public static boolean enabled() {
    return !"false".equals(System.getProperty("chive.warmup")) && Runtime.getRuntime().availableProcessors() >= 2;
  }

  /** Starts the warm-up thread once per JVM, if {@link #enabled}; returns at once. */
  public static synchronized void start() {
    if (thread != null || !enabled()) return;
    stoppedBecause = "running";
    thread = new Thread(JitWarmup::run, "chive-jit-warmup");
    thread.setDaemon(true);
    thread.setPriority(Thread.MIN_PRIORITY);
    thread.start();
  }

  /** Waits for the warm-up thread to end (for tests and measurements); false on timeout. */
  public static boolean await(long millis) throws InterruptedException {
    Thread t;
    synchronized (JitWarmup.class) { t = thread; }
    if (t == null) return true;
    t.join(millis);
    return !t.isAlive();
  }

  /** Steps the warm-up networks ran so far. */
  public static long stepsDone() { return stepsDone; }

  /** Wall seconds the warm-up thread ran (0 until it ends). */
  public static double seconds() { return seconds; }

  /** Why the warm-up ended ("done", "a user run started", "time budget", "failed: ..."), or "running" / "not started". */
  public static String status() { return stoppedBecause; }

  /**
   * Entry point for launchers: starts the warm-up, then hands {@code args}
   * to {@code clojure.main} (bin/chive's commands start this way).
   */
  public static void main(String[] args) throws Throwable {
    start();
    try {
      Class.forName("clojure.main").getMethod("main", String[].class).invoke(null, (Object) args);
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static void run() {
    long t0 = System.nanoTime();
    try {
      // Each network has groups, a projection and spike monitors, so that the
      // loop's own methods are compiled for that shape; a switch to a
      // network of another shape made C2 discard them (measured). CUBA, the
      // commonest shape, comes last; its kernels are compiled about 0.3 s after
      // the warm-up starts. Hodgkin-Huxley's SIMD passes run very slowly until C2 compiles them
      // (the Vector API is intrinsified only by C2): about 1.5 s of a core,
      // which on two processors slows the start and the user's first run more
      // than it saves (measured on CUBA), so HH is warmed only with four or more.
      Network[] nets = Runtime.getRuntime().availableProcessors() >= 4
          ? new Network[] {izhikevich(), cobahh(), cuba()}
          : new Network[] {izhikevich(), cuba()};
      for (int k = 0; k < nets.length; k++) {
        for (int done = 0; done < STEPS; done += CHUNK) {
          if (Network.userRuns() > 0) { stoppedBecause = "a user run started"; return; }
          if (System.nanoTime() - t0 > BUDGET_NS) { stoppedBecause = "time budget"; return; }
          nets[k].runSteps(CHUNK, 1, null, false);
          stepsDone += CHUNK;
        }
      }
      stoppedBecause = "done";
    } catch (Throwable t) {
      stoppedBecause = "failed: " + t;
    } finally {
      seconds = (System.nanoTime() - t0) / 1e9;
    }
  }

  /** Uniform doubles in [lo, hi) from a counter-based stream. */
  private static void uniform(float[] a, double lo, double hi, long seed) {
    for (int i = 0; i < a.length; i++) a[i] = (float) (lo + (hi - lo) * Rng.uniform(seed, 0, i, 0));
  }

  private static float[] weights(Connectivity c, double w) {
    float[] a = new float[c.size()];
    java.util.Arrays.fill(a, (float) w);
    return a;
  }

  /**
   * CUBA as bench/cuba builds it (Brette et al. 2007), scaled to N = 200 with
   * the same 80 synapses per neuron: small, so that steps are cheap and the
   * calls that make the JIT compile come fast.
   */
  static Network cuba() {
    Network net = new Network(0.1, 1).markWarmup(true);
    Lif exc = net.add(new Lif("exc", 160));
    Lif inh = net.add(new Lif("inh", 40));
    for (Lif g : new Lif[] {exc, inh}) {
      g.setParam("v_rest", -49.0);
      uniform(g.var("v"), -60, -50, g.size());
    }
    int k = 0;
    for (Lif pre : new Lif[] {exc, inh}) {
      for (Lif post : new Lif[] {exc, inh}) {
        Connectivity c = Connectivity.fixedProbability(pre.size(), post.size(), 0.4, false, ++k);
        net.add(new Projection(pre.name() + "->" + post.name(), pre, post, pre == exc ? "ge" : "gi", c,
            weights(c, pre == exc ? 1.62 : -9.0), null));
      }
    }
    net.add(new SpikeMonitor(exc));
    net.add(new SpikeMonitor(inh));
    return net;
  }

  /**
   * COBAHH as bench/cobahh builds it (Brette et al. 2007), at N = 40, all to
   * all with twice the weights (40 inputs instead of 80).
   */
  static Network cobahh() {
    Network net = new Network(0.1, 2).markWarmup(true);
    HodgkinHuxley exc = net.add(new HodgkinHuxley("exc", 32));
    HodgkinHuxley inh = net.add(new HodgkinHuxley("inh", 8));
    for (HodgkinHuxley g : new HodgkinHuxley[] {exc, inh}) {
      uniform(g.var("v"), -70, -60, g.size());
      uniform(g.var("ge"), 0.02, 0.06, 2L * g.size());
      uniform(g.var("gi"), 0.1, 0.3, 3L * g.size());
    }
    int k = 0;
    for (HodgkinHuxley pre : new HodgkinHuxley[] {exc, inh}) {
      for (HodgkinHuxley post : new HodgkinHuxley[] {exc, inh}) {
        Connectivity c = Connectivity.fixedProbability(pre.size(), post.size(), 1.0, false, ++k);
        net.add(new Projection(pre.name() + "->" + post.name(), pre, post, pre == exc ? "ge" : "gi", c,
            weights(c, pre == exc ? 0.012 : 0.134), null));
      }
    }
    net.add(new SpikeMonitor(exc));
    net.add(new SpikeMonitor(inh));
    return net;
  }

  /**
   * Izhikevich regular-spiking cells with constant input, as bench/izhikevich
   * builds them, N = 100, plus weak random synapses.
   */
  static Network izhikevich() {
    Network net = new Network(0.1, 3).markWarmup(true);
    Izhikevich g = net.add(new Izhikevich("cells", 100));
    uniform(g.var("i_ext"), 3, 12, 7);
    Connectivity c = Connectivity.fixedProbability(100, 100, 0.1, true, 8);
    net.add(new Projection("cells->cells", g, g, "v", c, weights(c, 0.5), null));
    net.add(new SpikeMonitor(g));
    return net;
  }
}
