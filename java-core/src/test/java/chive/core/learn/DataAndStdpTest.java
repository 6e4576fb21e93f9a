package chive.core.learn;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.data.Encoders;
import chive.core.data.Randman;
import chive.core.plasticity.Stdp;
import chive.core.sim.Connectivity;
import chive.core.sim.ChiveException;
import chive.core.sim.Network;
import chive.core.sim.Projection;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class DataAndStdpTest {
  @Test
  @DisplayName("Randman: every unit fires exactly nb_spikes times per sample, times span [0, steps·step_frac), classes balanced")
  void randmanDocumentedProperties() {
    int classes = 3, units = 12, steps = 100, spikes = 2, perClass = 200;
    Randman.Events ev = Randman.events(7, classes, units, steps, 0.8, 2, spikes, perClass, 2.0, true);
    assertEquals(classes * perClass, ev.labels.length);
    int[] count = new int[classes];
    for (int l : ev.labels) count[l]++;
    for (int c : count) assertEquals(perClass, c, "balanced classes");
    for (int c = 0; c < classes; c++) {
      for (int k = 0; k < units * spikes; k++) {
        double mi = Double.POSITIVE_INFINITY, ma = Double.NEGATIVE_INFINITY;
        for (int s = 0; s < ev.labels.length; s++) {
          if (ev.labels[s] != c) continue;
          double t = ev.times[s][k];
          assertTrue(t >= 0 && t < steps * 0.8, "time " + t + " in [0, " + steps * 0.8 + ")");
          mi = Math.min(mi, t); ma = Math.max(ma, t);
        }
        assertEquals(0.0, mi, 1e-12, "standardised: the earliest spike of a unit within a class is at 0");
        assertTrue(ma > 79, "the latest near steps·step_frac (" + ma + "; 1e-7 is added to the range)");
        assertTrue(ma < 80.0);
      }
    }
    Dataset d = Randman.dataset(7, classes, units, steps, 1.0, 2, spikes, perClass, 2.0, true);
    for (int s = 0; s < d.samples; s++) {
      int[] perUnit = new int[units];
      for (int r = s * steps; r < (s + 1) * steps; r++) for (int e = d.events.rowPtr[r]; e < d.events.rowPtr[r + 1]; e++) perUnit[d.events.idx[e]]++;
      for (int u = 0; u < units; u++) assertEquals(spikes, perUnit[u], "sample " + s + " unit " + u + ": spike counts carry no class information");
    }
  }

  @Test
  @DisplayName("Randman manifolds are smooth maps, smoother with larger alpha; a_0 = 0; F = ceil(1000^(1/alpha))")
  void randmanSmoothness() {
    assertEquals(32, new Randman.Manifold(1, 4, 2, 2.0).fCutoff);
    assertEquals(10, new Randman.Manifold(1, 4, 2, 3.0).fCutoff);
    double rough = meanSlope(1.0), smooth = meanSlope(3.0);
    assertTrue(smooth < rough, "alpha 3 (" + smooth + ") is smoother than alpha 1 (" + rough + ")");
    // Continuity: a small step on the manifold moves the embedding little.
    Randman.Manifold m = new Randman.Manifold(5, 8, 1, 2.0);
    double[] a = m.eval(new double[] {0.4}), b = m.eval(new double[] {0.4 + 1e-6});
    for (int e = 0; e < 8; e++) assertEquals(a[e], b[e], 1e-3);
  }

  static double meanSlope(double alpha) {
    double total = 0;
    for (int seed = 0; seed < 20; seed++) {
      Randman.Manifold m = new Randman.Manifold(seed, 1, 1, alpha);
      double prev = m.eval(new double[] {0})[0], var = 0, len = 0;
      for (int k = 1; k <= 400; k++) {
        double y = m.eval(new double[] {k / 400.0})[0];
        len += Math.abs(y - prev);
        var = Math.max(var, Math.abs(y));
        prev = y;
      }
      total += len / Math.max(var, 1e-12);
    }
    return total / 20;
  }

  @Test
  @DisplayName("Randman is reproducible from its seed, and another seed gives other data")
  void randmanSeeded() {
    Dataset a = Randman.dataset(3, 2, 5, 50, 1.0, 2, 1, 30, 2.0, true), b = Randman.dataset(3, 2, 5, 50, 1.0, 2, 1, 30, 2.0, true);
    Dataset c = Randman.dataset(4, 2, 5, 50, 1.0, 2, 1, 30, 2.0, true);
    assertArrayEquals(a.events.idx, b.events.idx);
    assertArrayEquals(a.events.rowPtr, b.events.rowPtr);
    assertArrayEquals(a.labels, b.labels);
    assertFalse(java.util.Arrays.equals(a.events.rowPtr, c.events.rowPtr));
  }

  @Test
  @DisplayName("latency code: x = 1 fires at floor(20·ln 1.25) = 4, x <= thr never, later values later")
  void latencyCode() {
    float[] x = {1f, 0.2f, 0.5f, 0.21f, 0f, 0.3f};
    Dataset d = Encoders.latency(x, 6, new int[] {0}, 1, 20, 0.2, 100);
    int[] stepOf = new int[6];
    java.util.Arrays.fill(stepOf, -1);
    for (int t = 0; t < 100; t++) for (int e = d.events.rowPtr[t]; e < d.events.rowPtr[t + 1]; e++) stepOf[d.events.idx[e]] = t;
    assertEquals(4, stepOf[0]);
    assertEquals(-1, stepOf[1]);
    assertEquals((int) (20 * Math.log(0.5 / 0.3)), stepOf[2]);
    assertEquals(60, stepOf[3], "20·ln(0.21/0.01) = 60.9: fires in step 60");
    assertEquals((int) (20 * Math.log(0.3 / 0.1)), stepOf[5]);
    assertEquals(-1, stepOf[4]);
  }

  @Test
  @DisplayName("linear latency code: x = 1 at step 0, x just above thr at the last step, evenly spread between, x <= thr never")
  void linearLatencyCode() {
    float[] x = {1f, 0.5f, 0.25f, 0.75f, 0.2501f, 0.625f, 0f};
    Dataset d = Encoders.linearLatency(x, 7, new int[] {0}, 1, 0.25, 25);
    int[] stepOf = new int[7];
    java.util.Arrays.fill(stepOf, -1);
    for (int t = 0; t < 25; t++) for (int e = d.events.rowPtr[t]; e < d.events.rowPtr[t + 1]; e++) stepOf[d.events.idx[e]] = t;
    // step = round((1 - x)/(1 - 0.25)·24) = round(32(1 - x))
    assertEquals(0, stepOf[0]);
    assertEquals(16, stepOf[1]);
    assertEquals(-1, stepOf[2], "x = thr does not fire");
    assertEquals(8, stepOf[3]);
    assertEquals(24, stepOf[4], "just above thr: the last step");
    assertEquals(12, stepOf[5]);
    assertEquals(-1, stepOf[6]);
    ChiveException e = assertThrows(ChiveException.class, () -> Encoders.linearLatency(new float[] {1.5f}, 1, new int[] {0}, 1, 0, 10));
    assertTrue(e.getMessage().contains("1.5"), e.getMessage());
  }

  @Test
  @DisplayName("regular rate code: floor(x·r·T) spikes, evenly spaced, the same for every sample; p > 1 and x outside [0, 1] refused")
  void regularRateCode() {
    // r = 500 Hz x 1 ms = 0.5 per step at x = 1; T = 12 steps
    float[] x = {1f, 0.5f, 0.25f, 0f, 1f / 3, 0.8f};
    Dataset d = Encoders.regular(x, 6, new int[] {0}, 1, 500, 1, 12);
    int[] count = new int[6];
    java.util.List<java.util.List<Integer>> steps = new java.util.ArrayList<>();
    for (int u = 0; u < 6; u++) steps.add(new java.util.ArrayList<>());
    for (int t = 0; t < 12; t++) {
      for (int e = d.events.rowPtr[t]; e < d.events.rowPtr[t + 1]; e++) {
        count[d.events.idx[e]]++;
        steps.get(d.events.idx[e]).add(t);
      }
    }
    assertEquals(java.util.List.of(1, 3, 5, 7, 9, 11), steps.get(0), "p = 0.5: every second step, from the second");
    assertEquals(java.util.List.of(3, 7, 11), steps.get(1), "p = 0.25: every fourth step");
    assertEquals(1, count[2], "p = 0.125: floor(1.5) = 1");
    assertEquals(0, count[3]);
    assertEquals(2, count[4], "p = 1/6: floor(2) = 2, to rounding of the running sum");
    assertEquals(4, count[5], "p = 0.4: floor(4.8) = 4");
    Dataset two = Encoders.regular(new float[] {0.5f, 0.5f}, 1, new int[] {0, 0}, 1, 1000, 1, 6);
    assertEquals(6, two.events.nnz(), "p = 0.5: 3 spikes in each sample, the same in both (no noise)");
    ChiveException e = assertThrows(ChiveException.class, () -> Encoders.regular(new float[] {1f}, 1, new int[] {0}, 1, 2000, 1, 10));
    assertTrue(e.getMessage().contains("exceeds 1"), e.getMessage());
    e = assertThrows(ChiveException.class, () -> Encoders.regular(new float[] {-0.1f}, 1, new int[] {0}, 1, 100, 1, 10));
    assertTrue(e.getMessage().contains("-0.1"), e.getMessage());
  }

  @Test
  @DisplayName("rate code: spike counts follow x·rate·dt per step (binomial), reproducible from the seed")
  void rateCode() {
    int n = 200, steps = 500;
    float[] x = new float[n * 2];
    for (int s = 0; s < n; s++) { x[2 * s] = 0.5f; x[2 * s + 1] = 0f; }
    int[] labels = new int[n];
    Dataset d = Encoders.rate(x, 2, labels, 1, 100, 1, steps, 9);
    long ones = 0, zeros = 0;
    for (int e = 0; e < d.events.nnz(); e++) { if (d.events.idx[e] == 0) ones++; else zeros++; }
    double p = 0.5 * 100 * 1 / 1000.0, expected = p * steps * n, sd = Math.sqrt(expected * (1 - p));
    assertEquals(expected, ones, 4 * sd, "mean count within 4 sd");
    assertEquals(0, zeros, "x = 0 never fires");
    assertArrayEquals(d.events.idx, Encoders.rate(x, 2, labels, 1, 100, 1, steps, 9).events.idx);
    assertThrows(chive.core.sim.ChiveException.class, () -> Encoders.rate(new float[] {2f}, 1, new int[1], 1, 100, 1, 10, 1));
  }

  @Test
  @DisplayName("STDP as a pseudo-gradient: plain SGD at learning rate 1 gives the direct rule's weights on the same spike trains")
  void stdpPseudoGradientEqualsDirectRule() {
    int nPre = 6, nPost = 4, steps = 600;
    double dt = 0.5, tauPre = 16.8, tauPost = 33.7, ap = 0.01, am = 0.0105;
    SplittableRandom r = new SplittableRandom(5);
    float[] pre = new float[steps * nPre], post = new float[steps * nPost];
    for (int t = 0; t < steps; t++) {
      for (int i = 0; i < nPre; i++) if (r.nextDouble() < 0.03) pre[t * nPre + i] = 1;
      for (int j = 0; j < nPost; j++) if (r.nextDouble() < 0.02) post[t * nPost + j] = 1;
    }
    Network net = new Network(dt, 1);
    Trains gPre = net.add(new Trains("pre", nPre, pre)), gPost = net.add(new Trains("post", nPost, post));
    float[] w0 = new float[nPre * nPost];
    for (int k = 0; k < w0.length; k++) w0[k] = (float) r.nextDouble();
    Projection p = net.add(new Projection("plastic", gPre, gPost, "in", Connectivity.allToAll(nPre, nPost), w0.clone(), null));
    p.setPlasticity(Stdp.pair(false, tauPre, tauPost, ap, am, -100, 100));
    net.runSteps(steps, 1, null);
    float[] g = StdpGradient.pseudoGradient(pre, nPre, post, nPost, steps, tauPre, tauPost, ap, am, dt);
    float[] w = w0.clone();
    new Optimizer.Sgd(new float[][] {w}, 1.0, 0).step(new float[][] {g});
    float[] direct = p.weights();
    double maxChange = 0;
    for (int k = 0; k < w.length; k++) {
      // allToAll is row-major by pre, like Layer.w
      assertEquals(direct[k], w[k], 2e-6, "synapse " + k);
      maxChange = Math.max(maxChange, Math.abs(direct[k] - w0[k]));
    }
    assertTrue(maxChange > 1e-3, "the trains change the weights (" + maxChange + ")");
  }

  /** Replays a 0/1 raster (steps × n) exactly; "in" receives synaptic input and is ignored. */
  static final class Trains extends chive.core.sim.NeuronGroup {
    final float[] raster;
    Trains(String name, int n, float[] raster) { super(name, n); this.raster = raster; addVar("in", 0f); }
    @Override public String model() { return "trains"; }
    @Override protected void configure() {}
    @Override protected int update(int from, int to, long step, int[] spikes) {
      int c = 0;
      for (int i = from; i < to; i++) if ((step + 1) * size() <= raster.length && raster[(int) step * size() + i] != 0f) spikes[c++] = i;
      return c;
    }
    @Override protected void reset(int[] spikes, int count) {}
  }
}
