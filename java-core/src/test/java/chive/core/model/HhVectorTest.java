package chive.core.model;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.kernel.FastExp;
import chive.core.sim.Network;
import chive.core.sim.SpikeMonitor;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The SIMD Hodgkin-Huxley step (HhVector, JDK Vector API) against the scalar
 * step: bit-identical on states from every corner of the model, and the same
 * spikes in a network. The build runs tests with jdk.incubator.vector, so the
 * SIMD path must be on here (a test that silently compared the scalar step
 * with itself would prove nothing).
 */
class HhVectorTest {
  @Test
  void theBuildTestsTheSimdPath() {
    assertTrue(HodgkinHuxley.VECTOR, "tests must run with --add-modules jdk.incubator.vector");
    assertTrue(HhVector.LANES >= 2, "lanes: " + HhVector.LANES);
  }

  @Test
  void vectorExpIsFastExpBitForBit() {
    SplittableRandom r = new SplittableRandom(3);
    int lanes = HhVector.LANES;
    double[] x = new double[lanes * 4096], got = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = switch (i % 4) {
        case 0 -> r.nextDouble(-800, 800);
        case 1 -> r.nextDouble(-2, 2);
        case 2 -> (r.nextInt(2000) - 1000) * Math.log(2);
        default -> i % 3 == 0 ? Double.NaN : r.nextDouble(-40, 40);
      };
    }
    for (int i = 0; i < x.length; i += lanes) {
      HhVector.exp(jdk.incubator.vector.DoubleVector.fromArray(HhVector.D, x, i)).intoArray(got, i);
    }
    for (int i = 0; i < x.length; i++) {
      assertEquals(Double.doubleToLongBits(FastExp.exp(x[i])), Double.doubleToLongBits(got[i]), "exp(" + x[i] + ")");
    }
  }

  /** Random states: v over -100..60 mV (and the exprel singularities), gates 0..1, conductances 0..0.5 µS. */
  static HodgkinHuxley randomGroup(int n, long seed) {
    Network net = new Network(0.01, 1);
    HodgkinHuxley g = net.add(new HodgkinHuxley("hh", n));
    net.run(0, 1, null); // configures the group
    SplittableRandom r = new SplittableRandom(seed);
    float[] singular = {-50f, -23f, -48f, -63f}; // x = 13, 40, 15 and 0 mV with v_t = -63 mV
    for (int i = 0; i < n; i++) {
      g.v[i] = i % 11 == 0 ? singular[r.nextInt(singular.length)] : (float) r.nextDouble(-100, 60);
      g.m[i] = (float) r.nextDouble();
      g.h[i] = (float) r.nextDouble();
      g.nn[i] = (float) r.nextDouble();
      g.ge[i] = (float) r.nextDouble(0, 0.5);
      g.gi[i] = (float) r.nextDouble(0, 0.5);
      g.iext[i] = (float) r.nextDouble(-0.5, 1);
    }
    return g;
  }

  static float[][] state(HodgkinHuxley g) {
    return new float[][] {g.v.clone(), g.m.clone(), g.h.clone(), g.nn.clone(), g.ge.clone(), g.gi.clone()};
  }

  @Test
  void simdStepIsTheScalarStepBitForBit() {
    int n = 10_007; // not a multiple of the lane count: the tail runs scalar
    HodgkinHuxley a = randomGroup(n, 11), b = randomGroup(n, 11);
    for (int step = 0; step < 50; step++) {
      int end = HhVector.step(a, 0, n);
      assertTrue(end > n - HhVector.LANES && end <= n);
      HodgkinHuxley.stepScalar(a, end, n);
      HodgkinHuxley.stepScalar(b, 0, n);
      float[][] sa = state(a), sb = state(b);
      for (int k = 0; k < sa.length; k++) {
        for (int i = 0; i < n; i++) {
          assertEquals(Float.floatToIntBits(sb[k][i]), Float.floatToIntBits(sa[k][i]),
              "variable " + k + " of neuron " + i + " at step " + step + ": " + sa[k][i] + " vs " + sb[k][i]);
        }
      }
    }
  }

  @Test
  void anyPartitionGivesTheSameState() {
    int n = 1000;
    HodgkinHuxley a = randomGroup(n, 5), b = randomGroup(n, 5);
    a.step(0, n);
    int[] cuts = {0, 3, 17, 18, 250, 251, 999, 1000};
    for (int k = 0; k + 1 < cuts.length; k++) b.step(cuts[k], cuts[k + 1]);
    assertArrayEquals(a.v, b.v);
    assertArrayEquals(a.m, b.m);
    assertArrayEquals(a.nn, b.nn);
  }

  @Test
  void cobahhLikeNetworkGivesTheSameSpikesEitherWay() {
    int[][] trains = new int[2][];
    for (int pass = 0; pass < 2; pass++) {
      Network net = new Network(0.1, 1);
      HodgkinHuxley g = net.add(new HodgkinHuxley("hh", 203));
      for (int i = 0; i < 203; i++) {
        g.var("i_ext")[i] = 0.05f + 0.004f * i;
        g.var("v")[i] = -60f - (i % 7);
      }
      SpikeMonitor m = net.add(new SpikeMonitor(g));
      if (pass == 0) {
        net.run(300, 1, null);
      } else {
        // the scalar step only, through the same update: ref countdown and threshold unchanged
        net.run(0, 1, null);
        int[] spikes = new int[203];
        java.util.List<Integer> all = new java.util.ArrayList<>();
        for (long s = 0; s < 3000; s++) {
          HodgkinHuxley.stepScalar(g, 0, 203);
          int c = g.threshold(0, 203, spikes);
          for (int k = 0; k < c; k++) all.add(spikes[k]);
        }
        trains[pass] = all.stream().mapToInt(Integer::intValue).toArray();
        continue;
      }
      trains[pass] = m.indices().clone();
    }
    assertTrue(trains[0].length > 100, "the cells fire: " + trains[0].length);
    assertArrayEquals(trains[0], trains[1]);
    assertFalse(Arrays.equals(trains[0], new int[trains[0].length]));
  }
}
