package chive.core.sim;

/**
 * Records something about a group during a run. Each thread records its own
 * range of neurons into its own buffers (no locks); readers merge them.
 *
 * <p>A new kind of monitor subclasses this (in any package), implements
 * {@link #partition}, {@link #atStart} and/or {@link #atEnd} over the
 * partition it is given (read the step's spikes with
 * {@link NeuronGroup#partitionSpikes}), and saves what it recorded through
 * {@link Stateful}: {@link #config} (the slice, plus whatever rebuilds it)
 * and {@link #arrays}/{@link #restore} (what it recorded so far).
 */
public abstract class Monitor implements Stateful {
  protected final NeuronGroup group;
  /** The neurons watched: [lo, hi) of the group (a subgroup), in the group's numbering. */
  protected final int lo, hi;

  protected Monitor(NeuronGroup group) { this(group, 0, group.size()); }

  protected Monitor(NeuronGroup group, int lo, int hi) {
    if (lo < 0 || hi > group.size() || lo >= hi) {
      throw new ChiveException("monitor: neurons [" + lo + ", " + hi + ") are not a slice of group '" + group.name()
          + "' of " + group.size());
    }
    this.group = group;
    this.lo = lo;
    this.hi = hi;
  }

  public NeuronGroup group() { return group; }
  /** First watched neuron (group numbering). */
  public int from() { return lo; }
  /** One past the last watched neuron. */
  public int to() { return hi; }
  /** True when the monitor watches the whole group. */
  public boolean whole() { return lo == 0 && hi == group.size(); }

  /** The run's thread count changed (or first run): fold partition buffers into the merged record. */
  protected abstract void partition(int threads);

  /** Phase A start, before the update of step {@code step}, on the thread that owns partition {@code p}. */
  protected void atStart(int p, long step) {}

  /** After resets of step {@code step}, on the thread that owns partition {@code p}. */
  protected void atEnd(int p, long step) {}

  /**
   * Whether this monitor allows steps [step, step + n) to be skipped in closed
   * form (quiet fast-forward, {@link Network#setFastForward}): true only for a
   * monitor that records nothing when no neuron spikes. Default false.
   */
  protected boolean quietFor(long step, long n) { return false; }

  /** {"from", "to"}: the watched slice; subclasses add to it. */
  @Override
  public java.util.Map<String, Object> config() { return State.map("from", lo, "to", hi); }

  /** Throws while the monitor's network runs. */
  protected final void checkIdle(String what) {
    if (group.guard != null) group.guard.checkIdle(what);
  }

  /** Bytes held. */
  public abstract long bytes();
}
