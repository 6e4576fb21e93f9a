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
 *       due now) and runs its plasticity, in parallel by post-neuron range;
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
  private final Map<String, NeuronGroup> groupsByName = new LinkedHashMap<>();
  private int partitionedFor = -1;
  /** Check state variables for NaN/inf every this many steps. */
  private static final int FINITE_CHECK_EVERY = 256;

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
  public long seed() { return seed; }
  /** Steps run so far; the clock is step·dt ms. */
  public long step() { return step; }
  public double timeMs() { return step * dt; }
  /** Restores the clock (for loading saved networks). */
  public void setStep(long s) {
    if (s < 0) throw new ChiveException("step must be >= 0, got " + s);
    step = s;
  }

  public List<NeuronGroup> groups() { return Collections.unmodifiableList(groups); }
  public List<Projection> projections() { return Collections.unmodifiableList(projections); }
  public List<Monitor> monitors() { return Collections.unmodifiableList(monitors); }

  public NeuronGroup group(String name) {
    NeuronGroup g = groupsByName.get(name);
    if (g == null) throw new ChiveException("no group named '" + name + "'; the network has " + groupsByName.keySet());
    return g;
  }

  public <G extends NeuronGroup> G add(G g) {
    if (groupsByName.containsKey(g.name())) throw new ChiveException("the network already has a group named '" + g.name() + "'");
    if (g.id >= 0) throw new ChiveException(g + " already belongs to a network");
    g.bind(dt, groups.size(), seed);
    groups.add(g);
    groupsByName.put(g.name(), g);
    partitionedFor = -1;
    return g;
  }

  public Projection add(Projection p) {
    if (!groups.contains(p.pre) || !groups.contains(p.post)) {
      throw new ChiveException(p + ": add both groups to the network first");
    }
    for (Projection q : projections) {
      if (q.name().equals(p.name())) throw new ChiveException("the network already has a projection named '" + p.name() + "'");
    }
    p.bind(dt, projections.size());
    projections.add(p);
    return p;
  }

  public <M extends Monitor> M add(M m) {
    if (!groups.contains(m.group)) throw new ChiveException("monitor of group '" + m.group.name() + "': add the group first");
    monitors.add(m);
    partitionedFor = -1;
    return m;
  }

  public boolean remove(Monitor m) {
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
   * Advances {@code steps} steps with {@code threads} threads (the caller's plus
   * threads - 1 workers). Stops early, at a step boundary, if the calling thread
   * is interrupted; the interrupt flag stays set for the caller to see.
   */
  public RunResult runSteps(long steps, int threads, ProgressListener listener) {
    return runSteps(steps, threads, listener, true);
  }

  /**
   * As {@link #runSteps(long, int, ProgressListener)}; with {@code interruptible}
   * false the run completes even if the thread is interrupted (the flag stays
   * set), so that a caller can make a short run, such as one training sample,
   * atomic and check the flag between runs.
   */
  public RunResult runSteps(long steps, int threads, ProgressListener listener, boolean interruptible) {
    if (steps < 0) throw new ChiveException("steps must be >= 0, got " + steps);
    if (threads < 1 || threads > 1024) throw new ChiveException("threads must be in 1..1024, got " + threads);
    if (groups.isEmpty()) throw new ChiveException("the network has no groups");
    if (partitionedFor != threads) {
      for (NeuronGroup g : groups) g.partition(threads);
      for (Monitor m : monitors) m.partition(threads);
      partitionedFor = threads;
    }
    long t0 = System.nanoTime();
    Loop loop = new Loop(threads, steps, listener, t0, interruptible);
    long done = loop.run();
    double wall = (System.nanoTime() - t0) / 1e9;
    if (listener != null) listener.progress(done, steps, step * dt, wall);
    return new RunResult(done, steps, loop.interrupted, wall, threads);
  }

  /** One run: the step loop on the calling thread and its workers. */
  private final class Loop {
    final int threads;
    final long steps;
    final ProgressListener listener;
    final long t0;
    final SpinBarrier barrier;
    final NeuronGroup[] gs = groups.toArray(new NeuronGroup[0]);
    final Projection[] ps = projections.toArray(new Projection[0]);
    final Projection[] plastic;
    final Monitor[] ms = monitors.toArray(new Monitor[0]);
    /** Set by the calling thread before the second barrier of a step: no next step. */
    volatile boolean stop;
    volatile Throwable failure;
    boolean interrupted;
    /** The step being run, published to workers by the barriers. */
    volatile long cur;

    final boolean interruptible;

    Loop(int threads, long steps, ProgressListener listener, long t0, boolean interruptible) {
      this.interruptible = interruptible;
      this.threads = threads;
      this.steps = steps;
      this.listener = listener;
      this.t0 = t0;
      this.barrier = threads > 1 ? new SpinBarrier(threads) : null;
      List<Projection> r = new ArrayList<>();
      for (Projection p : ps) if (p.plasticity() != null) r.add(p);
      plastic = r.toArray(new Projection[0]);
    }

    void fail(Throwable t) {
      synchronized (this) { if (failure == null) failure = t; }
    }

    long run() {
      if (steps == 0) return 0;
      Thread[] workers = new Thread[threads - 1];
      for (int p = 1; p < threads; p++) {
        final int part = p;
        workers[p - 1] = new Thread(() -> workerLoop(part), "chive-sim-" + p);
        workers[p - 1].setDaemon(true);
      }
      cur = step;
      for (Thread w : workers) w.start();
      long done = 0;
      boolean sense = false;
      long nextReport = System.nanoTime() + 500_000_000L;
      try {
        while (true) {
          long s = cur;
          try { phaseA(0, s); } catch (Throwable t) { fail(t); }
          if (barrier != null) sense = barrier.await(sense);
          if (failure == null) {
            try { phaseB(0, s); } catch (Throwable t) { fail(t); }
          }
          // Decide, before releasing the workers, whether there is a next step.
          if (interruptible && Thread.currentThread().isInterrupted()) { interrupted = true; stop = true; }
          if (done + 1 >= steps) stop = true;
          if (!stop) cur = s + 1; // published to the workers by the barrier
          if (barrier != null) sense = barrier.await(sense);
          // All threads finished step s. A failure anywhere stops here too.
          if (failure != null) { stop = true; break; }
          done++;
          step = s + 1;
          if (stop) break;
          if (listener != null && (done & 63) == 0) {
            long now = System.nanoTime();
            if (now >= nextReport) {
              listener.progress(done, steps, step * dt, (now - t0) / 1e9);
              nextReport = now + 500_000_000L;
            }
          }
        }
      } finally {
        boolean again = false;
        for (Thread w : workers) {
          while (true) {
            try { w.join(); break; } catch (InterruptedException ie) { again = true; }
          }
        }
        if (again) Thread.currentThread().interrupt();
      }
      Throwable f = failure;
      if (f instanceof RuntimeException) throw (RuntimeException) f;
      if (f instanceof Error) throw (Error) f;
      if (f != null) throw new ChiveException("simulation failed: " + f, f);
      for (int p = 0; p < threads; p++) for (NeuronGroup g : gs) g.checkFinite(g.partFrom[p], g.partTo[p], step);
      return done;
    }

    /**
     * Workers follow the same two barriers per step as the calling thread. A
     * worker that fails records the failure and keeps meeting the barriers until
     * the calling thread says stop, so nobody waits forever.
     */
    void workerLoop(int part) {
      boolean sense = false;
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
        if (stop || failure != null) return;
      }
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
        pr.deliver(post.partFrom[p], post.partTo[p], s, whole);
      }
      for (Projection pr : plastic) pr.plasticity().postStep(s, p);
      for (NeuronGroup g : gs) g.reset(g.partSpikes[p], g.partCount[p]);
      for (Monitor m : ms) m.atEnd(p, s);
    }
  }
}
