package chive.core.sim;

/**
 * Records something about a group during a run. Each thread records its own
 * range of neurons into its own buffers (no locks); readers merge them.
 */
public abstract class Monitor {
  protected final NeuronGroup group;

  protected Monitor(NeuronGroup group) { this.group = group; }

  public NeuronGroup group() { return group; }

  /** The run's thread count changed (or first run): fold partition buffers into the merged record. */
  abstract void partition(int threads);

  /** Phase A start, before the update of step {@code step}, on the thread that owns partition {@code p}. */
  void atStart(int p, long step) {}

  /** After resets of step {@code step}, on the thread that owns partition {@code p}. */
  void atEnd(int p, long step) {}

  /** Bytes held. */
  public abstract long bytes();
}
