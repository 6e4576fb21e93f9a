package chive.core.sim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Groups, projections and monitors advanced together on a fixed dt.
 *
 * <p>One step at t = step·dt, in this order (Brian2's schedule):
 * <ol>
 *   <li>start: state monitors record; every group integrates its neurons from t
 *       to t + dt and tests its threshold (in parallel, by neuron range);
 *   <li>synapses: every projection delivers the step's spikes (and delayed ones
 *       due now), then Poisson inputs add their draws, then plasticity runs,
 *       in parallel by post-neuron range; input to a variable held while
 *       refractory is discarded for refractory neurons (including those that
 *       spiked in this step);
 *   <li>resets, then spike and rate monitors, in parallel by neuron range.
 * </ol>
 * A run with any number of threads gives bit-identical results: random numbers
 * are counter-based ({@link Rng}: a function of seed, group, neuron and step),
 * and each post neuron sums its inputs in ascending presynaptic order.
 *
 * <p>{@link #run} continues where the last run stopped, checks the calling
 * thread's interrupt flag every step (JDK 20+ cannot stop a thread any other
 * way), joins its workers and returns with the network consistent at a step
 * boundary.
 */
public final class Network {
  private final double dt;
  private final long seed;
  private long step;
  private final List<NeuronGroup> groups = new ArrayList<>();
  private final List<Projection> projections = new ArrayList<>();
  private final List<Monitor> monitors = new ArrayList<>();
  private final List<Input> inputs = new ArrayList<>();
  private final Map<String, NeuronGroup> groupsByName = new LinkedHashMap<>();
  private int partitionedFor = -1;
  final RunGuard guard = new RunGuard("the network");
  /** Check state variables for NaN/inf every this many steps. */
  private static final int FINITE_CHECK_EVERY = 256;
  /** Quiet fast-forward: steps between checks (a power of two), and the fewest remaining steps worth a check. */
  static final int QUIET_CHECK_EVERY = 16;
  /** On unless the system property chive.fastForward is "false" (for comparisons from the command line). */
  private volatile boolean fastForward = !"false".equals(System.getProperty("chive.fastForward"));
  /** Steps advanced in closed form by quiet fast-forward, since the network was made. */
  private volatile long quietSteps;
  /** One of {@link JitWarmup}'s private networks: its runs do not count in {@link #userRuns}. */
  private boolean warmup;
  /** Runs started by networks other than the warm-up's, in this JVM. */
  private static final java.util.concurrent.atomic.AtomicLong USER_RUNS = new java.util.concurrent.atomic.AtomicLong();

  /** Progress of a run, reported from the calling thread. */
  public interface ProgressListener {
    /** @param done steps done in this run, of {@code total}; {@code simMs} simulated, {@code wallS} elapsed */
    void progress(long done, long total, double simMs, double wallS);
  }

  /** What a run did. */
  public static final class RunResult {
    public final long stepsRun;
    public final long stepsRequested;
    public final boolean interrupted;
    public final double wallSeconds;
    public final int threads;

    RunResult(long stepsRun, long stepsRequested, boolean interrupted, double wallSeconds, int threads) {
      this.stepsRun = stepsRun;
      this.stepsRequested = stepsRequested;
      this.interrupted = interrupted;
      this.wallSeconds = wallSeconds;
      this.threads = threads;
    }
  }

  public Network(double dtMs, long seed) {
    if (!(dtMs > 0) || Double.isInfinite(dtMs)) throw new ChiveException("dt must be a positive number of ms, got " + dtMs);
    this.dt = dtMs;
    this.seed = seed;
  }

  public double dt() { return dt; }

  /** Marks this network as one of {@link JitWarmup}'s, or not. */
  Network markWarmup(boolean on) { warmup = on; return this; }

  /** Runs started in this JVM by networks other than {@link JitWarmup}'s. */
  public static long userRuns() { return USER_RUNS.get(); }
  public long seed() { return seed; }
  /** Steps run so far; the clock is step·dt ms. */
  public long step() { return step; }
  public double timeMs() { return step * dt; }
  /** Restores the clock (for loading saved networks). */
  public void setStep(long s) {
    guard.checkIdle("set the clock");
    if (s < 0) throw new ChiveException("step must be >= 0, got " + s);
    step = s;
  }

