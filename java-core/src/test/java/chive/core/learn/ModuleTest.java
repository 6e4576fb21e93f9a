package chive.core.learn;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.kernel.Kernels;
import chive.core.sim.ChiveException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ModuleTest {
  static final Surrogate SG = Surrogate.of("fast-sigmoid", 2);

  static Neuron lif(Layer.Reset reset, Neuron.Per per, boolean cb, boolean learn) {
    return new Neuron(Neuron.Kind.LIF, 0.8, cb, 0.6, 0.5, reset, false, SG, per, learn, learn && cb, learn);
  }

  static void init(Module[] ms, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    for (Module m : ms) {
      if (m instanceof Weighted) {
        Weighted w = (Weighted) m;
        w.initNormal(2.0, r);
        if (w.bias() != null) for (int i = 0; i < w.bias().length; i++) w.bias()[i] = (float) (0.2 * r.nextDouble());
      }
    }
  }

  static float[] analog(int len, long seed, double scale) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[len];
    for (int i = 0; i < len; i++) x[i] = (float) (scale * r.nextDouble());
    return x;
  }

  static float[] binary(int len, double p, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[len];
    for (int i = 0; i < len; i++) x[i] = r.nextDouble() < p ? 1f : 0f;
    return x;
  }

  /** A conv net with every trainable kind: conv (bias), LIF per channel, depthwise conv (its input gradient reaches the first), avg pool, flatten, affine, current-based LIF, delay, linear, LI readout. */
  static Module[] convNet(Layer.Reset reset) {
    return new Module[] {
        new Conv2d(2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, true),
        lif(reset, Neuron.Per.CHANNEL, false, true),
        new Conv2d(3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3, false),
        new Pool2d(Pool2d.Kind.AVG, 2, 2, 2, 2, 0, 0),
        new Flatten(),
        new Affine(27, 5, true),
        lif(reset, Neuron.Per.NEURON, true, true),
        new Delay(1),
        new Affine(5, 3, false),
        new Neuron(Neuron.Kind.LI, 0.9, false, 0, 0, Layer.Reset.HARD, true, null, Neuron.Per.NEURON, true, false, false)};
  }

  /** Batch norm after a convolution (per channel, its input gradient reaching the conv) and after an affine map (per unit); γ and β set away from 1 and 0. */
  static Module[] normNet(Layer.Reset reset) {
    BatchNorm a = new BatchNorm(0.1, 1e-5), b = new BatchNorm(0.1, 1e-5);
    Module[] ms = {
        new Conv2d(2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, false), // a bias before batch norm cancels out (no gradient)
        a,
        lif(reset, Neuron.Per.CHANNEL, false, true),
        new Pool2d(Pool2d.Kind.AVG, 2, 2, 2, 2, 0, 0),
        new Flatten(),
        new Affine(27, 4, false),
        b,
        new Neuron(Neuron.Kind.LI, 0.9, false, 0, 0, Layer.Reset.HARD, true, null, Neuron.Per.NEURON, true, false, false),
        new Affine(4, 3, false),
        new Neuron(Neuron.Kind.LI, 0.8, false, 0, 0, Layer.Reset.HARD, true, null, Neuron.Per.NEURON, false, false, false)};
    return ms;
  }

  /** Grouped, strided, dilated conv, IF, max and sum pooling, dropout, spiking output for the count loss. */
  static Module[] countNet(Layer.Reset reset) {
    return new Module[] {
        new Conv2d(2, 4, 3, 2, 2, 1, 1, 0, 2, 1, 2, true),
        new Neuron(Neuron.Kind.IF, 1, false, 0, 0.7, reset, false, SG, Neuron.Per.LAYER, false, false, true),
        new Pool2d(Pool2d.Kind.MAX, 2, 2, 1, 2, 0, 1),
        new Pool2d(Pool2d.Kind.SUM, 1, 2, 1, 1, 0, 0),
        new Flatten(),
        new Dropout(0.3, 5),
        new Affine(12, 3, true),
        lif(reset, Neuron.Per.LAYER, true, true)};
  }

  /**
   * Central differences (eps 1e-5) of the double-precision reference's loss
   * against the engine's analytic gradient, per parameter array; also the
   * reference's loss against the engine's (same math, float).
   */
  static double referenceError(SpikingNet net, float[] x, int batch, int T, int[] y) {
    net.setSmoothForward(true);
    net.setTrainingSteps(7);
    Input in = Input.dense(x, batch, T, net.inputSize(), false);
    double engineLoss = net.step(in, y).loss;
    ReferenceStages ref = new ReferenceStages(net, true);
    double refLoss = ref.loss(x, batch, T, y, 7);
    assertEquals(refLoss, engineLoss, 1e-4 * (1 + Math.abs(refLoss)), "engine and double reference compute the same loss");
    double worst = 0;
    int k = 0;
    for (int l = 0; l < ref.p.length; l++) {
      for (double[] a : ref.p[l]) {
        float[] g = net.grads()[k++];
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
          double old = a[i], eps = 1e-5;
          a[i] = old + eps;
          double lp = ref.loss(x, batch, T, y, 7);
          a[i] = old - eps;
          double lm = ref.loss(x, batch, T, y, 7);
          a[i] = old;
          double fd = (lp - lm) / (2 * eps);
          num += (fd - g[i]) * (fd - g[i]);
          den += fd * fd;
        }
        assertTrue(den > 1e-12, "parameter array " + (k - 1) + " gets a gradient");
        worst = Math.max(worst, Math.sqrt(num / den));
      }
    }
    System.err.println("double reference, finite differences: largest relative error per parameter array " + worst);
    return worst;
  }

  @Test
  @DisplayName("every stage's backward matches central differences of a double-precision reference of the forward math (1e-4 relative per parameter array; measured 2e-7 to 1.2e-6)")
  void stagesMatchDoubleReference() {
    for (Layer.Reset reset : Layer.Reset.values()) {
      int T = 6, batch = 2;
      Module[] ms = convNet(reset);
      init(ms, 3);
      try (SpikingNet net = new SpikingNet(ms, new int[] {2, 6, 6}, SpikingNet.LossKind.MAX_CE, false, 1, Kernels.java(), 1)) {
        double err = referenceError(net, analog(batch * T * 72, 4, 1.0), batch, T, new int[] {1, 2});
        assertTrue(err < 1e-4, "conv net, reset " + reset + ": relative error " + err);
      }
      for (int nb : new int[] {2, 20}) {
        // 2 samples: one per group (statistics over steps and positions); 20: groups of 1 and 2 samples
        Module[] bs = normNet(reset);
        init(bs, 8);
        try (SpikingNet net = new SpikingNet(bs, new int[] {2, 6, 6}, SpikingNet.LossKind.MAX_CE, false, 1, Kernels.java(), 1)) {
          for (Module m : bs) if (m instanceof BatchNorm) {
            BatchNorm bn = (BatchNorm) m;
            for (int c = 0; c < bn.gamma().length; c++) { bn.gamma()[c] = 0.6f + 0.3f * c; bn.beta()[c] = 0.2f - 0.15f * c; }
          }
          int[] y = new int[nb];
          for (int i = 0; i < nb; i++) y[i] = i % 3;
          double err = referenceError(net, analog(nb * T * 72, 9, 1.0), nb, T, y);
          assertTrue(err < 1e-4, "batch-norm net, batch " + nb + ", reset " + reset + ": relative error " + err);
        }
      }
      for (boolean current : new boolean[] {false, true}) {
        // recurrent LIF (V set away from 0), with and without a synaptic current, trained decays and thresholds
        Neuron rec = new Neuron(Neuron.Kind.LIF, 0.8, current, 0.6, 0.5, reset, false, SG, Neuron.Per.NEURON, true, current, true, true);
        Module[] rs = {new Affine(4, 5, true), rec, new Affine(5, 3, false),
                       new Neuron(Neuron.Kind.LI, 0.9, false, 0, 0, Layer.Reset.HARD, true, null, Neuron.Per.NEURON, false, false, false)};
        init(rs, 12);
        try (SpikingNet net = new SpikingNet(rs, new int[] {4}, SpikingNet.LossKind.MAX_CE, false, 1, Kernels.java(), 1)) {
          float[] v = rec.recurrentWeights();
          SplittableRandom r = new SplittableRandom(13);
          for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() - 0.5);
          // a constant membrane drive on the current-based one (NIR's CubaLIF with v_leak != v_reset)
          if (current) rec.setDrive(new float[] {0.05f, -0.1f, 0.2f, 0f, 0.1f});
          assertEquals(current ? java.util.List.of("beta", "alpha", "threshold", "v") : java.util.List.of("beta", "threshold", "v"),
                       java.util.List.of(rec.paramNames()));
          assertArrayEquals(new int[] {5, 5}, rec.paramShapes()[rec.paramShapes().length - 1]);
          double err = referenceError(net, analog(batch * 10 * 4, 14, 1.5), batch, 10, new int[] {1, 2});
          assertTrue(err < 1e-4, "recurrent net, current " + current + ", reset " + reset + ": relative error " + err);
        }
        // 1 and 3 threads: the same gradients, bit for bit (binary spikes, a batch of 6)
        float[][][] g = new float[2][][];
        for (int th = 0; th < 2; th++) {
          Neuron r2 = new Neuron(Neuron.Kind.LIF, 0.8, current, 0.6, 0.5, reset, false, SG, Neuron.Per.NEURON, true, current, true, true);
          Module[] ms2 = {new Affine(4, 5, true), r2, new Affine(5, 3, false),
                          new Neuron(Neuron.Kind.LI, 0.9, false, 0, 0, Layer.Reset.HARD, true, null, Neuron.Per.NEURON, false, false, false)};
          init(ms2, 12);
          try (SpikingNet net = new SpikingNet(ms2, new int[] {4}, SpikingNet.LossKind.MAX_CE, false, 1, Kernels.java(), th == 0 ? 1 : 3)) {
            SplittableRandom r = new SplittableRandom(13);
            for (int i = 0; i < r2.recurrentWeights().length; i++) r2.recurrentWeights()[i] = (float) (r.nextDouble() - 0.5);
            net.step(Input.dense(binary(6 * 10 * 4, 0.4, 15), 6, 10, 4, true), new int[] {0, 1, 2, 0, 1, 2});
            g[th] = new float[net.grads().length][];
            for (int k = 0; k < g[th].length; k++) g[th][k] = net.grads()[k].clone();
          }
        }
        for (int k = 0; k < g[0].length; k++) assertArrayEquals(g[0][k], g[1][k], "gradient array " + k + ", 1 vs 3 threads, current " + current + ", reset " + reset);
      }
      Module[] cs = countNet(reset);
      init(cs, 5);
      try (SpikingNet net = new SpikingNet(cs, new int[] {2, 5, 7}, SpikingNet.LossKind.COUNT_CE, false, 1, Kernels.java(), 1)) {
        double err = referenceError(net, analog(batch * T * 70, 6, 1.5), batch, T, new int[] {0, 2});
        assertTrue(err < 1e-4, "count net, reset " + reset + ": relative error " + err);
      }
    }
  }

  /** The textbook loops: y[o, oy, ox] = b[o] + Σ x[c, oy·s - p + ky·d, ...]·w[o, c - g·cing, ky, kx]. */
  static float[] directConv(Conv2d m, float[] x, int rows, int h, int w) {
    int ho = m.outShape()[1], wo = m.outShape()[2], cing = m.cin / m.groups, cog = m.cout / m.groups;
    float[] y = new float[rows * m.cout * ho * wo];
    for (int r = 0; r < rows; r++) for (int o = 0; o < m.cout; o++) for (int oy = 0; oy < ho; oy++) for (int ox = 0; ox < wo; ox++) {
      double s = m.b == null ? 0 : m.b[o];
      int g = o / cog;
      for (int cl = 0; cl < cing; cl++) for (int ky = 0; ky < m.kh; ky++) for (int kx = 0; kx < m.kw; kx++) {
        int iy = oy * m.sh - m.ph + ky * m.dh, ix = ox * m.sw - m.pw + kx * m.dw;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
        s += x[r * m.cin * h * w + (g * cing + cl) * h * w + iy * w + ix] * m.w[((o * cing + cl) * m.kh + ky) * m.kw + kx];
      }
      y[((r * m.cout + o) * ho + oy) * wo + ox] = (float) s;
    }
    return y;
  }

  @Test
  @DisplayName("Conv2d: im2col/GEMM (Java and OpenBLAS when present) and event scatter give the direct loop's output, weight and input gradients")
  void convKernelsAgree() {
    int[][] cfgs = {
        // cin cout kh kw sh sw ph pw dh dw groups H W
        {1, 4, 5, 5, 1, 1, 0, 0, 1, 1, 1, 12, 12},
        {2, 6, 3, 3, 2, 1, 1, 2, 1, 1, 2, 9, 8},
        {4, 4, 3, 2, 1, 2, 2, 0, 2, 1, 4, 7, 9},
        {3, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1, 5, 5},
        {2, 3, 3, 3, 1, 2, 1, 1, 1, 2, 1, 8, 9}};
    for (int[] k : cfgs) for (double density : new double[] {0.15, 0.01}) {
      // 0.15: rows with many events (channels-last accumulation); 0.01: rows with few (added straight into y)
      int T = 3, batch = 2, rows = T * batch, inN = k[0] * k[11] * k[12];
      float[] x = binary(rows * inN, density, k[0] + k[1]);
      float[] base = null;
      float[][] baseGrads = null;
      for (int variant = 0; variant < 4; variant++) {
        Conv2d c = new Conv2d(k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8], k[9], k[10], true);
        c.initNormal(1, new SplittableRandom(9));
        for (int i = 0; i < c.b.length; i++) c.b[i] = 0.1f * i;
        Kernels kern = variant == 2 ? Kernels.openblas() : Kernels.java();
        Module[] ms = {c, new Flatten()};
        try (SpikingNet net = new SpikingNet(ms, new int[] {k[0], k[11], k[12]}, SpikingNet.LossKind.MAX_CE, false, 1, kern, 1)) {
          c.setSparseDensityMax(variant == 1 ? 1.0 : 0.0);
          if (variant == 3) net.setMode(SpikingNet.Mode.DENSE);
          Input in = Input.dense(x, batch, T, inN, true);
          long before = net.sparseProducts();
          float[] y = net.record(in)[0];
          assertEquals(variant == 1, net.sparseProducts() > before, "variant " + variant + " took the " + (variant == 1 ? "event" : "dense") + " path");
          float[] ref = directConv(c, x, rows, k[11], k[12]);
          for (int i = 0; i < ref.length; i++) assertEquals(ref[i], y[i], 1e-4f * (1 + Math.abs(ref[i])), "output " + i + ", config " + java.util.Arrays.toString(k) + ", variant " + variant);
          if (base == null) base = y;
        }
        // Gradients: conv inside a chain whose loss reaches every output, input gradient through a conv before it.
        Conv2d front = new Conv2d(1, k[0], 1, 1, 1, 1, 0, 0, 1, 1, 1, false);
        java.util.Arrays.fill(front.w, 1f);
        Conv2d c2 = new Conv2d(k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8], k[9], k[10], true);
        System.arraycopy(c.w, 0, c2.w, 0, c.w.length);
        int outN = Module.size(c.outShape());
        Affine head = new Affine(outN, 3, false);
        head.initNormal(1, new SplittableRandom(2));
        Module[] chain = {c2, new Flatten(), head, new Neuron(Neuron.Kind.LI, 0.9, false, 0, 0, Layer.Reset.HARD, true, null, Neuron.Per.LAYER, false, false, false)};
        try (SpikingNet net = new SpikingNet(chain, new int[] {k[0], k[11], k[12]}, SpikingNet.LossKind.MAX_CE, false, 1, kern, 1)) {
          c2.setSparseDensityMax(variant == 1 ? 1.0 : 0.0);
          if (variant == 3) net.setMode(SpikingNet.Mode.DENSE);
          net.step(Input.dense(x, batch, T, inN, true), new int[] {0, 2});
          float[][] g = new float[net.grads().length][];
          for (int i = 0; i < g.length; i++) g[i] = net.grads()[i].clone();
          if (baseGrads == null) baseGrads = g;
          else for (int p = 0; p < g.length; p++) for (int i = 0; i < g[p].length; i++) {
            assertEquals(baseGrads[p][i], g[p][i], 1e-4f * (1 + Math.abs(baseGrads[p][i])), "gradient " + p + "[" + i + "], variant " + variant);
          }
        }
        assertNotNull(front);
      }
    }
  }

  @Test
  @DisplayName("Conv2d's automatic choice: the event kernel below the cost model's break-even density, the dense one above")
  void convAutomaticChoiceFollowsTheCostModel() {
    Conv2d c = new Conv2d(32, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, true);
    ChiveException unbound = assertThrows(ChiveException.class, () -> c.breakEvenDensity(Kernels.java()));
    assertTrue(unbound.getMessage().contains("input shape"), unbound.getMessage());
    c.initNormal(1, new SplittableRandom(5));
    Module[] ms = {c, new Flatten()};
    int T = 2, batch = 2, inN = 32 * 14 * 14;
    try (SpikingNet net = new SpikingNet(ms, new int[] {32, 14, 14}, SpikingNet.LossKind.MAX_CE, false, 1, Kernels.named("auto"), 1)) {
      assertTrue(Double.isNaN(c.sparseDensityMax()), "automatic by default");
      double be = c.breakEvenDensity(Kernels.named("auto"));
      if (Kernels.named("auto").name().equals("openblas")) {
        // Measured crossovers for this shape: 0.2-0.3 (SIMD lanes), 0.065 (scalar).
        assertTrue(be > (chive.core.kernel.Simd.ENABLED ? 0.12 : 0.04) && be < 0.35, "break-even density " + be);
      }
      assertEquals(1.0, c.breakEvenDensity(Kernels.java()), 0.0, "chive's Java GEMM is slower than any event count this shape can have");
      for (double density : new double[] {be * 0.5, Math.min(0.95, be * 1.5 + 0.05)}) {
        long before = net.sparseProducts();
        net.record(Input.dense(binary(batch * T * inN, density, 3), batch, T, inN, true));
        assertEquals(density < be, net.sparseProducts() > before, "density " + density + " against break-even " + be);
      }
      c.setSparseDensityMax(1.0);
      long before = net.sparseProducts();
      net.record(Input.dense(binary(batch * T * inN, 0.9, 3), batch, T, inN, true));
      assertTrue(net.sparseProducts() > before, "a fixed limit of 1 forces the event kernel");
      c.setSparseDensityMax(Double.NaN);
      assertTrue(Double.isNaN(c.sparseDensityMax()), "NaN returns to the cost model");
      chive.core.sim.ChiveException e = assertThrows(chive.core.sim.ChiveException.class, () -> c.setSparseDensityMax(1.5));
      assertTrue(e.getMessage().contains("1.5"), e.getMessage());
    }
  }

  @Test
  @DisplayName("Conv2d's input gradient: event path and dense path agree when the conv is not the first stage")
  void convInputGradientBothPaths() {
    float[][] ref = null;
    for (double dens : new double[] {0.0, 1.0}) {
      Conv2d a = new Conv2d(1, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, false);
      a.initNormal(3, new SplittableRandom(1));
      Conv2d b = new Conv2d(2, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, true);
      b.initNormal(3, new SplittableRandom(2));
      Affine head = new Affine(3 * 4 * 4, 2, true);
      head.initNormal(1, new SplittableRandom(3));
      Module[] ms = {a, lif(Layer.Reset.SOFT, Neuron.Per.CHANNEL, false, true), b, lif(Layer.Reset.HARD, Neuron.Per.NEURON, false, false),
                     new Flatten(), head, new Neuron(Neuron.Kind.I, 1, false, 0, 0, Layer.Reset.HARD, true, null, Neuron.Per.LAYER, false, false, false)};
      try (SpikingNet net = new SpikingNet(ms, new int[] {1, 8, 8}, SpikingNet.LossKind.MAX_CE, false, 1, Kernels.java(), 1)) {
        b.setSparseDensityMax(dens);
        net.step(Input.dense(binary(4 * 5 * 64, 0.3, 4), 4, 5, 64, true), new int[] {0, 1, 1, 0});
        float[][] g = net.grads();
        if (ref == null) {
          ref = new float[g.length][];
          for (int i = 0; i < g.length; i++) ref[i] = g[i].clone();
          double norm = 0;
          for (float v : g[0]) norm += v * v;
          assertTrue(norm > 0, "the first conv gets a gradient");
        } else {
          for (int p = 0; p < g.length; p++) for (int i = 0; i < g[p].length; i++) assertEquals(ref[p][i], g[p][i], 1e-4f * (1 + Math.abs(ref[p][i])));
        }
      }
    }
  }

  @Test
  @DisplayName("pooling: sum, average and max against direct loops; max of spikes stays spikes")
  void poolingDirect() {
    int C = 2, H = 5, W = 6, rows = 3;
    float[] x = analog(rows * C * H * W, 8, 1);
    for (Pool2d.Kind kind : Pool2d.Kind.values()) {
      Pool2d p = new Pool2d(kind, 2, 3, 2, 2, 1, 1);
      int[] out = p.bind(new int[] {C, H, W}, "layer 0");
      Module.Env env = new Module.Env(Kernels.java(), false, false, false, 0, 0, 1, null);
      float[] y = p.forward(p.newContext(), Activation.dense(rows, C * H * W, x), rows, env).values();
      for (int r = 0; r < rows; r++) for (int c = 0; c < C; c++) for (int oy = 0; oy < out[1]; oy++) for (int ox = 0; ox < out[2]; ox++) {
        double s = 0, m = Double.NEGATIVE_INFINITY;
        for (int ky = 0; ky < 2; ky++) for (int kx = 0; kx < 3; kx++) {
          int iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx;
          if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
          float v = x[((r * C + c) * H + iy) * W + ix];
          s += v;
          m = Math.max(m, v);
        }
        double want = kind == Pool2d.Kind.SUM ? s : kind == Pool2d.Kind.AVG ? s / 6 : m;
        assertEquals(want, y[((r * C + c) * out[1] + oy) * out[2] + ox], 1e-5, kind + " at " + r + "," + c + "," + oy + "," + ox);
      }
    }
    Pool2d mp = new Pool2d(Pool2d.Kind.MAX, 2, 2, 2, 2, 0, 0);
    mp.bind(new int[] {1, 4, 4}, "layer 0");
    float[] s = binary(2 * 16, 0.3, 1);
    Activation a = mp.forward(mp.newContext(), Activation.events(2, 16, s, chive.core.kernel.SpikeRows.ifBinary(s, 2, 16), 0, 1f), 2,
        new Module.Env(Kernels.java(), false, false, false, 0, 0, 1, null));
    assertTrue(a.binary());
    assertArrayEquals(a.events.dense(), java.util.Arrays.copyOf(a.values(), 8));
    // Max of spikes from the events alone (tiling windows) against the dense loop: values and where the gradient goes.
    Pool2d ev = new Pool2d(Pool2d.Kind.MAX, 2, 3, 2, 3, 0, 0), dn = new Pool2d(Pool2d.Kind.MAX, 2, 3, 2, 3, 0, 0);
    int[] sh = {3, 5, 7};
    ev.bind(sh, "layer 0");
    dn.bind(sh, "layer 0");
    int rowsB = 4, inB = 105, outB = 3 * 2 * 2;
    float[] sb = binary(rowsB * inB, 0.3, 9);
    Module.Env e1 = new Module.Env(Kernels.java(), false, false, false, 0, 0, 1, null);
    Module.Ctx ce = ev.newContext(), cd = dn.newContext();
    float[] ye = ev.forward(ce, Activation.events(rowsB, inB, sb, chive.core.kernel.SpikeRows.ifBinary(sb, rowsB, inB), 0, 1f), rowsB, e1).values().clone();
    float[] yd = dn.forward(cd, Activation.dense(rowsB, inB, sb), rowsB, e1).values().clone();
    assertArrayEquals(yd, java.util.Arrays.copyOf(ye, rowsB * outB));
    float[] g = analog(rowsB * outB, 3, 1), ge = new float[rowsB * inB], gd = new float[rowsB * inB];
    ev.backward(ce, null, g, ge, new float[0][], rowsB, e1);
    dn.backward(cd, null, g, gd, new float[0][], rowsB, e1);
    assertArrayEquals(gd, ge);
  }

  @Test
  @DisplayName("spiking neurons' backward with the reset detached (every reset; the soft one has its own kernel, with the rational surrogates inlined) equals a double-precision loop of the detached BPTT equations")
  void detachedNeuronBackwardMatchesItsEquations() {
    int T = 9, C = 3, HW = 6, n = C * HW, batch = 3;
    float[] x = analog(batch * T * n, 17, 1.0);
    for (int i = 0; i < x.length; i++) x[i] = x[i] * 1.6f - 0.3f;
    float[] g = analog(batch * T * n, 18, 1.0);
    for (int i = 0; i < g.length; i++) g[i] -= 0.5f;
    Module.Env env = new Module.Env(Kernels.java(), false, false, true, 0, 0, T, null);
    for (Surrogate sg : new Surrogate[] {Surrogate.of("superspike", 10), Surrogate.of("fast-sigmoid", 2), Surrogate.of("atan", 2)}) {
      for (Layer.Reset reset : Layer.Reset.values()) {
        String what = reset + " " + sg.name();
        Neuron nr = new Neuron(Neuron.Kind.LIF, 0.8, false, 0, 0.7, reset, true, sg, Neuron.Per.CHANNEL, true, false, true);
        nr.bind(new int[] {C, 1, HW}, "layer 0");
        for (int q = 0; q < C; q++) { nr.beta()[q] = 0.7f + 0.1f * q; nr.threshold()[q] = 0.5f + 0.2f * q; }
        Module.Ctx ctx = nr.newContext();
        Activation a = nr.forward(ctx, Activation.dense(batch * T, n, x), batch, env);
        float[] u = nr.membrane(ctx), s = a.values();
        float[] gIn = new float[batch * T * n], dB = new float[C], dT = new float[C];
        nr.backward(ctx, null, g, gIn, new float[][] {dB, dT}, batch, env);
        double[] rB = new double[C], rT = new double[C];
        for (int b = 0; b < batch; b++) {
          double[] lamN = new double[n];
          for (int t = T - 1; t >= 0; t--) for (int j = 0; j < n; j++) {
            int q = j / HW, r = (b * T + t) * n + j;
            double bq = nr.beta()[q], th = nr.threshold()[q];
            double up = t == 0 ? 0 : u[r - n], sp = t == 0 ? 0 : s[r - n], sig = sg.grad(u[r] - th);
            double lamNext = lamN[j];
            // U_{t+1} depends on U_t through beta, scaled by the reset where it multiplies (S itself detached)
            double sNow = s[r], carry;
            switch (reset) {
              case SOFT: carry = bq; break;
              case HARD: carry = bq * (1 - sNow); break;
              default: carry = bq * (1 - sNow);
            }
            double lam = g[r] * sig + carry * lamNext;
            double dIn;
            double dBeta, dTh = -sig * g[r];
            switch (reset) {
              case SOFT: dIn = lam; dBeta = lam * up; dTh += -sp * lam; break;
              case HARD: dIn = lam * (1 - sp); dBeta = lam * up * (1 - sp); break;
              default: dIn = lam; dBeta = lam * up * (1 - sp);
            }
            rB[q] += dBeta;
            rT[q] += dTh;
            lamN[j] = lam;
            assertEquals(dIn, gIn[r], 1e-5 * (1 + Math.abs(dIn)), what + ": input gradient at sample " + b + " step " + t + " unit " + j);
          }
        }
        for (int q = 0; q < C; q++) {
          assertEquals(rB[q], dB[q], 1e-4 * (1 + Math.abs(rB[q])), what + ": beta gradient of channel " + q);
          assertEquals(rT[q], dT[q], 1e-4 * (1 + Math.abs(rT[q])), what + ": threshold gradient of channel " + q);
        }
      }
    }
  }

  @Test
  @DisplayName("spiking neurons' binary forward (every reset, current-based or not, per channel) equals a plain loop of the class's equations, and its event list holds exactly the spikes")
  void neuronForwardMatchesItsEquations() {
    int T = 7, C = 3, HW = 5, n = C * HW, batch = 3;
    SplittableRandom rng = new SplittableRandom(5);
    float[] x = new float[batch * T * n];
    for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextDouble() * 1.6 - 0.3);
    Module.Env env = new Module.Env(Kernels.java(), false, false, true, 0, 0, T, null);
    for (Layer.Reset reset : Layer.Reset.values()) for (boolean current : new boolean[] {false, true}) {
      Neuron nr = new Neuron(Neuron.Kind.LIF, 0.8, current, 0.6, 0.7, reset, true, SG, Neuron.Per.CHANNEL, true, current, true);
      nr.bind(new int[] {C, 1, HW}, "layer 0");
      for (int q = 0; q < C; q++) { nr.beta()[q] = 0.7f + 0.1f * q; nr.threshold()[q] = 0.5f + 0.2f * q; if (current) nr.alpha()[q] = 0.5f + 0.1f * q; }
      final float[] dr = new float[n];
      if (current) {
        for (int j = 0; j < n; j++) dr[j] = 0.02f * (j % 4) - 0.03f;
        nr.setDrive(dr);
      }
      Module.Ctx ctx = nr.newContext();
      Activation a = nr.forward(ctx, Activation.dense(batch * T, n, x), batch, env);
      int spikes = 0;
      for (int b = 0; b < batch; b++) {
        float[] u = new float[n], s = new float[n], cur = new float[n];
        for (int t = 0; t < T; t++) for (int j = 0; j < n; j++) {
          int q = j / HW, r = (b * T + t) * n + j;
          float bq = nr.beta()[q], th = nr.threshold()[q];
          float in = x[r];
          if (current) { cur[j] = t == 0 ? in : nr.alpha()[q] * cur[j] + in; in = cur[j] + dr[j]; }
          float sp = s[j], up = u[j];
          float next;
          switch (reset) {
            case SOFT: next = bq * up + in - th * sp; break;
            case HARD: next = (bq * up + in) * (1 - sp); break;
            default: next = bq * up * (1 - sp) + in;
          }
          u[j] = next;
          s[j] = next > th ? 1f : 0f;
          assertEquals(next, nr.membrane(ctx)[r], 1e-6f, reset + (current ? " current" : "") + ": membrane at sample " + b + " step " + t + " unit " + j);
          assertEquals(s[j], a.values()[r], reset + (current ? " current" : "") + ": spike at sample " + b + " step " + t + " unit " + j);
          if (s[j] != 0f) spikes++;
        }
      }
      assertEquals(spikes, a.events.nnz(), "one event per spike");
      assertArrayEquals(a.values(), a.events.dense(), "the event list is the spikes");
      assertTrue(spikes > 20 && spikes < batch * T * n - 20, "the drive makes some, not all, neurons fire: " + spikes);
    }
  }

  @Test
  @DisplayName("recurrent neurons: membrane, spikes and event list equal a plain loop with X'_t = X_t + S_{t-1}·V, every reset, current-based or not; only spiking vector stages may be recurrent")
  void recurrentNeuronForwardMatchesItsEquations() {
    int T = 9, n = 8, batch = 2;
    SplittableRandom rng = new SplittableRandom(21);
    float[] x = new float[batch * T * n];
    for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextDouble() * 1.2 - 0.2);
    Module.Env env = new Module.Env(Kernels.java(), false, false, true, 0, 0, T, null);
    for (Layer.Reset reset : Layer.Reset.values()) for (boolean current : new boolean[] {false, true}) {
      Neuron nr = new Neuron(Neuron.Kind.LIF, 0.8, current, 0.6, 0.7, reset, true, SG, Neuron.Per.NEURON, false, false, false, true);
      nr.bind(new int[] {n}, "layer 0");
      float[] v = nr.recurrentWeights();
      for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextDouble() - 0.5);
      Module.Ctx ctx = nr.newContext();
      Activation a = nr.forward(ctx, Activation.dense(batch * T, n, x), batch, env);
      int spikes = 0;
      for (int b = 0; b < batch; b++) {
        float[] u = new float[n], s = new float[n], cur = new float[n], rec = new float[n];
        for (int t = 0; t < T; t++) {
          java.util.Arrays.fill(rec, 0f);
          for (int i = 0; i < n; i++) if (s[i] != 0f) for (int j = 0; j < n; j++) rec[j] += s[i] * v[i * n + j];
          float[] sNew = new float[n];
          for (int j = 0; j < n; j++) {
            int r = (b * T + t) * n + j;
            float in = x[r] + rec[j];
            if (current) { cur[j] = t == 0 ? in : 0.6f * cur[j] + in; in = cur[j]; }
            float next;
            switch (reset) {
              case SOFT: next = 0.8f * u[j] + in - 0.7f * s[j]; break;
              case HARD: next = (0.8f * u[j] + in) * (1 - s[j]); break;
              default: next = 0.8f * u[j] * (1 - s[j]) + in;
            }
            u[j] = next;
            sNew[j] = next > 0.7f ? 1f : 0f;
            assertEquals(next, nr.membrane(ctx)[r], 1e-5f, reset + (current ? " current" : "") + ": membrane at sample " + b + " step " + t + " unit " + j);
            assertEquals(sNew[j], a.values()[r], reset + (current ? " current" : "") + ": spike at sample " + b + " step " + t + " unit " + j);
            if (sNew[j] != 0f) spikes++;
          }
          s = sNew;
        }
      }
      assertEquals(spikes, a.events.nnz(), "one event per spike");
      assertTrue(spikes > 10 && spikes < batch * T * n - 10, "some, not all, neurons fire: " + spikes);
    }
    ChiveException e = assertThrows(ChiveException.class, () -> new Neuron(Neuron.Kind.LI, 0.9, false, 0, 0, Layer.Reset.HARD, true, null, Neuron.Per.NEURON, false, false, false, true));
    assertTrue(e.getMessage().contains("readout"), e.getMessage());
    Neuron maps = new Neuron(Neuron.Kind.LIF, 0.8, false, 0, 0.5, Layer.Reset.SOFT, true, SG, Neuron.Per.NEURON, false, false, false, true);
    e = assertThrows(ChiveException.class, () -> maps.bind(new int[] {2, 3, 3}, "layer 1"));
    assertTrue(e.getMessage().contains("[2, 3, 3]"), e.getMessage());
  }

  @Test
  @DisplayName("delay shifts each sample by whole steps (values and events); dropout keeps one mask over time, scales by 1/(1-p), and passes through in evaluation")
  void delayAndDropout() {
    int T = 5, n = 4, batch = 2;
    float[] x = binary(batch * T * n, 0.5, 3);
    Delay d = new Delay(2);
    d.bind(new int[] {n}, "layer 0");
    Module.Env env = new Module.Env(Kernels.java(), false, false, true, 3, 0, T, null);
    Activation a = d.forward(d.newContext(), Activation.events(batch * T, n, x, chive.core.kernel.SpikeRows.ifBinary(x, batch * T, n), 0, 1f), batch, env);
    for (int b = 0; b < batch; b++) for (int t = 0; t < T; t++) for (int j = 0; j < n; j++) {
      float want = t < 2 ? 0f : x[(b * T + t - 2) * n + j];
      assertEquals(want, a.values()[(b * T + t) * n + j]);
    }
    assertArrayEquals(a.values(), a.events.dense());

    Dropout drop = new Dropout(0.5, 11);
    int big = 400;
    drop.bind(new int[] {big}, "layer 0");
    float[] ones = new float[batch * T * big];
    java.util.Arrays.fill(ones, 1f);
    Module.Ctx c = drop.newContext();
    Activation y = drop.forward(c, Activation.dense(batch * T, big, ones), batch, env);
    int kept = 0;
    for (int b = 0; b < batch; b++) for (int j = 0; j < big; j++) {
      float v0 = y.values()[(b * T) * big + j];
      assertTrue(v0 == 0f || v0 == 2f, "kept units are scaled by 1/(1-p): " + v0);
      if (v0 != 0) kept++;
      for (int t = 1; t < T; t++) assertEquals(v0, y.values()[(b * T + t) * big + j], "mask fixed over time");
    }
    assertTrue(Math.abs(kept / (2.0 * big) - 0.5) < 0.07, "kept fraction " + kept / (2.0 * big));
    Module.Env eval = new Module.Env(Kernels.java(), false, false, false, 3, 0, T, null);
    assertSame(ones, drop.forward(drop.newContext(), Activation.dense(batch * T, big, ones), batch, eval).values());
  }

  @Test
  @DisplayName("batch norm: running statistics fold each group's mean and unbiased variance in group order, the same bits on 1 and 3 threads; evaluation normalises with them")
  void batchNormRunningStatistics() {
    int batch = 20, T = 4, n = 3;
    float[] x = analog(batch * T * n, 12, 2.0);
    for (int i = 0; i < x.length; i++) x[i] += (i % n) * 1.5f; // a different mean per unit
    int[] y = new int[batch];
    float[] refMean = null, refVar = null;
    for (int threads : new int[] {1, 3}) {
      BatchNorm bn = new BatchNorm(0.25, 1e-5);
      Module[] ms = {bn, new Neuron(Neuron.Kind.LI, 0.5, false, 0, 0, Layer.Reset.HARD, true, null, Neuron.Per.NEURON, false, false, false)};
      try (SpikingNet net = new SpikingNet(ms, new int[] {n}, SpikingNet.LossKind.MAX_CE, false, 1, Kernels.java(), threads)) {
        Input in = Input.dense(x, batch, T, n, false);
        net.step(in, y);
        net.step(in, y);
        double[] rm = new double[n], rv = new double[n];
        java.util.Arrays.fill(rv, 1);
        for (int rep = 0; rep < 2; rep++) for (int ci = 0; ci < SpikingNet.GROUPS; ci++) {
          int s0 = batch * ci / SpikingNet.GROUPS, s1 = batch * (ci + 1) / SpikingNet.GROUPS;
          for (int j = 0; j < n; j++) {
            double sum = 0, sq = 0;
            int cnt = (s1 - s0) * T;
            for (int r = s0 * T; r < s1 * T; r++) sum += x[r * n + j];
            double mu = sum / cnt;
            for (int r = s0 * T; r < s1 * T; r++) sq += (x[r * n + j] - mu) * (x[r * n + j] - mu);
            rm[j] = 0.75 * rm[j] + 0.25 * mu;
            rv[j] = 0.75 * rv[j] + 0.25 * sq / (cnt - 1);
          }
        }
        for (int j = 0; j < n; j++) {
          assertEquals(rm[j], bn.runningMean()[j], 1e-5 * (1 + Math.abs(rm[j])), "running mean " + j);
          assertEquals(rv[j], bn.runningVar()[j], 1e-5 * (1 + Math.abs(rv[j])), "running variance " + j);
        }
        if (refMean == null) { refMean = bn.runningMean().clone(); refVar = bn.runningVar().clone(); }
        else {
          assertArrayEquals(refMean, bn.runningMean(), threads + " threads: running mean");
          assertArrayEquals(refVar, bn.runningVar(), threads + " threads: running variance");
        }
        float[] out = net.record(in)[0];
        for (int r = 0; r < batch * T; r++) for (int j = 0; j < n; j++) {
          double want = bn.gamma()[j] * (x[r * n + j] - bn.runningMean()[j]) / Math.sqrt(bn.runningVar()[j] + 1e-5) + bn.beta()[j];
          assertEquals(want, out[r * n + j], 1e-5 * (1 + Math.abs(want)), "evaluation output " + r + ", " + j);
        }
      }
    }
    assertThrows(ChiveException.class, () -> new BatchNorm(0, 1e-5));
    assertThrows(ChiveException.class, () -> new BatchNorm(0.1, 0));
  }

  @Test
  @DisplayName("a conv net's loss and gradients are the same bits on 1, 2 and 3 threads (the batch is cut into the same groups)")
  void threadsAgree() {
    float[][] ref = null;
    double refLoss = 0;
    int batch = 20;
    int[] y = new int[batch];
    for (int i = 0; i < batch; i++) y[i] = i % 3;
    for (int threads : new int[] {1, 2, 3}) {
      Module[] ms = countNet(Layer.Reset.SOFT);
      init(ms, 5);
      try (SpikingNet net = new SpikingNet(ms, new int[] {2, 5, 7}, SpikingNet.LossKind.COUNT_CE, false, 1, Kernels.java(), threads)) {
        net.setTrainingSteps(4);
        double loss = net.step(Input.dense(binary(batch * 8 * 70, 0.3, 1), batch, 8, 70, true), y).loss;
        float[][] g = net.grads();
        if (ref == null) {
          ref = new float[g.length][];
          for (int i = 0; i < g.length; i++) ref[i] = g[i].clone();
          refLoss = loss;
        } else {
          assertEquals(refLoss, loss, 0.0, threads + " threads: loss");
          for (int p = 0; p < g.length; p++) assertArrayEquals(ref[p], g[p], threads + " threads: gradient " + p);
        }
      }
    }
  }

  @Test
  @DisplayName("shapes are checked when the network is built: the error names the layer, the shape given and the shape expected")
  void shapeErrors() {
    var e = assertThrows(ChiveException.class, () -> new SpikingNet(new Module[] {new Conv2d(2, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1, true), new Affine(10, 2, true)},
        new int[] {2, 8, 8}, SpikingNet.LossKind.MAX_CE, false, 1, Kernels.java(), 1));
    assertTrue(e.getMessage().contains("layer 1 (affine)") && e.getMessage().contains("[3, 6, 6]") && e.getMessage().contains("flatten"), e.getMessage());
    var e2 = assertThrows(ChiveException.class, () -> new SpikingNet(new Module[] {new Conv2d(3, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1, true)},
        new int[] {2, 8, 8}, SpikingNet.LossKind.MAX_CE, false, 1, Kernels.java(), 1));
    assertTrue(e2.getMessage().contains("layer 0 (conv2d)") && e2.getMessage().contains("[3, H, W]") && e2.getMessage().contains("[2, 8, 8]"), e2.getMessage());
    var e3 = assertThrows(ChiveException.class, () -> new SpikingNet(new Module[] {new Pool2d(Pool2d.Kind.MAX, 5, 5, 5, 5, 0, 0)},
        new int[] {1, 3, 3}, SpikingNet.LossKind.MAX_CE, false, 1, Kernels.java(), 1));
    assertTrue(e3.getMessage().contains("smaller than the window"), e3.getMessage());
    var e4 = assertThrows(ChiveException.class, () -> new Conv2d(3, 4, 3, 3, 1, 1, 0, 0, 1, 1, 2, true));
    assertTrue(e4.getMessage().contains("groups 2"), e4.getMessage());
    var e5 = assertThrows(ChiveException.class, () -> new SpikingNet(new Module[] {new Flatten(), new Affine(18, 2, true)},
        new int[] {2, 3, 3}, SpikingNet.LossKind.COUNT_CE, false, 1, Kernels.java(), 1));
    assertTrue(e5.getMessage().contains("spike-count loss needs a spiking output"), e5.getMessage());
    var e6 = assertThrows(ChiveException.class, () -> new SpikingNet(new Module[] {new Conv2d(1, 2, 3, 3, 1, 1, 0, 0, 1, 1, 1, true)},
        new int[] {1, 8, 8}, SpikingNet.LossKind.MAX_CE, false, 1, Kernels.java(), 1));
    assertTrue(e6.getMessage().contains("[2, 6, 6]") && e6.getMessage().contains("one value per class"), e6.getMessage());
    var e7 = assertThrows(ChiveException.class, () -> new Neuron(Neuron.Kind.IF, 1, false, 0, 1, Layer.Reset.SOFT, false, SG, Neuron.Per.NEURON, true, false, false));
    assertTrue(e7.getMessage().contains("cannot be trained"), e7.getMessage());
  }
}
