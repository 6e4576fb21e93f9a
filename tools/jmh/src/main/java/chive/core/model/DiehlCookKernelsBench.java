package chive.core.model;

import chive.core.kernel.RowOps;
import chive.core.sim.Network;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * The kernels of a Diehl &amp; Cook step, scalar (the loops before issue 14's
 * third part) against SIMD (bit-identical): the adaptive COBA LIF update of
 * n neurons with its spike test (CobaLif.update: the step, then the test;
 * SIMD: CobaVector.integrate, then CobaVector.spikes); Poisson draws for 784
 * inputs with MNIST-like rates (19 % of pixels on, up to 63.75 Hz); and a
 * pre spike's row of n consecutive posts: delivery (tgt[j] += w[j + off]) and
 * STDP depression (RowOps against the plain loops).
 * Run: bin/chive jmh -f 1 DiehlCookKernelsBench
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class DiehlCookKernelsBench {
  @Param({"100", "400"}) int n;
  /** scalar: no SIMD; before: as at the start of issue 14's third part (SIMD step, scalar spike test, scalar draws and rows); vector: now. */
  @Param({"scalar", "before", "vector"}) String kernel;
  CobaLif g;
  PoissonGroup in;
  float[] ge, tgt, w, y;
  int[] spikes = new int[1024];
  long step;
  boolean vector, before;

  @Setup public void setup() {
    vector = kernel.equals("vector");
    Network net = new Network(0.5, 1);
    in = net.add(new PoissonGroup("in", 784));
    g = net.add(new CobaLif("exc", n, true));
    g.setParam("tau_m", 100);
    g.setParam("tau_e", 1);
    g.setParam("tau_i", 2);
    g.setParam("v_rest", -65);
    g.setParam("v_reset", -65);
    g.setParam("v_th", -52);
    g.setParam("e_i", -100);
    g.setParam("theta_plus", 0.05);
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    float[] rate = in.var("rate");
    for (int i = 0; i < 784; i++) rate[i] = r.nextDouble() < 0.19 ? (float) r.nextDouble(1, 63.75) : 0f;
    net.run(0, 1, null);
    in.beforeRun();
    in.vector = vector;
    g.vector = vector;
    before = kernel.equals("before");
    float[] v = g.var("v"), theta = g.var("theta");
    ge = g.var("ge");
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextDouble(-80, -55);
      theta[i] = (float) r.nextDouble(15, 25);
    }
    tgt = new float[n];
    y = new float[n];
    w = new float[784 * n];
    for (int i = 0; i < n; i++) y[i] = (float) r.nextDouble(0, 1);
    for (int s = 0; s < w.length; s++) w[s] = (float) r.nextDouble(0, 0.3);
  }

  /** One update of the layer after Diehl &amp; Cook-sized input to every ge (0.3). */
  @Benchmark public int cobaUpdate() {
    for (int i = 0; i < n; i++) ge[i] += 0.3f;
    if (!before) return g.update(0, n, step++, spikes);
    // The update of commit 40ebd3b's parent: SIMD step, then a scalar threshold scan in double.
    float[] v = g.var("v"), theta = g.var("theta"), ref = g.refractoryCounters();
    step++; // (theta decays every 2^k steps: left out here)
    g.stepFloat(CobaVector.integrate(g, v, ge, g.var("gi"), g.var("i_ext"), ref, 0, n), n);
    final double vTh = g.vThEff;
    int count = 0;
    for (int i = 0; i < n; i++) {
      if (ref[i] == 0f && v[i] > vTh + theta[i]) {
        spikes[count++] = i;
        ref[i] = g.refrF;
      }
    }
    return count;
  }

  /** One step of draws for the 784 inputs. */
  @Benchmark public int poisson() {
    return in.update(0, 784, step++, spikes);
  }

  /** Delivery of one pre spike to its row of n consecutive posts. */
  @Benchmark public float rowAdd() {
    int off = (int) (step++ % 784) * n;
    if (vector) {
      RowOps.add(tgt, w, off, 0, n);
    } else {
      for (int j = 0; j < n; j++) tgt[j] += w[j + off];
    }
    return tgt[0];
  }

  /** STDP depression of one pre spike's row. */
  @Benchmark public float rowDepress() {
    int off = (int) (step++ % 784) * n;
    if (vector) {
      RowOps.depress(w, off, y, 1e-4f, 0f, 1f, 0, n);
    } else {
      for (int j = 0; j < n; j++) w[j + off] = Math.min(1f, Math.max(0f, w[j + off] - 1e-4f * y[j]));
    }
    return w[off];
  }
}