  /**
   * Quiet fast-forward (on by default): every 16th step, when
   * no group can spike before the end of the run without input (every group,
   * learning rule, input and monitor says so, and no delayed spike is in
   * flight), the remaining steps of the run are advanced in closed form
   * instead of stepped: the rest between two stimuli of a training protocol
   * costs one pass over the state. A model opts in by overriding
   * {@link NeuronGroup#quietFor} and {@link NeuronGroup#advanceQuiet} (today
   * COBA LIF and Poisson groups with every rate 0, STDP, spike and spike-count
   * monitors); anything else keeps the network stepped. The closed form is
   * exact in real arithmetic; against float stepping it differs by rounding
   * (each model states its bound). Off: every step is stepped. The JVM
   * option {@code -Dchive.fastForward=false} turns it off for every network.
   */
  public void setFastForward(boolean on) {
    guard.checkIdle("switch quiet fast-forward");
    fastForward = on;
  }

  public boolean fastForward() { return fastForward; }

  /** Steps advanced in closed form by quiet fast-forward since the network was made. */
  public long quietSteps() { return quietSteps; }

  public List<NeuronGroup> groups() { return Collections.unmodifiableList(groups); }
  public List<Projection> projections() { return Collections.unmodifiableList(projections); }
  public List<Monitor> monitors() { return Collections.unmodifiableList(monitors); }
  public List<Input> inputs() { return Collections.unmodifiableList(inputs); }

  public NeuronGroup group(String name) {
    NeuronGroup g = groupsByName.get(name);
    if (g == null) throw new ChiveException("no group named '" + name + "'; the network has " + groupsByName.keySet());
    return g;
  }

  public <G extends NeuronGroup> G add(G g) {
    guard.checkIdle("add group '" + g.name() + "'");
    if (groupsByName.containsKey(g.name())) throw new ChiveException("the network already has a group named '" + g.name() + "'");
    if (g.id >= 0) throw new ChiveException(g + " already belongs to a network");
    g.bind(dt, groups.size(), seed);
    g.guard = guard;
    groups.add(g);
    groupsByName.put(g.name(), g);
    partitionedFor = -1;
    return g;
  }

  public Projection add(Projection p) {
    guard.checkIdle("add projection '" + p.name() + "'");
    if (!groups.contains(p.pre) || !groups.contains(p.post)) {
      throw new ChiveException(p + ": add both groups to the network first");
    }
    for (Projection q : projections) {
      if (q.name().equals(p.name())) throw new ChiveException("the network already has a projection named '" + p.name() + "'");
    }
    p.bind(dt, projections.size());
    p.guard = guard;
    projections.add(p);
    return p;
  }

  /** Adds input (Poisson or another kind) to a group of this network (applied in the synaptic phase, after projections). */
  public <I extends Input> I add(I in) {
    guard.checkIdle("add input '" + in.name() + "'");
    if (!groups.contains(in.target)) throw new ChiveException(in + ": add its group to the network first");
    for (Input q : inputs) {
      if (q.name().equals(in.name())) throw new ChiveException("the network already has an input named '" + in.name() + "'");
    }
    if (in.id >= 0) throw new ChiveException(in + " already belongs to a network");
    in.bind(dt, inputs.size(), seed);
    in.guard = guard;
    inputs.add(in);
    return in;
  }

  public <M extends Monitor> M add(M m) {
    guard.checkIdle("add a monitor");
    if (!groups.contains(m.group)) throw new ChiveException("monitor of group '" + m.group.name() + "': add the group first");
    monitors.add(m);
    partitionedFor = -1;
    return m;
  }

  public boolean remove(Monitor m) {
    guard.checkIdle("remove a monitor");
    partitionedFor = -1;
    return monitors.remove(m);
  }

  /**
   * A thread count for this network on this machine: the available processors
   * when a step holds enough work to pay for two cross-core barriers (about
   * 50 µs of neuron updates), else 1. Results do not depend on it.
   */
  public int suggestedThreads() {
    double ns = 0;
    for (NeuronGroup g : groups) ns += g.costPerNeuronNs() * g.size();
    int cores = Runtime.getRuntime().availableProcessors();
    if (ns < 50_000) return 1;
    return (int) Math.max(1, Math.min(cores, ns / 25_000));
  }

