package chive.core.model;

import chive.core.sim.ChiveException;
import chive.core.sim.NeuronGroup;
import java.util.Arrays;

/**
 * Neurons that spike at given times: neuron {@code indices[k]} at
 * {@code timesMs[k]}, in the step round(t/dt). Times before the network's
 * clock when a run starts are never emitted. A neuron may not spike twice in
 * one step.
 */
public final class SpikeGeneratorGroup extends NeuronGroup {
  private final int[] idx;
  private final double[] timesMs;
  private long[] steps;
  private int[] stepIdx;

  public SpikeGeneratorGroup(String name, int n, int[] indices, double[] timesMs) {
    super(name, n);
    if (indices.length != timesMs.length) {
      throw new ChiveException("spike generator '" + name + "': " + indices.length + " indices but " + timesMs.length + " times");
    }
    for (int k = 0; k < indices.length; k++) {
      if (indices[k] < 0 || indices[k] >= n) throw new ChiveException("spike generator '" + name + "': index " + indices[k] + " is outside [0, " + n + ")");
      if (!(timesMs[k] >= 0) || Double.isInfinite(timesMs[k])) throw new ChiveException("spike generator '" + name + "': time " + timesMs[k] + " ms must be finite and >= 0");
    }
    this.idx = indices.clone();
    this.timesMs = timesMs.clone();
  }

  @Override public String model() { return "spike generator"; }

  /** The schedule ("spike_indices", "spike_times_ms", as given) besides the group's arrays. */
  @Override
  public java.util.Map<String, Object> arrays() {
    java.util.Map<String, Object> m = super.arrays();
    m.put("spike_indices", idx);
    m.put("spike_times_ms", timesMs);
    return m;
  }

  /** The schedule as given: neuron of each spike. */
  public int[] spikeIndices() { return idx.clone(); }

  /** The schedule as given: time of each spike in ms. */
  public double[] spikeTimesMs() { return timesMs.clone(); }

  @Override
  public void restore(java.util.Map<String, Object> saved) {
    Object i = saved.get("spike_indices"), t = saved.get("spike_times_ms");
    if (!java.util.Arrays.equals(idx, i instanceof int[] ? (int[]) i : null)
        || !java.util.Arrays.equals(timesMs, t instanceof double[] ? (double[]) t : null)) {
      throw new ChiveException(this + ": the saved schedule (spike_indices, spike_times_ms) differs from this group's;"
          + " a spike generator is restored onto one built from its saved schedule");
    }
    super.restore(saved);
  }

  @Override
  protected void configure() {
    int m = idx.length;
    long[] keys = new long[m];
    for (int k = 0; k < m; k++) {
      long s = Math.round(timesMs[k] / dt);
      if (s > Integer.MAX_VALUE) throw new ChiveException("spike generator '" + name() + "': time " + timesMs[k] + " ms is too far ahead");
      keys[k] = (s << 32) | idx[k];
    }
    Arrays.sort(keys);
    steps = new long[m];
    stepIdx = new int[m];
    for (int k = 0; k < m; k++) {
      steps[k] = keys[k] >>> 32;
      stepIdx[k] = (int) keys[k];
      if (k > 0 && steps[k] == steps[k - 1] && stepIdx[k] == stepIdx[k - 1]) {
        throw new ChiveException("spike generator '" + name() + "': neuron " + stepIdx[k] + " spikes twice in step " + steps[k]
            + " (t = " + steps[k] * dt + " ms at dt " + dt + " ms)");
      }
    }
  }

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    int a = Arrays.binarySearch(steps, step);
    if (a < 0) return 0;
    while (a > 0 && steps[a - 1] == step) a--;
    int count = 0;
    for (int k = a; k < steps.length && steps[k] == step; k++) {
      int i = stepIdx[k];
      if (i >= from && i < to) spikes[count++] = i;
    }
    return count;
  }

  @Override
  protected void reset(int[] spikes, int count) {}
}
