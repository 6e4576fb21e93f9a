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
    for (int i = 0; i < n; i++) {
      float r = rate[i];
      if (!(r >= 0) || r > max) {
        throw new ChiveException("Poisson group '" + name() + "': rate of neuron " + i + " is " + r + " Hz; rates must be "
            + "between 0 and 1/dt = " + max + " Hz (a neuron spikes at most once per step of " + dt + " ms)");
      }
    }
  }

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    final float[] rate = this.rate;
    final double k = dtSeconds;
    final long[] keys = this.keys;
    int count = 0;
    for (int i = from; i < to; i++) {
      float r = rate[i];
      // Rng.uniform(seed, group, i, step), with the step-free part precomputed.
      if (r > 0 && (Rng.atStep(keys[i], step) >>> 11) * 0x1.0p-53 < r * k) spikes[count++] = i;
    }
    return count;
  }

  @Override
  protected void reset(int[] spikes, int count) {}
}