  /** Bytes held by groups, projections and monitors. */
  public long bytes() {
    long b = 0;
    for (NeuronGroup g : groups) b += g.bytes();
    for (Projection p : projections) b += p.bytes();
    for (Monitor m : monitors) b += m.bytes();
    return b;
  }

  /** Runs {@code durationMs} (rounded to whole steps); see {@link #runSteps}. */
  public RunResult run(double durationMs, int threads, ProgressListener listener) {
    if (!(durationMs >= 0) || Double.isInfinite(durationMs)) throw new ChiveException("duration must be >= 0 ms, got " + durationMs);
    return runSteps(Math.round(durationMs / dt), threads, listener);
  }

  /**
   * Advances {@code steps} steps with {@code threads} threads. Stops early, at
   * a step boundary, if the calling thread is interrupted; the interrupt flag
   * stays set for the caller to see.
   */
  public RunResult runSteps(long steps, int threads, ProgressListener listener) {
    return runSteps(steps, threads, listener, true);
  }

  /**
   * As {@link #runSteps(long, int, ProgressListener)}; with {@code interruptible}
   * false the run completes even if the thread is interrupted (the flag stays
   * set), so that a caller can make a short run, such as one training sample,
   * atomic and check the flag between runs.
   *
   * <p>One run at a time: a second call while a run is in progress (from any
   * thread, or from the listener) throws at once, as do the mutators of the
   * network's groups and projections ({@link #checkIdle}).
   *
   * <p>The steps run on chive's own threads ({@code chive-sim-*}); the calling
   * thread waits, relays its interrupt and calls {@code listener}. So an
   * asynchronous exception aimed at the caller (nREPL's {@code Thread.stop}
   * fallback, honoured up to JDK 19) cannot stop a step half-way: the run
   * then ends at the next step boundary, even when not interruptible, every
   * simulation thread finishes, and the exception is rethrown to the caller.
   */
  public RunResult runSteps(long steps, int threads, ProgressListener listener, boolean interruptible) {
    if (steps < 0) throw new ChiveException("steps must be >= 0, got " + steps);
    if (threads < 1 || threads > 1024) throw new ChiveException("threads must be in 1..1024, got " + threads);
    if (groups.isEmpty()) throw new ChiveException("the network has no groups");
    Thread me = Thread.currentThread();
    // Acquired inside the try and released only by its owner, so that an
    // asynchronous exception between the two cannot leave the network "running".
    try {
      if (!guard.runner.compareAndSet(null, me)) throw guard.busy("start another run");
      if (!warmup) USER_RUNS.incrementAndGet();
      for (NeuronGroup g : groups) g.beforeRun();
      // Partitioning for a new thread count happens on the coordinating
      // simulation thread (Loop.prepare), not here: a Thread.stop of the caller
      // must not leave half-partitioned groups or monitors behind.
      long t0 = System.nanoTime();
      Loop loop = new Loop(threads, steps, t0);
      boolean wasInterrupted = false;
      Throwable callerFailure = null;
      if (interruptible && me.isInterrupted()) loop.stopRequested = true;
      // Every statement from here on can be hit by an asynchronous exception (Thread.stop
      // on the caller). The simulation threads wait at a gate until every one of them has
      // been handed to the pool; a failure before the gate opens closes it instead, and
      // then no simulation thread touches the network.
      while (true) {
        try {
          int gate = loop.gate.get();
          if (gate == Loop.WAIT) {
            if (callerFailure == null) loop.start();
            gate = loop.decide(callerFailure == null);
          } else {
            loop.gateOpen.countDown();
          }
          if (gate == Loop.ABORT) break;
          if (loop.awaitDone(500)) break;
          if (listener != null && callerFailure == null) listener.progress(loop.done, steps, loop.doneStep * dt, (System.nanoTime() - t0) / 1e9);
        } catch (InterruptedException ie) {
          wasInterrupted = true;
          if (interruptible) loop.stopRequested = true;
        } catch (Throwable t) {
          // Thread.stop on the caller, a thread that could not be started, or a listener
          // that threw: end at the next step boundary (or never start), let every
          // simulation thread finish, then rethrow.
          if (callerFailure == null) callerFailure = t;
          loop.stopRequested = true;
        }
      }
      if (wasInterrupted) me.interrupt();
      double wall = (System.nanoTime() - t0) / 1e9;
      if (callerFailure != null) {
        if (callerFailure instanceof RuntimeException) throw (RuntimeException) callerFailure;
        if (callerFailure instanceof Error) throw (Error) callerFailure;
        throw new ChiveException("run stopped: " + callerFailure, callerFailure);
      }
      Throwable f = loop.failure;
      if (f instanceof RuntimeException) throw (RuntimeException) f;
      if (f instanceof Error) throw (Error) f;
      if (f != null) throw new ChiveException("simulation failed: " + f, f);
      if (listener != null) listener.progress(loop.done, steps, step * dt, wall);
      return new RunResult(loop.done, steps, loop.stopRequested && loop.done < steps, wall, threads);
    } finally {
      guard.runner.compareAndSet(me, null);
    }
  }

