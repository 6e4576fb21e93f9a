package chive.core.kernel;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/** sgemm at the shapes of chive.learn's Fashion-MNIST model (rows = batch x steps), Java and OpenBLAS; and the addition-only SpikeRows product. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class GemmBench {
  @Param({"java", "openblas"}) String kernels;
  final int m = 2560, k = 784, n = 100;
  float[] a, b, c;
  SpikeRows spikes;
  Kernels kern;

  @Setup public void setup() {
    kern = Kernels.named(kernels);
    java.util.SplittableRandom r = new java.util.SplittableRandom(3);
    a = new float[m * k];
    b = new float[k * n];
    c = new float[m * n];
    for (int i = 0; i < a.length; i++) a[i] = r.nextDouble() < 0.003 ? 1f : 0f; // latency-coded images: sparse 0/1
    for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
    spikes = SpikeRows.ifBinary(a, m, k);
  }

  @Benchmark public float[] sgemm() {
    kern.sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n);
    return c;
  }

  @Benchmark public float[] spikeRows() {
    java.util.Arrays.fill(c, 0f);
    spikes.addRowsOf(b, n, 1f, c, 0, m, 0);
    return c;
  }
}
