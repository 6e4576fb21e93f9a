package chive.core.model;

import chive.core.sim.ChiveException;
import chive.core.sim.NeuronGroup;
import chive.core.sim.Rng;

/**
 * Independent Poisson spike sources with per-neuron rates (Hz), settable
 * between runs through the live {@code rate} array or {@link #setRates}.
 * Neuron i spikes in step s when u(seed, group, i, s) &lt; rate_i·dt, with u a
 * counter-based uniform ({@link Rng}), so the trains do not depend on the
 * thread count and are reproduced exactly from the seed and the clock.
 */
public final class PoissonGroup extends NeuronGroup {
  private final float[] rate;
  private double dtSeconds;
  /** Rng.key(seed, group, i) per neuron: one mixing round per neuron and step instead of four. */
  private long[] keys;
  /**
   * The neurons with a rate above 0, ascending, and rate·dt for each (fixed
   * for a run: the rates change only between runs). A step draws only for
   * these: an image's dark pixels, or a silent input between presentations,
   * cost nothing. The draws and spikes are those of a loop over every neuron.
   */
  private int[] active = new int[0];
  private double[] activeP = new double[0];
  private int activeCount;
  /**
   * Per active neuron (as {@code active}): its key, and ⌈p·2^53⌉: the test
   * u &lt; p with u = (bits &gt;&gt;&gt; 11)·2^-53 is exactly (bits &gt;&gt;&gt; 11) &lt; ⌈p·2^53⌉
   * (an integer below 2^53 against p scaled by a power of two), the form the
   * SIMD path ({@link PoissonVector}) evaluates on 64-bit lanes.
   */
  long[] activeKey = new long[0], activeT = new long[0];
  /** Scratch for PoissonVector, by active position (threads draw disjoint positions). */
  long[] activeD = new long[0];
  /** This group's use of the SIMD draws (tests compare it with the scalar loop). */
  boolean vector = chive.core.kernel.Simd.ENABLED;

  public PoissonGroup(String name, int n) {
    super(name, n);
    rate = addVar("rate", 0f);
    unit("rate", "Hz");
  }

  @Override public double costPerNeuronNs() { return 3.0; }

  @Override public String model() { return "Poisson"; }

  @Override
  protected void configure() {
    dtSeconds = dt / 1000.0;
    keys = new long[n];
    for (int i = 0; i < n; i++) keys[i] = Rng.key(seed, id(), i);
  }

  /** Sets every rate (Hz); one value per neuron, or one for all. */
  public void setRates(double... hz) {
    checkIdle("set the rates of Poisson group '" + name() + "'");
    if (hz.length != 1 && hz.length != n) {
      throw new ChiveException("Poisson group '" + name() + "': " + hz.length + " rates for " + n + " neurons (give 1 or " + n + ")");
    }
    for (int i = 0; i < hz.length; i++) {
      if (!(hz[i] >= 0) || Double.isInfinite(hz[i])) {
        throw new ChiveException("Poisson group '" + name() + "': rate of neuron " + i + " must be finite and >= 0 Hz, got " + hz[i]);
      }
      if (!Double.isNaN(dt) && hz[i] * dt / 1000.0 > 1.0) {
        throw new ChiveException("Poisson group '" + name() + "': rate of neuron " + i + " is " + hz[i] + " Hz, above 1/dt = "
            + (1000.0 / dt) + " Hz: a neuron spikes at most once per step of " + dt + " ms (it would be capped silently)");
      }
    }
    for (int i = 0; i < n; i++) rate[i] = (float) hz[hz.length == 1 ? 0 : i];
  }

  /** Rates are a live array: checked before every run (negative, NaN, or above 1/dt are errors). */
  @Override
  protected void beforeRun() {
    double max = 1000.0 / dt;
    // Filled in locals and published at the end: a Thread.stop of the caller
    // anywhere in here leaves arrays that the next run's call replaces.
    int[] active = this.active;
    double[] activeP = this.activeP;
    if (active.length != n || activeP.length != n) {
      active = new int[n];
      activeP = new double[n];
    }
    int c = 0;
    for (int i = 0; i < n; i++) {
      float r = rate[i];
      if (!(r >= 0) || r > max) {
        throw new ChiveException("Poisson group '" + name() + "': rate of neuron " + i + " is " + r + " Hz; rates must be "
            + "between 0 and 1/dt = " + max + " Hz (a neuron spikes at most once per step of " + dt + " ms)");
      }
      if (r > 0) {
        active[c] = i;
        activeP[c++] = r * dtSeconds;
      }
    }
    long[] activeKey = this.activeKey, activeT = this.activeT;
    if (activeKey.length != n) {
      activeKey = new long[n];
      activeT = new long[n];
    }
    for (int q = 0; q < c; q++) {
      activeKey[q] = keys[active[q]];
      activeT[q] = (long) Math.ceil(activeP[q] * 0x1.0p53);
    }
    this.activeCount = 0;
    this.active = active;
    this.activeP = activeP;
    this.activeKey = activeKey;
    this.activeT = activeT;
    if (activeD.length != n) activeD = new long[n];
    this.activeCount = c;
  }

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    final int[] active = this.active;
    final double[] p = activeP;
    final long[] keys = this.keys;
    // The active neurons in [from, to): a binary search for the first, as threads split the group.
    int a = java.util.Arrays.binarySearch(active, 0, activeCount, from);
    if (a < 0) a = -a - 1;
    int count = 0, q = a;
    if (vector) {
      int end = java.util.Arrays.binarySearch(active, a, activeCount, to);
      if (end < 0) end = -end - 1;
      count = PoissonVector.draw(this, step, a, end, spikes);
      q = a + (end - a) / PoissonVector.LANES * PoissonVector.LANES;
    }
    for (int end = activeCount; q < end; q++) {
      int i = active[q];
      if (i >= to) break;
      // Rng.uniform(seed, group, i, step), with the step-free part precomputed.
      if ((Rng.atStep(keys[i], step) >>> 11) * 0x1.0p-53 < p[q]) spikes[count++] = i;
    }
    return count;
  }

  /** The active neurons, ascending (the first activeCount entries). */
  int[] activeNeurons() { return active; }

  @Override
  protected void reset(int[] spikes, int count) {}

  /** Quiet while every rate is 0 (rates change only between runs): nothing to advance, the draws are counter-based. */
  @Override protected boolean quietFor(long step, long n) { return activeCount == 0; }

  @Override protected void advanceQuiet(long step, long n) {}
}