  /** Throws a ChiveException saying that {@code what} cannot happen while a run is in progress. */
  public void checkIdle(String what) { guard.checkIdle(what); }

  /** True while a run is in progress. */
  public boolean running() { return guard.runner.get() != null; }

  /** How long a waiting thread spins before it parks. */
  private static final long SPIN_NS = 50_000;

  /** Threads that run steps; idle ones end after a few seconds. */
  private static final java.util.concurrent.ExecutorService POOL = new java.util.concurrent.ThreadPoolExecutor(
      0, Integer.MAX_VALUE, 5, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.SynchronousQueue<>(),
      new java.util.concurrent.ThreadFactory() {
        private final java.util.concurrent.atomic.AtomicInteger k = new java.util.concurrent.atomic.AtomicInteger();
        @Override public Thread newThread(Runnable r) {
          Thread t = new Thread(r, "chive-sim-" + k.incrementAndGet());
          t.setDaemon(true);
          return t;
        }
      });

  /** One run: a coordinating simulation thread (part 0) and its workers, all from {@link #POOL}. */
  private final class Loop {
    final int threads;
    final long steps;
    final long t0;
    final SpinBarrier barrier;
    final NeuronGroup[] gs = groups.toArray(new NeuronGroup[0]);
    final Projection[] ps = projections.toArray(new Projection[0]);
    final Projection[] plastic;
    final Monitor[] ms = monitors.toArray(new Monitor[0]);
    final Input[] ins = inputs.toArray(new Input[0]);
    /** Set by the caller: end after the current step. */
    volatile boolean stopRequested;
    /** Set by the coordinator before the second barrier of a step: no next step. */
    volatile boolean stop;
    /** Set by the coordinator before the barrier of a quiet check: the run ended there (advanced in closed form, or failed). */
    volatile boolean leave;
    volatile Throwable failure;
    /** Steps done, and the network's step after them, for progress reports. */
    volatile long done;
    volatile long doneStep;
    /** The step being run, published to workers by the barriers. */
    volatile long cur;
    final java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);
    final java.util.concurrent.CountDownLatch workersDone;

    /** {@link #fastForward} when the run started. */
    final boolean fastForwardRun = fastForward;

    Loop(int threads, long steps, long t0) {
      this.threads = threads;
      this.steps = steps;
      this.t0 = t0;
      this.barrier = threads > 1 ? new SpinBarrier(threads) : null;
      this.workersDone = new java.util.concurrent.CountDownLatch(threads - 1);
      this.doneStep = step;
      List<Projection> r = new ArrayList<>();
      for (Projection p : ps) if (p.plasticity() != null) r.add(p);
      plastic = r.toArray(new Projection[0]);
    }

    void fail(Throwable t) {
      synchronized (this) { if (failure == null) failure = t; }
    }

