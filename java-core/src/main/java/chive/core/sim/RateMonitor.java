package chive.core.sim;

/** Population rate of a group, every step: spikes / (N·dt), in Hz. */
public final class RateMonitor extends Monitor {
  private IntList[] counts = new IntList[0];
  private final IntList done = new IntList(1024);
  private int firstStep = -1;

  public RateMonitor(NeuronGroup group) { super(group); }

  /** Rate of neurons [lo, hi) of the group only (a subgroup). */
  public RateMonitor(NeuronGroup group, int lo, int hi) { super(group, lo, hi); }

  @Override
  protected synchronized void partition(int threads) {
    fold();
    counts = new IntList[threads];
    for (int p = 0; p < threads; p++) counts[p] = new IntList(1024);
  }

  private void fold() {
    if (counts.length == 0) return;
    int m = counts[0].size();
    for (int r = 0; r < m; r++) {
      int s = 0;
      for (IntList c : counts) s += c.get(r);
      done.add(s);
    }
    for (IntList c : counts) c.clear();
  }

  @Override
  protected void atEnd(int p, long step) {
    if (firstStep < 0 && p == 0) firstStep = (int) step;
    int c = group.partCount[p];
    if (lo != 0 || hi != group.size()) {
      int[] sp = group.partSpikes[p];
      int m = 0;
      for (int k = 0; k < c; k++) if (sp[k] >= lo && sp[k] < hi) m++;
      c = m;
    }
    counts[p].add(c);
  }

  /** First recorded step (-1 before any). */
  public int firstStep() { return firstStep; }

  /** Rate per step in Hz. */
  public synchronized double[] rates() {
    fold();
    double[] r = new double[done.size()];
    double scale = 1000.0 / ((hi - lo) * group.dt());
    for (int k = 0; k < r.length; k++) r[k] = done.get(k) * scale;
    return r;
  }

  /** Spike counts per step. */
  public synchronized int[] counts() { fold(); return done.toArray(); }

  /** "counts" (spikes per recorded step, a copy) and "first_step" (one value; -1 before any). */
  @Override
  public synchronized java.util.Map<String, Object> arrays() {
    return State.map("counts", counts(), "first_step", new int[] {firstStep});
  }

  @Override
  public synchronized void restore(java.util.Map<String, Object> saved) {
    checkIdle("restore a rate monitor of '" + group.name() + "'");
    String owner = "rate monitor of '" + group.name() + "'";
    State.sameNames(owner, arrays(), saved);
    int[] c = State.ints(owner, saved, "counts"), f = State.ints(owner, saved, "first_step");
    if (f.length != 1 || f[0] < -1 || (f[0] == -1 && c.length > 0)) {
      throw new ChiveException(owner + ": saved 'first_step' must be one step >= 0 (or -1 with no counts), got " + java.util.Arrays.toString(f));
    }
    for (int k = 0; k < c.length; k++) {
      if (c[k] < 0 || c[k] > hi - lo) throw new ChiveException(owner + ": saved count " + c[k] + " at " + k + " is outside 0.." + (hi - lo));
    }
    fold();
    done.clear();
    done.addAll(c, 0, c.length);
    firstStep = f[0];
  }

  @Override
  public long bytes() { return 4L * done.raw().length; }
}
