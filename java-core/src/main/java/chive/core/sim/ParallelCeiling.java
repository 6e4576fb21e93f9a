package chive.core.sim;

/**
 * How much several threads can gain on this machine for work shaped like a
 * simulation step, with nothing of a network in the way: n leaky
 * integrate-and-fire units (v = 0.995·v + 0.01·I, I = 0.98·I + 3e-4, reset
 * above 1; the per-unit cost of CUBA's neuron update), split into contiguous
 * parts, one part per thread, each thread stepping its own part; with
 * {@code barrier}, all threads meet at a {@link SpinBarrier} after every
 * step as the engine's threads do. The parts never touch each other's data,
 * so the speed-up over one thread is the most any partition of such a step
 * can reach here: a ceiling for the engine's own thread scaling. Both runs
 * count the same spikes (checked).
 */
public final class ParallelCeiling {
  private ParallelCeiling() {}

  /** {seconds with one thread, seconds with {@code threads}}. */
  public static double[] measure(int n, int steps, int threads, boolean barrier) {
    if (n < threads || threads < 1 || steps < 1) {
      throw new ChiveException("parallel ceiling: need n >= threads >= 1 and steps >= 1, got n " + n + ", threads " + threads + ", steps " + steps);
    }
    float[] v = new float[n], cur = new float[n];
    init(v, cur);
    long t0 = System.nanoTime();
    long one = 0;
    for (int s = 0; s < steps; s++) one += step(v, cur, 0, n);
    double oneS = (System.nanoTime() - t0) / 1e9;
    init(v, cur);
    final long[] counts = new long[threads];
    final SpinBarrier bar = new SpinBarrier(threads);
    Thread[] ts = new Thread[threads];
    t0 = System.nanoTime();
    for (int k = 0; k < threads; k++) {
      final int kk = k, lo = (int) ((long) n * k / threads), hi = (int) ((long) n * (k + 1) / threads);
      ts[k] = new Thread(() -> {
        boolean sense = false;
        long c = 0;
        for (int s = 0; s < steps; s++) {
          c += step(v, cur, lo, hi);
          if (barrier) sense = bar.await(sense);
        }
        counts[kk] = c;
      }, "chive-ceiling-" + k);
      ts[k].start();
    }
    for (Thread t : ts) {
      try { t.join(); } catch (InterruptedException e) { Thread.currentThread().interrupt(); throw new ChiveException("parallel ceiling interrupted"); }
    }
    double manyS = (System.nanoTime() - t0) / 1e9;
    long many = 0;
    for (long c : counts) many += c;
    if (many != one) throw new ChiveException("parallel ceiling: " + one + " spikes on one thread, " + many + " on " + threads);
    return new double[] {oneS, manyS};
  }

  private static void init(float[] v, float[] cur) {
    for (int i = 0; i < v.length; i++) { v[i] = (i % 97) / 97f; cur[i] = (i % 13) / 13f; }
  }

  private static int step(float[] v, float[] cur, int lo, int hi) {
    int spikes = 0;
    for (int j = lo; j < hi; j++) {
      float x = v[j] * 0.995f + cur[j] * 0.01f;
      cur[j] = cur[j] * 0.98f + 3e-4f;
      if (x > 1f) { x = 0f; spikes++; }
      v[j] = x;
    }
    return spikes;
  }
}
