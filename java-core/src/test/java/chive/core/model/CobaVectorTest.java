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
    for (boolean adaptive : new boolean[] {false, true}) {
      CobaLif a = randomGroup(n, 11, adaptive), b = randomGroup(n, 11, adaptive);
      a.vector = true;
      b.vector = false;
      if (adaptive) {
        SplittableRandom r = new SplittableRandom(5);
        float[] ta = a.var("theta"), tb = b.var("theta");
        for (int i = 0; i < n; i++) ta[i] = tb[i] = (float) r.nextDouble(0, 30);
      }
      // Neurons exactly at, one float above and one below the threshold v_th (+ theta - theta_offset),
      // not refractory and without input, so that the step leaves v where it is.
      double th0 = adaptive ? -50 - 20 : -50;
      for (CobaLif g : new CobaLif[] {a, b}) {
        float[] v = g.var("v"), ge = g.var("ge"), gi = g.var("gi"), iext = g.var("i_ext"), ref = g.refractoryCounters();
        g.setParam("v_rest", -50);
        // Whole chunks of lanes without conductance, as in an inhibitory layer between its inputs.
        for (int i = 0; i < 3 * CobaVector.LANES; i++) ge[i] = gi[i] = 0f;
        for (int i = 7; i < n; i += 97) {
          double th = th0 + (adaptive ? g.var("theta")[i] : 0);
          float f = (float) th;
          v[i] = switch (i % 3) { case 0 -> f; case 1 -> Math.nextUp(f); default -> Math.nextDown(f); };
          ge[i] = gi[i] = iext[i] = ref[i] = 0f;
        }
      }
      int[] sa = new int[n], sb = new int[n];
      int total = 0;
      for (int step = 0; step < 40; step++) {
        int ca = a.update(0, n, step, sa), cb = b.update(0, n, step, sb);
        assertEquals(cb, ca, "spike count, step " + step);
        assertArrayEquals(Arrays.copyOf(sb, cb), Arrays.copyOf(sa, ca), "spikes, step " + step);
        total += ca;
        float[][] xa = state(a), xb = state(b);
        for (int k = 0; k < xa.length; k++) {
          for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToIntBits(xb[k][i]), Float.floatToIntBits(xa[k][i]), "step " + step + ", array " + k + ", neuron " + i);
          }
        }
      }
      assertTrue(total > 500, "spikes in 40 steps: " + total);
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
