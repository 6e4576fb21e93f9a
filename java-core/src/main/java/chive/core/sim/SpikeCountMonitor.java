package chive.core.sim;

/**
 * Spike counts per neuron since the last {@link #reset}: what a training loop
 * needs per sample, in constant memory (a SpikeMonitor keeps every spike).
 */
public final class SpikeCountMonitor extends Monitor {
  /** Records spikes only: steps with none (quiet fast-forward) record nothing. */
  @Override protected boolean quietFor(long step, long n) { return true; }

  private final int[] counts;

  public SpikeCountMonitor(NeuronGroup group) { this(group, 0, group.size()); }

  /** Counts of neurons [lo, hi) of the group only (a subgroup); the array keeps the group's numbering. */
  public SpikeCountMonitor(NeuronGroup group, int lo, int hi) {
    super(group, lo, hi);
    counts = new int[group.size()];
  }

  @Override
  protected void partition(int threads) {}

  @Override
  protected void atEnd(int p, long step) {
    int[] sp = group.partSpikes[p];
    for (int k = 0, c = group.partCount[p]; k < c; k++) {
      int i = sp[k];
      if (i >= lo && i < hi) counts[i]++;
    }
  }

  /** Counts per neuron since the last reset (a copy). */
  public int[] counts() { return counts.clone(); }

  /** Total spikes since the last reset. */
  public long total() {
    long t = 0;
    for (int c : counts) t += c;
    return t;
  }

  public void reset() { java.util.Arrays.fill(counts, 0); }

  /** "counts" (live, per neuron of the group). */
  @Override
  public java.util.Map<String, Object> arrays() { return State.map("counts", counts); }

  @Override
  public void restore(java.util.Map<String, Object> saved) {
    checkIdle("restore a count monitor of '" + group.name() + "'");
    State.restoreLive("count monitor of '" + group.name() + "'", arrays(), saved);
  }

  @Override
  public long bytes() { return 4L * counts.length; }
}
