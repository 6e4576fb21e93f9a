package chive.core.model;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.kernel.FastExpF;
import chive.core.sim.Network;
import chive.core.sim.SpikeMonitor;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The SIMD COBA LIF step (CobaVector) against the scalar float step
 * (CobaLif.stepFloat): bit-identical on states from every corner of the model
 * (refractory and held neurons, conductances from 0 to large, flushed ones),
 * and the same spikes in a network with and without SIMD. Tests run with
 * jdk.incubator.vector, so the SIMD path must be on here.
 */
class CobaVectorTest {
  @Test
  void theBuildTestsTheSimdPath() {
    assertTrue(CobaLif.VECTOR, "tests must run with --add-modules jdk.incubator.vector");
    assertTrue(CobaVector.LANES >= 2, "lanes: " + CobaVector.LANES);
  }

  @Test
  void vectorExpIsFastExpFBitForBit() {
    SplittableRandom r = new SplittableRandom(3);
    int lanes = CobaVector.LANES;
    float[] x = new float[lanes * 4096], got = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = switch (i % 4) {
        case 0 -> (float) r.nextDouble(-200, 200);
        case 1 -> (float) r.nextDouble(-2, 2);
        case 2 -> (float) ((r.nextInt(240) - 120) * Math.log(2));
        default -> i % 3 == 0 ? Float.NaN : (float) r.nextDouble(-40, 0);
      };
    }
    for (int i = 0; i < x.length; i += lanes) {
      CobaVector.exp(jdk.incubator.vector.FloatVector.fromArray(CobaVector.F, x, i)).intoArray(got, i);
    }
    for (int i = 0; i < x.length; i++) {
      assertEquals(Float.floatToIntBits(FastExpF.exp(x[i])), Float.floatToIntBits(got[i]), "exp(" + x[i] + ")");
    }
  }

  static CobaLif randomGroup(int n, long seed, boolean adaptive) {
    Network net = new Network(0.5, 1);
    CobaLif g = net.add(new CobaLif("e", n, adaptive));
    g.setParam("t_ref", 5);
    g.setParam("t_block", 8);
    net.run(0, 1, null); // configures the group
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = g.var("v"), ge = g.var("ge"), gi = g.var("gi"), iext = g.var("i_ext"), ref = g.refractoryCounters();
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextDouble(-90, -40);
      ge[i] = switch (i % 5) {
        case 0 -> 0f;
        case 1 -> (float) r.nextDouble(0, 2e-9); // flushed after the decay
        case 2 -> (float) r.nextDouble(0, 0.5);
        case 3 -> (float) r.nextDouble(0, 3000); // exp's argument far past the polynomial's range
        default -> (float) r.nextDouble(0, 20);
      };
      gi[i] = i % 3 == 0 ? 0f : (float) r.nextDouble(0, 10);
      iext[i] = i % 4 == 0 ? (float) r.nextDouble(-1, 1) : 0f;
      ref[i] = i % 6 == 0 ? r.nextInt(18) : 0f;
    }
    return g;
  }

  static float[][] state(CobaLif g) {
    return new float[][] {g.var("v").clone(), g.var("ge").clone(), g.var("gi").clone(), g.refractoryCounters().clone()};
  }

  @Test
  void simdStepIsTheScalarStepBitForBit() {
    int n = 10_007; // not a multiple of the lane count: the tail runs scalar
    CobaLif a = randomGroup(n, 11, false), b = randomGroup(n, 11, false);
    for (int step = 0; step < 40; step++) {
      int end = CobaVector.step(a, a.var("v"), a.var("ge"), a.var("gi"), a.var("i_ext"), a.refractoryCounters(), 0, n);
      assertTrue(end > n - CobaVector.LANES && end <= n);
      a.stepFloat(end, n);
      b.stepFloat(0, n);
      float[][] sa = state(a), sb = state(b);
      for (int k = 0; k < sa.length; k++) {
        for (int i = 0; i < n; i++) {
          assertEquals(Float.floatToIntBits(sb[k][i]), Float.floatToIntBits(sa[k][i]), "step " + step + ", array " + k + ", neuron " + i);
        }
      }
    }
  }

  /** Diehl & Cook's excitatory layer driven by Poisson input, with and without SIMD: the same spikes and state. */
  @Test
  void networkSpikesWithAndWithoutSimd() {
    int[][] spikes = new int[2][];
    float[][] theta = new float[2][];
    for (int run = 0; run < 2; run++) {
      Network net = new Network(0.5, 7);
      chive.core.model.PoissonGroup in = net.add(new chive.core.model.PoissonGroup("in", 200));
      CobaLif e = net.add(new CobaLif("e", 37, true));
      e.setParam("tau_m", 100);
      e.setParam("tau_e", 1);
      e.setParam("v_rest", -65);
      e.setParam("v_th", -52);
      e.setParam("theta_plus", 0.05);
      float[] rates = in.var("rate");
      Arrays.fill(rates, 40f);
      float[] w = new float[200 * 37];
      Arrays.fill(w, 0.05f);
      net.add(new chive.core.sim.Projection("p", in, e, "ge", chive.core.sim.Connectivity.allToAll(200, 37), w, null));
      SpikeMonitor sm = net.add(new SpikeMonitor(e));
      e.vector = run == 0;
      net.run(500, 1, null);
      spikes[run] = sm.steps();
      theta[run] = e.var("theta").clone();
      assertTrue(spikes[run].length > 20, "spikes: " + spikes[run].length);
    }
    assertArrayEquals(spikes[1], spikes[0]);
    assertArrayEquals(theta[1], theta[0]);
  }
}
