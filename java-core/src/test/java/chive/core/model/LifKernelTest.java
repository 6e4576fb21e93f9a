package chive.core.model;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.sim.Network;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The vectorisable LIF kernel against a plain scalar reference of the same
 * math (branches, no blend), bit for bit, over many steps with random inputs,
 * refractory periods and odd ranges.
 */
class LifKernelTest {

  /** Reference: for each neuron, apply the one-step map; count down; hold v if refractory; threshold. */
  static int reference(float[] v, float[] ge, float[] gi, float[] iext, float[] ref, int from, int to,
                       float[] k, double vTh, float r, int[] spikes) {
    int count = 0;
    for (int i = from; i < to; i++) {
      float e = ge[i], g = gi[i];
      ge[i] = k[0] * e;
      gi[i] = k[2] * g;
      float c = ref[i] - 1f;
      if (c < 0f) c = 0f;
      ref[i] = c;
      if (c > 0f) continue; // held
      v[i] = k[4] * e + k[5] * g + k[6] * iext[i] + k[7] * v[i] + k[8];
    }
    for (int i = from; i < to; i++) {
      if (v[i] > vTh && ref[i] == 0f) {
        spikes[count++] = i;
        ref[i] = r;
      }
    }
    return count;
  }

  @Test
  void vectorisedKernelEqualsScalarReference() {
    int n = 1037;
    Network net = new Network(0.1, 1);
    Lif g = net.add(new Lif("lif", n));
    g.setParam("v_rest", -49);
    SplittableRandom rnd = new SplittableRandom(5);
    float[] v = g.var("v"), ge = g.var("ge"), gi = g.var("gi"), iext = g.var("i_ext");
    float[] ref = g.refractoryCounters();
    for (int i = 0; i < n; i++) {
      v[i] = (float) (-60 + 12 * rnd.nextDouble());
      iext[i] = (float) (rnd.nextDouble() * 0.5);
    }
    float[] rv = v.clone(), rge = ge.clone(), rgi = gi.clone(), rref = ref.clone();
    float[] kc = g.coefficients();
    // The coefficients are the exact solution: compare with the closed form.
    double dt = 0.1;
    assertEquals(Math.exp(-dt / 20), kc[7], 1e-6);
    assertEquals(Math.exp(-dt / 5), kc[0], 1e-6);
    assertEquals(0f, kc[1], 0f);
    assertEquals(0f, kc[3], 0f);
    assertEquals(Lif.coupling(dt, 20, 5), kc[4], 1e-6);
    assertEquals(Lif.coupling(dt, 20, 10), kc[5], 1e-6);
    int[] s1 = new int[n], s2 = new int[n];
    int total = 0;
    for (int step = 0; step < 3000; step++) {
      // Random synaptic input to both copies.
      for (int k = 0; k < 20; k++) {
        int j = rnd.nextInt(n);
        float w = (float) (rnd.nextDouble() * 3 - 1);
        ge[j] += w; rge[j] += w;
      }
      int from = step % 7, to = n - step % 5; // odd ranges exercise the vector tails
      int c1 = g.update(from, to, step, s1);
      int c2 = reference(rv, rge, rgi, iext, rref, from, to, kc, -50.0, 50f, s2);
      assertEquals(c2, c1, "spike count at step " + step);
      for (int k = 0; k < c1; k++) assertEquals(s2[k], s1[k]);
      g.reset(s1, c1);
      for (int k = 0; k < c2; k++) rv[s2[k]] = -60f;
      total += c1;
    }
    assertArrayEquals(rv, v, "v");
    assertArrayEquals(rge, ge, "ge");
    assertArrayEquals(rref, ref, "refractory counters");
    assertTrue(total > 1000, "the test exercised spiking and refractoriness: " + total + " spikes");
  }
}
