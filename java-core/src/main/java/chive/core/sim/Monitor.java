package chive.core.sim;

/**
 * Records something about a group during a run. Each thread records its own
 * range of neurons into its own buffers (no locks); readers merge them.
 */
public abstract class Monitor {
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
  abstract void partition(int threads);

  /** Phase A start, before the update of step {@code step}, on the thread that owns partition {@code p}. */
  void atStart(int p, long step) {}

  /** After resets of step {@code step}, on the thread that owns partition {@code p}. */
  void atEnd(int p, long step) {}

  /** Bytes held. */
  public abstract long bytes();
}
