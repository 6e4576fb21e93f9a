package chive.core.data;

import chive.core.learn.Dataset;
import chive.core.sim.ChiveException;
import chive.core.sim.Rng;

/** Spike encodings of analog samples (images) for surrogate-gradient training. */
public final class Encoders {
  private Encoders() {}

  /**
   * Latency code of the SpyTorch tutorial: a value x in [0,1] above thr fires
   * once, at step floor(tau·ln(x/(x - thr))) (tau in steps, 20 for 20 ms at
   * 1 ms steps); values &lt;= thr, and spikes at step &gt;= steps, do not fire.
   * values: samples × units, row-major.
   */
  public static Dataset latency(float[] values, int units, int[] labels, int classes, double tauSteps, double thr, int steps) {
    checkShape(values, units, labels);
    if (!(tauSteps > 0) || !(thr >= 0 && thr < 1)) throw new ChiveException("latency code: tau must be > 0 and thr in [0, 1), got " + tauSteps + ", " + thr);
    return firstSpikes("latency code", values, units, labels, classes, thr, steps,
        x -> (int) (tauSteps * Math.log(x / (x - thr))),
        String.format("latency code tau=%s steps thr=%s steps=%d", tauSteps, thr, steps));
  }

  /**
   * Linear latency code (snnTorch's spikegen.latency with linear=True,
   * normalize=True): a value x in [0,1] above thr fires once, at step
   * round((1 - x)/(1 - thr)·(steps - 1)), so x = 1 fires at step 0 and values
   * just above thr at the last step; intensities are spread evenly over the
   * window (the logarithmic code above puts every bright pixel in its first
   * steps). Values &lt;= thr do not fire.
   */
  public static Dataset linearLatency(float[] values, int units, int[] labels, int classes, double thr, int steps) {
    checkShape(values, units, labels);
    if (!(thr >= 0 && thr < 1)) throw new ChiveException("linear latency code: thr must be in [0, 1), got " + thr);
    if (steps < 1) throw new ChiveException("linear latency code: steps must be >= 1, got " + steps);
    return firstSpikes("linear latency code", values, units, labels, classes, thr, steps,
        x -> (int) Math.round((1 - x) / (1 - thr) * (steps - 1)),
        String.format("linear latency code thr=%s steps=%d", thr, steps));
  }

  /** One spike per value x in (thr, 1], at step stepOf(x) when that is below steps; x outside [0, 1] is refused. */
  private static Dataset firstSpikes(String code, float[] values, int units, int[] labels, int classes, double thr, int steps,
                                     java.util.function.DoubleToIntFunction stepOf, String description) {
    int n = labels.length;
    int[][] unit = new int[n][], step = new int[n][];
    int[] buf = new int[units], sbuf = new int[units];
    for (int s = 0; s < n; s++) {
      int c = 0;
      for (int u = 0; u < units; u++) {
        double x = values[s * units + u];
        if (!(x >= 0 && x <= 1)) throw new ChiveException(code + ": value " + x + " of sample " + s + " unit " + u + " is outside [0, 1]");
        if (x <= thr) continue;
        int st = stepOf.applyAsInt(x);
        if (st < steps) { buf[c] = u; sbuf[c++] = st; }
      }
      unit[s] = java.util.Arrays.copyOf(buf, c);
      step[s] = java.util.Arrays.copyOf(sbuf, c);
    }
    return Dataset.fromEvents(units, steps, unit, step, labels, classes, description);
  }

  /** Rate (Bernoulli) code: unit u of sample s spikes in step t with probability x·maxRateHz·dtMs/1000, from a counter-based stream (seed, s, u, t). */
  public static Dataset rate(float[] values, int units, int[] labels, int classes, double maxRateHz, double dtMs, int steps, long seed) {
    checkShape(values, units, labels);
    int n = labels.length;
    int[][] unit = new int[n][], step = new int[n][];
    for (int s = 0; s < n; s++) {
      java.util.ArrayList<int[]> ev = new java.util.ArrayList<>();
      for (int u = 0; u < units; u++) {
        double p = perStep("rate code", "spike probability", values, units, s, u, maxRateHz, dtMs);
        if (p == 0) continue;
        for (int t = 0; t < steps; t++) if (Rng.uniform(seed, s, u, t) < p) ev.add(new int[] {u, t});
      }
      unit[s] = new int[ev.size()]; step[s] = new int[ev.size()];
      for (int k = 0; k < ev.size(); k++) { unit[s][k] = ev.get(k)[0]; step[s][k] = ev.get(k)[1]; }
    }
    return Dataset.fromEvents(units, steps, unit, step, labels, classes,
        String.format("rate code max=%s Hz dt=%s ms steps=%d seed=%d", maxRateHz, dtMs, steps, seed));
  }

  /**
   * Regular (deterministic) rate code, an integrate-and-fire encoder: unit u
   * accumulates a = a + x·maxRateHz·dtMs/1000 each step from a = 0 and spikes
   * in the steps where a reaches 1 (then a = a - 1). Over T steps a value
   * fires floor(x·r·T) times (r the per-step rate, to rounding of the sum),
   * evenly spaced: the rate of the Bernoulli code without its noise.
   */
  public static Dataset regular(float[] values, int units, int[] labels, int classes, double maxRateHz, double dtMs, int steps) {
    checkShape(values, units, labels);
    if (steps < 1) throw new ChiveException("regular rate code: steps must be >= 1, got " + steps);
    int n = labels.length;
    int[][] unit = new int[n][], step = new int[n][];
    IntBuf us = new IntBuf(), ts = new IntBuf();
    for (int s = 0; s < n; s++) {
      us.n = 0;
      ts.n = 0;
      for (int u = 0; u < units; u++) {
        double p = perStep("regular rate code", "spikes", values, units, s, u, maxRateHz, dtMs);
        if (p == 0) continue;
        double a = 0;
        for (int t = 0; t < steps; t++) {
          a += p;
          if (a >= 1) {
            a -= 1;
            us.add(u);
            ts.add(t);
          }
        }
      }
      unit[s] = java.util.Arrays.copyOf(us.a, us.n);
      step[s] = java.util.Arrays.copyOf(ts.a, ts.n);
    }
    return Dataset.fromEvents(units, steps, unit, step, labels, classes,
        String.format("regular rate code max=%s Hz dt=%s ms steps=%d", maxRateHz, dtMs, steps));
  }

  /**
   * The per-step rate x·maxRateHz·dtMs/1000 of unit u of sample s, refusing a
   * value outside [0, 1] and a rate above one per step, naming both.
   */
  private static double perStep(String code, String what, float[] values, int units, int s, int u, double maxRateHz, double dtMs) {
    double x = values[s * units + u];
    if (!(x >= 0 && x <= 1)) throw new ChiveException(code + ": value " + x + " of sample " + s + " unit " + u + " is outside [0, 1]");
    double p = x * maxRateHz * dtMs / 1000;
    if (p > 1) throw new ChiveException(code + ": " + what + " " + p + " per step exceeds 1 (max rate " + maxRateHz + " Hz at dt " + dtMs + " ms)");
    return p;
  }

  /** A growing int buffer. */
  private static final class IntBuf {
    int[] a = new int[64];
    int n;
    void add(int x) {
      if (n == a.length) a = java.util.Arrays.copyOf(a, 2 * n);
      a[n++] = x;
    }
  }

  private static void checkShape(float[] values, int units, int[] labels) {
    if (units <= 0 || (long) units * labels.length != values.length) {
      throw new ChiveException("encoder: " + values.length + " values for " + labels.length + " samples x " + units + " units");
    }
  }
}
