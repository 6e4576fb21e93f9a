package chive.core.sim;

/**
 * Every spike of a group: neuron index and step (time = step·dt, the start of
 * the step in which the threshold was crossed). Reads are ordered by time,
 * then index. 8 bytes per spike.
 */
public final class SpikeMonitor extends Monitor {
  /** Records spikes only: steps with none (quiet fast-forward) record nothing. */
  @Override protected boolean quietFor(long step, long n) { return true; }

  private IntList[] idx = new IntList[0];
  private IntList[] steps = new IntList[0];
  // Spikes recorded under earlier partitionings, already merged.
  private final IntList doneIdx = new IntList(64);
  private final IntList doneSteps = new IntList(64);

  public SpikeMonitor(NeuronGroup group) { super(group); }

  /** Spikes of neurons [lo, hi) of the group only (a subgroup); indices stay the group's. */
  public SpikeMonitor(NeuronGroup group, int lo, int hi) { super(group, lo, hi); }

  @Override
  protected synchronized void partition(int threads) {
    fold();
    idx = new IntList[threads];
    steps = new IntList[threads];
    for (int p = 0; p < threads; p++) {
      idx[p] = new IntList(256);
      steps[p] = new IntList(256);
    }
  }

  /** Merges the partition buffers (each in step order) into the done lists. */
  private void fold() {
    int parts = idx.length;
    if (parts == 0) return;
    int[] ptr = new int[parts];
    while (true) {
      long cur = Long.MAX_VALUE;
      for (int p = 0; p < parts; p++) if (ptr[p] < steps[p].size()) cur = Math.min(cur, steps[p].get(ptr[p]));
      if (cur == Long.MAX_VALUE) break;
      for (int p = 0; p < parts; p++) {
        while (ptr[p] < steps[p].size() && steps[p].get(ptr[p]) == cur) {
          doneIdx.add(idx[p].get(ptr[p]));
          doneSteps.add((int) cur);
          ptr[p]++;
        }
      }
    }
    for (int p = 0; p < parts; p++) { idx[p].clear(); steps[p].clear(); }
  }

  @Override
  protected void atEnd(int p, long step) {
    int c = group.partCount[p];
    if (c == 0) return;
    int[] sp = group.partSpikes[p];
    IntList st = steps[p];
    if (lo == 0 && hi == group.size()) {
      idx[p].addAll(sp, 0, c);
      for (int k = 0; k < c; k++) st.add((int) step);
    } else {
      for (int k = 0; k < c; k++) {
        int i = sp[k];
        if (i >= lo && i < hi) {
          idx[p].add(i);
          st.add((int) step);
        }
      }
    }
  }

  /** Neuron indices of all spikes, in time order. */
  public synchronized int[] indices() { fold(); return doneIdx.toArray(); }

  /** Steps of all spikes, in time order (multiply by dt for ms). */
  public synchronized int[] steps() { fold(); return doneSteps.toArray(); }

  /** Spike times in ms. */
  public synchronized double[] times() {
    fold();
    double[] t = new double[doneSteps.size()];
    for (int k = 0; k < t.length; k++) t[k] = doneSteps.get(k) * group.dt();
    return t;
  }

  public synchronized int count() { fold(); return doneIdx.size(); }

  /** Spike count per neuron. */
  public synchronized int[] countsPerNeuron() {
    fold();
    int[] c = new int[group.size()];
    for (int k = 0; k < doneIdx.size(); k++) c[doneIdx.get(k)]++;
    return c;
  }

  /** Adds spikes recorded earlier (restoring a saved monitor); steps must not be later than the network's clock. */
  public synchronized void restore(int[] indices, int[] steps) {
    if (indices.length != steps.length) throw new ChiveException("spike monitor: " + indices.length + " indices but " + steps.length + " steps");
    fold();
    for (int k = 0; k < indices.length; k++) {
      if (indices[k] < lo || indices[k] >= hi) throw new ChiveException("spike monitor of '" + group.name() + "': index " + indices[k] + " outside its neurons [" + lo + ", " + hi + ")");
      doneIdx.add(indices[k]);
      doneSteps.add(steps[k]);
    }
  }

  /** Forgets what was recorded. */
  public synchronized void clear() {
    fold();
    doneIdx.clear();
    doneSteps.clear();
  }

  /** "indices" and "steps" of every spike recorded so far (copies, in time order). */
  @Override
  public synchronized java.util.Map<String, Object> arrays() { return State.map("indices", indices(), "steps", steps()); }

  /** Replaces what was recorded by the saved spikes. */
  @Override
  public synchronized void restore(java.util.Map<String, Object> saved) {
    checkIdle("restore a spike monitor of '" + group.name() + "'");
    String owner = "spike monitor of '" + group.name() + "'";
    State.sameNames(owner, arrays(), saved);
    int[] i = State.ints(owner, saved, "indices"), st = State.ints(owner, saved, "steps");
    IntList keepIdx = new IntList(doneIdx.size()), keepSteps = new IntList(doneSteps.size());
    keepIdx.addAll(doneIdx.raw(), 0, doneIdx.size());
    keepSteps.addAll(doneSteps.raw(), 0, doneSteps.size());
    clear();
    try {
      restore(i, st);
    } catch (RuntimeException e) {
      clear();
      doneIdx.addAll(keepIdx.raw(), 0, keepIdx.size());
      doneSteps.addAll(keepSteps.raw(), 0, keepSteps.size());
      throw e;
    }
  }

  @Override
  public long bytes() { return 8L * (doneIdx.raw().length); }
}