    static final int WAIT = 0, GO = 1, ABORT = 2;
    /** WAIT until the caller has handed every simulation thread to the pool; then GO, or ABORT. */
    final java.util.concurrent.atomic.AtomicInteger gate = new java.util.concurrent.atomic.AtomicInteger(WAIT);
    final java.util.concurrent.CountDownLatch gateOpen = new java.util.concurrent.CountDownLatch(1);

    /**
     * Hands the simulation threads to the pool; they wait at the gate. Throws if a
     * thread cannot be started (or the caller is stopped): the caller then closes
     * the gate and the threads already handed over return without a step.
     */
    void start() {
      if (steps == 0) {
        finished.countDown();
        return;
      }
      cur = step;
      for (int p = 1; p < threads; p++) {
        final int part = p;
        POOL.execute(() -> {
          try {
            if (passGate()) workerLoop(part);
          } finally {
            workersDone.countDown();
          }
        });
      }
      POOL.execute(this::coordinate);
    }

    /** Opens (go) or closes the gate unless already decided; returns the decision. */
    int decide(boolean go) {
      gate.compareAndSet(WAIT, go ? GO : ABORT);
      gateOpen.countDown();
      return gate.get();
    }

    /** Waits at the gate (spinning briefly: runs are often microseconds); true when the run goes ahead. */
    private boolean passGate() {
      long until = System.nanoTime() + SPIN_NS;
      while (gate.get() == WAIT && System.nanoTime() < until) Thread.onSpinWait();
      while (gate.get() == WAIT) {
        try { gateOpen.await(); } catch (InterruptedException ie) { /* pool threads are not ours to interrupt */ }
      }
      return gate.get() == GO;
    }

