package chive.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chive.core.sim.Network;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** PoissonGroup's SIMD draws against its scalar loop: the same spikes, in the same order, for any neuron range. */
class PoissonVectorTest {
  @Test
  void simdDrawsAreTheScalarDraws() {
    assertTrue(chive.core.kernel.Simd.ENABLED, "tests must run with --add-modules jdk.incubator.vector");
    int n = 1003;
    Network net = new Network(0.5, 42);
    PoissonGroup g = net.add(new PoissonGroup("in", n));
    float[] rate = g.var("rate");
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < n; i++) {
      rate[i] = switch (i % 6) {
        case 0 -> 0f;
        case 1 -> 2000f; // 1/dt: p = 1, a spike every step
        case 2 -> (float) r.nextDouble(0, 0.01);
        default -> (float) r.nextDouble(0, 200);
      };
    }
    net.run(0, 1, null);
    g.beforeRun();
    int[] a = new int[n], b = new int[n];
    long total = 0;
    int[][] ranges = {{0, n}, {0, 500}, {500, n}, {17, 18}, {3, 700}, {999, 1003}};
    for (long step = 0; step < 400; step++) {
      for (int[] rg : ranges) {
        g.vector = true;
        int ca = g.update(rg[0], rg[1], step, a);
        g.vector = false;
        int cb = g.update(rg[0], rg[1], step, b);
        assertArrayEquals(Arrays.copyOf(b, cb), Arrays.copyOf(a, ca), "step " + step + ", range " + Arrays.toString(rg));
        total += ca;
      }
    }
    assertTrue(total > 100_000, "spikes drawn: " + total);
  }
}
