package chive.core.learn;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.kernel.Kernels;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class GradientTest {
  static Layer lif(int nIn, int n, boolean rec, Layer.Reset reset, boolean detach, Surrogate sg) {
    return new Layer(nIn, n, true, rec, 0.9, 0.8, 0.7, 0.5, 0.3, 0.2, 1.0, reset, detach, sg);
  }

  static Layer readout(int nIn, int n) {
    return new Layer(nIn, n, false, false, 0.9, 0.8, 0, 0.6, 0, 0.3, 1.0, Layer.Reset.HARD, true, null);
  }

  /** Feed-forward 5-6-3 with a readout (max-over-time loss), or recurrent 4-5r-3r spiking output (count loss). */
  static Layer[] net(boolean recurrent, Layer.Reset reset, boolean detach, Surrogate sg, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Layer[] ls = recurrent
        ? new Layer[] {lif(4, 5, true, reset, detach, sg), lif(5, 3, true, reset, detach, sg)}
        : new Layer[] {lif(5, 6, false, reset, detach, sg), readout(6, 3)};
    for (Layer l : ls) { l.initGlorotUniform(r); scale(l.w, 3f); if (l.v != null) scale(l.v, 2f); }
    return ls;
  }

  static void scale(float[] a, float s) { for (int i = 0; i < a.length; i++) a[i] *= s; }

  static float[] analogInput(int batch, int T, int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[batch * T * n];
    for (int i = 0; i < x.length; i++) x[i] = (float) (2 * r.nextDouble());
    return x;
  }

  static float[] spikeInput(int batch, int T, int n, double p, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[batch * T * n];
    for (int i = 0; i < x.length; i++) x[i] = r.nextDouble() < p ? 1f : 0f;
    return x;
  }

  static double[][] sample(float[] x, int b, int T, int n) {
    double[][] s = new double[T][n];
    for (int t = 0; t < T; t++) for (int i = 0; i < n; i++) s[t][i] = x[(b * T + t) * n + i];
    return s;
  }

  static double[][] referenceGrads(Layer[] ls, SpikingNet.LossKind loss, boolean smooth, float[] x, int[] y, int T) {
    ReferenceBptt ref = new ReferenceBptt(ls, loss, smooth);
    int nP = 0;
    for (Layer l : ls) nP += l.recurrent ? 2 : 1;
    double[][] g = new double[nP][];
    for (int l = 0, p = 0; l < ls.length; l++) { g[p++] = new double[ls[l].w.length]; if (ls[l].recurrent) g[p++] = new double[ls[l].v.length]; }
    for (int b = 0; b < y.length; b++) ref.backward(sample(x, b, T, ls[0].nIn), y[b], g);
    return g;
  }

  static double relErr(double[][] a, double[][] b) {
    double num = 0, den = 0;
    for (int p = 0; p < a.length; p++) for (int i = 0; i < a[p].length; i++) { num += (a[p][i] - b[p][i]) * (a[p][i] - b[p][i]); den += b[p][i] * b[p][i]; }
    return Math.sqrt(num / den);
  }

  static double[][] toD(float[][] g) { double[][] d = new double[g.length][]; for (int i = 0; i < g.length; i++) d[i] = ReferenceBptt.toD(g[i]); return d; }

  @ParameterizedTest(name = "reset {0}")
  @EnumSource(Layer.Reset.class)
  @DisplayName("BPTT with the smooth surrogate forward matches central finite differences (double) to 1e-3, feed-forward and recurrent")
  void bpttMatchesFiniteDifferences(Layer.Reset reset) {
    int T = 15, batch = 2;
    for (boolean recurrent : new boolean[] {false, true}) {
      for (Surrogate sg : new Surrogate[] {Surrogate.of("superspike", 5), Surrogate.of("sigmoid", 4), Surrogate.of("atan", 2),
                                            Surrogate.of("fast-sigmoid", 5), Surrogate.of("triangle", 1.5)}) {
        Layer[] ls = net(recurrent, reset, false, sg, 11);
        SpikingNet.LossKind loss = recurrent ? SpikingNet.LossKind.COUNT_CE : SpikingNet.LossKind.MAX_CE;
        float[] x = analogInput(batch, T, ls[0].nIn, 5);
        int[] y = {0, 2};
        double[][] g = referenceGrads(ls, loss, true, x, y, T);
        ReferenceBptt ref = new ReferenceBptt(ls, loss, true);
        double[][] fd = new double[g.length][];
        double h = 1e-6;
        for (int p = 0; p < g.length; p++) {
          fd[p] = new double[g[p].length];
          for (int i = 0; i < g[p].length; i++) {
            double w0 = ref.getParam(p, i), lp = 0, lm = 0;
            ref.setParam(p, i, w0 + h);
            for (int b = 0; b < batch; b++) lp += ref.forward(sample(x, b, T, ls[0].nIn), y[b]);
            ref.setParam(p, i, w0 - h);
            for (int b = 0; b < batch; b++) lm += ref.forward(sample(x, b, T, ls[0].nIn), y[b]);
            ref.setParam(p, i, w0);
            fd[p][i] = (lp - lm) / (2 * h);
          }
        }
        double e = relErr(g, fd);
        assertTrue(e < 1e-3, (recurrent ? "recurrent" : "feed-forward") + " " + sg + " " + reset + ": relative error " + e);
        double norm = 0;
        for (double[] a : fd) for (double d : a) norm += d * d;
        assertTrue(norm > 1e-6, "gradient is not trivially zero");
      }
    }
  }

  @ParameterizedTest(name = "reset {0}")
  @EnumSource(Layer.Reset.class)
  @DisplayName("the fast float engine (Java GEMM, OpenBLAS, 1 and 3 threads) equals the double reference, smooth forward")
  void fastEngineMatchesReferenceSmooth(Layer.Reset reset) {
    int T = 20, batch = 5;
    for (boolean recurrent : new boolean[] {false, true}) {
      Layer[] ls = net(recurrent, reset, false, Surrogate.of("superspike", 5), 3);
      SpikingNet.LossKind loss = recurrent ? SpikingNet.LossKind.COUNT_CE : SpikingNet.LossKind.MAX_CE;
      float[] x = analogInput(batch, T, ls[0].nIn, 9);
      int[] y = {0, 1, 2, 1, 0};
      double[][] ref = referenceGrads(ls, loss, true, x, y, T);
      for (String k : new String[] {"java", "openblas"}) {
        for (int threads : new int[] {1, 3}) {
          try (SpikingNet net = new SpikingNet(ls, loss, false, 1.0, Kernels.named(k), threads)) {
            net.setSmoothForward(true);
            net.step(Input.dense(x, batch, T, ls[0].nIn, true), y);
            double e = relErr(toD(net.grads()), ref);
            assertTrue(e < 2e-5, k + " " + threads + " threads, recurrent " + recurrent + ": relative error " + e);
          }
        }
      }
    }
  }

  @ParameterizedTest(name = "reset {0}")
  @EnumSource(Layer.Reset.class)
  @DisplayName("binary spikes: addition-only kernel, dense Java GEMM, OpenBLAS and the double reference agree")
  void sparseDenseNativeAgree(Layer.Reset reset) {
    int T = 40, batch = 6;
    for (boolean recurrent : new boolean[] {false, true}) {
      for (boolean detach : new boolean[] {true, false}) {
        Layer[] ls = net(recurrent, reset, detach, Surrogate.of("superspike", 10), 21);
        SpikingNet.LossKind loss = recurrent ? SpikingNet.LossKind.COUNT_CE : SpikingNet.LossKind.MAX_CE;
        float[] x = spikeInput(batch, T, ls[0].nIn, 0.3, 4);
        int[] y = {0, 1, 2, 1, 0, 2};
        double[][] ref = referenceGrads(ls, loss, false, x, y, T);
        double refNorm = 0;
        for (double[] a : ref) for (double d : a) refNorm += d * d;
        assertTrue(refNorm > 0, "some gradient flows");
        Input in = Input.dense(x, batch, T, ls[0].nIn, true);
        assertTrue(in.binary(), "0/1 input is detected as spikes");
        for (String k : new String[] {"java", "openblas"}) {
          float[][] sparse = null, dense = null;
          for (SpikingNet.Mode mode : SpikingNet.Mode.values()) {
            try (SpikingNet net = new SpikingNet(ls, loss, false, 1.0, Kernels.named(k), 2)) {
              net.setMode(mode);
              net.step(in, y);
              double e = relErr(toD(net.grads()), ref);
              assertTrue(e < 1e-5, k + " " + mode + " recurrent " + recurrent + " detach " + detach + ": relative error " + e);
              if (mode == SpikingNet.Mode.AUTO) {
                assertTrue(net.sparseProducts() > 0, "AUTO with spike input takes the addition-only path");
                sparse = deepCopy(net.grads());
              } else {
                assertEquals(0, net.sparseProducts(), "DENSE never does");
                dense = deepCopy(net.grads());
              }
            }
          }
          // The sparse (event-list) path against the dense GEMM path of the same kernels, directly.
          double e = relErr(toD(sparse), toD(dense));
          assertTrue(e < 1e-6, k + ": sparse vs dense relative error " + e);
        }
      }
    }
  }

  static float[][] deepCopy(float[][] a) { float[][] c = new float[a.length][]; for (int i = 0; i < a.length; i++) c[i] = a[i].clone(); return c; }

  @Test
  @DisplayName("Surrogate.gradRow (float, one loop per kind) equals grad (double) to 1e-6 of its peak for every kind and a subclass")
  void surrogateRowsMatchGrad() {
    Surrogate custom = new Surrogate("custom", 2) {
      @Override public double grad(double x) { return Math.exp(-p * x * x); }
      @Override public double smooth(double x) { return x; }
    };
    float[] u = new float[401];
    for (int k = 0; k < u.length; k++) u[k] = -3f + 0.015f * k;
    for (Surrogate sg : new Surrogate[] {Surrogate.of("superspike", 10), Surrogate.of("sigmoid", 4), Surrogate.of("atan", 2),
                                         Surrogate.of("fast-sigmoid", 25), Surrogate.of("triangle", 1.5), custom}) {
      float th = 0.75f;
      float[] out = new float[u.length + 3];
      sg.gradRow(u, 0, th, out, 3, u.length);
      for (int k = 0; k < u.length; k++) {
        double want = sg.grad(u[k] - th);
        assertEquals(want, out[k + 3], 1e-6 * (Math.abs(want) + sg.grad(0)), sg + " at u = " + u[k]);
      }
    }
  }

  @Test
  @DisplayName("loss reductions: mean = sum / batch, scale multiplies loss and gradients")
  void lossReductions() {
    int T = 10, batch = 4;
    Layer[] ls = net(false, Layer.Reset.HARD, true, Surrogate.of("superspike", 10), 8);
    float[] x = spikeInput(batch, T, 5, 0.4, 2);
    int[] y = {0, 1, 2, 0};
    Input in = Input.dense(x, batch, T, 5, true);
    try (SpikingNet sum = new SpikingNet(ls, SpikingNet.LossKind.MAX_CE, false, 1.0, Kernels.java(), 1);
         SpikingNet mean = new SpikingNet(ls, SpikingNet.LossKind.MAX_CE, true, 0.5, Kernels.java(), 1)) {
      SpikingNet.Stats a = sum.step(in, y), b = mean.step(in, y);
      assertEquals(a.loss * 0.5 / batch, b.loss, 1e-6);
      for (int p = 0; p < sum.grads().length; p++) {
        for (int i = 0; i < sum.grads()[p].length; i++) assertEquals(sum.grads()[p][i] * 0.5f / batch, mean.grads()[p][i], 1e-7f);
      }
    }
  }

  @Test
  @DisplayName("bad sizes, labels and rates are refused with the value named")
  void badInput() {
    Layer[] ls = net(false, Layer.Reset.HARD, true, Surrogate.of("superspike", 10), 8);
    try (SpikingNet net = new SpikingNet(ls, SpikingNet.LossKind.MAX_CE, false, 1.0, Kernels.java(), 1)) {
      Input in = Input.dense(new float[2 * 3 * 5], 2, 3, 5, true);
      var e = assertThrows(chive.core.sim.ChiveException.class, () -> net.step(in, new int[] {0, 7}));
      assertTrue(e.getMessage().contains("label 7"), e.getMessage());
      var e2 = assertThrows(chive.core.sim.ChiveException.class, () -> net.step(Input.dense(new float[2 * 3 * 4], 2, 3, 4, true), new int[] {0, 1}));
      assertTrue(e2.getMessage().contains("4 units"), e2.getMessage());
    }
    var e3 = assertThrows(chive.core.sim.ChiveException.class, () -> new Layer(3, 2, true, false, 1.5, 0.5, 0, 1, 1, 1, 1, Layer.Reset.HARD, true, Surrogate.of("superspike", 1)));
    assertTrue(e3.getMessage().contains("1.5"), e3.getMessage());
    assertThrows(chive.core.sim.ChiveException.class, () -> Surrogate.of("tanhh", 1));
    assertThrows(chive.core.sim.ChiveException.class, () -> new SpikingNet(new Layer[] {lif(3, 4, false, Layer.Reset.HARD, true, Surrogate.of("atan", 2)), readout(5, 2)},
        SpikingNet.LossKind.MAX_CE, false, 1, Kernels.java(), 1));
  }
}