    /** Waits up to {@code ms} for the run to end; true when it has. */
    boolean awaitDone(long ms) throws InterruptedException {
      // Short runs end within microseconds: spin briefly before parking (waking costs ~10 µs).
      long until = System.nanoTime() + SPIN_NS;
      while (System.nanoTime() < until) {
        if (finished.getCount() == 0) return true;
        Thread.onSpinWait();
      }
      return finished.await(ms, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** On the coordinating thread, before the first step: partition for this thread count if it changed. */
    private void prepare() {
      if (partitionedFor != threads) {
        partitionedFor = -1;
        for (NeuronGroup g : gs) g.partition(threads);
        for (Monitor m : ms) m.partition(threads);
        partitionedFor = threads;
      }
      // Each projection's row splits for its post group's partitions (a no-op when current).
      for (Projection pr : ps) pr.partitionRows();
    }

    private void coordinate() {
      // Every worker was handed to the pool before this task, so each counts down workersDone.
      if (!passGate()) return;
      try {
        try {
          prepare();
        } catch (Throwable t) {
          fail(t);
          stop = true;
        }
        // Workers wait here until the partitions exist; a failure stops them too.
        boolean sense = barrier != null && barrier.await(false);
        if (!stop) runSteps(sense);
      } catch (Throwable t) {
        fail(t);
      } finally {
        // Wait for every worker, whatever happened, before the caller may touch the network.
        boolean waited = false;
        while (!waited) {
          try { workersDone.await(); waited = true; } catch (InterruptedException ie) { /* pool threads are not ours to interrupt */ }
        }
        finished.countDown();
      }
    }

    private void runSteps(boolean sense) {
      while (true) {
        long s = cur;
        if (failure == null) {
          try { phaseA(0, s); } catch (Throwable t) { fail(t); }
        }
        if (barrier != null) sense = barrier.await(sense);
        if (failure == null) {
          try { phaseB(0, s); } catch (Throwable t) { fail(t); }
        }
        // Decide, before releasing the workers, whether there is a next step.
        // Every thread leaves on this decision alone (read after the barrier):
        // a failure recorded later (a worker's phase B still running, or this
        // thread's next phase A) must not let a worker leave while this thread
        // goes on to the next barrier (a deadlock seen once in NetworkTest).
        // Such a failure stops the run at the next step's decision.
        if (failure != null || stopRequested || done + 1 >= steps) stop = true;
        if (!stop) cur = s + 1; // published to the workers by the barrier
        boolean last = stop;
        if (barrier != null) sense = barrier.await(sense);
        // All threads finished step s; a step with a failure does not count.
        if (failure == null) {
          done = done + 1;
          step = s + 1;
          doneStep = step;
        }
        if (last) break;
        // Quiet fast-forward, at every 16th step: when nothing can spike before the
        // end of the run, the rest of it is advanced in closed form. Every thread
        // knows a check step from the step number alone; the workers wait for the
        // check at one more barrier, so the state is whole while it is read, and
        // the outcome does not depend on the thread count.
        if (checkStep(cur)) {
          long n = steps - done;
          try {
            if (failure == null && n >= QUIET_CHECK_EVERY && quietFor(step, n)) {
              advanceQuiet(step, n);
              done = done + n;
              step = step + n;
              doneStep = step;
              quietSteps += n;
              leave = true;
            }
          } catch (Throwable t) {
            fail(t);
            leave = true;
          }
          // Not 'stop': a worker may still be about to read stop after the last barrier.
          if (barrier != null) sense = barrier.await(sense);
          if (leave) break;
        }
      }
      if (failure == null) {
        for (int p = 0; p < threads; p++) for (NeuronGroup g : gs) g.checkFinite(g.partFrom[p], g.partTo[p], step);
      }
    }

    /**
     * Workers follow the same two barriers per step as the calling thread. A
     * worker that fails records the failure and keeps meeting the barriers until
     * the calling thread says stop, so nobody waits forever.
     */
    void workerLoop(int part) {
      // The coordinator partitions first (prepare); wait for it.
      boolean sense = barrier.await(false);
      if (stop) return; // set with a failure of prepare, before that barrier
      while (true) {
        long s = cur;
        if (failure == null) {
          try { phaseA(part, s); } catch (Throwable t) { fail(t); }
        }
        sense = barrier.await(sense);
        if (failure == null) {
          try { phaseB(part, s); } catch (Throwable t) { fail(t); }
        }
        sense = barrier.await(sense);
        if (stop) return; // the coordinator's decision for this step (see runSteps)
        if (checkStep(cur)) {
          sense = barrier.await(sense); // the coordinator checks for quiet (see runSteps)
          if (leave) return;
        }
      }
    }

    /** Quiet fast-forward checks before step c (every thread agrees: it depends on c and a flag fixed for the run). */
    boolean checkStep(long c) {
      return fastForwardRun && (c & (QUIET_CHECK_EVERY - 1)) == 0;
    }

    /** Every group, projection, learning rule, input and monitor agrees that steps [s, s + n) are quiet. */
    private boolean quietFor(long s, long n) {
      for (NeuronGroup g : gs) if (!g.quietFor(s, n)) return false;
      for (Input in : ins) if (!in.quietFor(s, n)) return false;
      for (Monitor m : ms) if (!m.quietFor(s, n)) return false;
      for (Projection pr : plastic) if (!pr.plasticity().quietFor(s, n)) return false;
      for (Projection pr : ps) if (!pr.nothingInFlight()) return false;
      return true;
    }

    private void advanceQuiet(long s, long n) {
      for (NeuronGroup g : gs) g.advanceQuiet(s, n);
      for (Projection pr : plastic) pr.plasticity().advanceQuiet(s, n);
    }

    void phaseA(int p, long s) {
      for (Monitor m : ms) m.atStart(p, s);
      for (NeuronGroup g : gs) {
        g.partCount[p] = g.update(g.partFrom[p], g.partTo[p], s, g.partSpikes[p]);
        if ((s & (FINITE_CHECK_EVERY - 1)) == 0) g.checkFinite(g.partFrom[p], g.partTo[p], s);
      }
      for (Projection pr : plastic) pr.plasticity().preStep(s, p);
    }

    void phaseB(int p, long s) {
      boolean whole = threads == 1;
      for (Projection pr : ps) {
        NeuronGroup post = pr.post;
        pr.deliver(p, post.partFrom[p], post.partTo[p], s, whole);
      }
      for (Input in : ins) in.apply(in.target.partFrom[p], in.target.partTo[p], s);
      for (Projection pr : plastic) pr.plasticity().postStep(s, p);
      for (NeuronGroup g : gs) g.reset(g.partSpikes[p], g.partCount[p]);
      for (Monitor m : ms) m.atEnd(p, s);
    }
  }
}
