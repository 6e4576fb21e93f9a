package chive.core.learn;

import chive.core.kernel.Kernels;
import chive.core.kernel.SpikeRows;
import chive.core.sim.ChiveException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A stack of {@link Layer}s trained by backpropagation through time with
 * surrogate gradients and hand-written backward kernels.
 *
 * <p>A batch is split into contiguous groups of samples, one per thread; each
 * thread runs the layers one after the other over all time steps of its
 * samples (layers only feed forward, so this equals the step-by-step order),
 * then the backward pass in reverse, into its own gradient buffers, which are
 * summed in thread order. Input products use, per layer: the addition-only
 * kernel of {@link SpikeRows} when the input is binary (data spikes, or the
 * spikes of the layer below), else dense GEMM through {@link Kernels}
 * (pure Java or OpenBLAS). {@link Mode#DENSE} forces GEMM everywhere.
 *
 * <p>Losses: COUNT_CE, the softmax cross-entropy of the output layer's spike
 * counts summed over time; MAX_CE, the cross-entropy of the maximum over time
 * of the output membrane (SpyTorch). Reduction over the batch: SUM or MEAN,
 * times {@code lossScale}.
 */
public final class SpikingNet implements AutoCloseable {
  public enum Mode { AUTO, DENSE }
  public enum LossKind { COUNT_CE, MAX_CE }

  private final Layer[] layers;
  private final LossKind loss;
  private final boolean mean;
  private final float lossScale;
  private volatile Kernels kernels;
  private volatile Mode mode = Mode.AUTO;
  /** Products done as event lists (SpikeRows.addRowsOf) in forward passes: to test that AUTO takes that path. */
  private final java.util.concurrent.atomic.AtomicLong sparseProducts = new java.util.concurrent.atomic.AtomicLong();
  private volatile boolean smoothForward;
  private final int threads;
  private final ExecutorService pool;
  private final float[][] params, grads;
  private final List<Workspace> work = new ArrayList<>();

  public SpikingNet(Layer[] layers, LossKind loss, boolean meanOverBatch, double lossScale, Kernels kernels, int threads) {
    if (layers.length == 0) throw new ChiveException("a network needs at least one layer");
    for (int l = 1; l < layers.length; l++) {
      if (layers[l].nIn != layers[l - 1].n) {
        throw new ChiveException("layer " + l + " takes " + layers[l].nIn + " inputs but layer " + (l - 1) + " has " + layers[l - 1].n + " neurons");
      }
      if (!layers[l - 1].spiking) throw new ChiveException("layer " + (l - 1) + " is a non-spiking readout; only the last layer may be one");
    }
    Layer out = layers[layers.length - 1];
    if (loss == LossKind.COUNT_CE && !out.spiking) throw new ChiveException("the spike-count loss needs a spiking output layer");
    if (threads < 1) throw new ChiveException("threads must be >= 1, got " + threads);
    if (!(lossScale > 0) || Double.isInfinite(lossScale)) throw new ChiveException("loss scale must be finite and > 0, got " + lossScale);
    this.layers = layers.clone();
    this.loss = loss;
    this.mean = meanOverBatch;
    this.lossScale = (float) lossScale;
    this.kernels = kernels;
    this.threads = threads;
    List<float[]> ps = new ArrayList<>();
    for (Layer l : layers) for (float[] p : l.params()) ps.add(p);
    params = ps.toArray(new float[0][]);
    grads = new float[params.length][];
    for (int i = 0; i < params.length; i++) grads[i] = new float[params[i].length];
    pool = threads > 1 ? Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "chive-learn");
      t.setDaemon(true);
      return t;
    }) : null;
  }

  public Layer[] layers() { return layers.clone(); }
  public float[][] params() { return params; }
  /** The gradients of the last {@link #step}, aligned with {@link #params()}. */
  public float[][] grads() { return grads; }
  public int threads() { return threads; }
  public Kernels kernels() { return kernels; }
  public void setKernels(Kernels k) { kernels = k; }
  public void setMode(Mode m) { mode = m; }
  public Mode mode() { return mode; }
  /** Forward-pass products done by addition over input events so far (0 in DENSE mode). */
  public long sparseProducts() { return sparseProducts.get(); }
  /** Replace H by the surrogate's smooth function in the forward pass (for gradient checks). */
  public void setSmoothForward(boolean on) { smoothForward = on; }
  public LossKind lossKind() { return loss; }

  @Override public void close() { if (pool != null) pool.shutdownNow(); }

  /** Loss, correct predictions and per-sample predictions of one batch. */
  public static final class Stats {
    public final double loss;
    public final int correct;
    public final int[] predictions;
    /** Mean spikes per neuron and sample in each spiking layer (0 for a readout). */
    public final double[] spikesPerNeuron;
    Stats(double loss, int correct, int[] predictions, double[] spikes) {
      this.loss = loss; this.correct = correct; this.predictions = predictions; this.spikesPerNeuron = spikes;
    }
  }

  /** Forward and backward: fills {@link #grads()} with the gradient of the batch loss. */
  public Stats step(Input x, int[] labels) { return run(x, labels, true, null); }

  /** Forward only. labels may be null (loss and correct are then 0). */
  public Stats evaluate(Input x, int[] labels) { return run(x, labels, false, null); }

  /** Forward only, returning every layer's output for the whole batch (spikes, or U for a readout), rows b·steps + t. */
  public float[][] record(Input x) { return record(x, false); }

  /**
   * Forward only, returning every layer's membrane potential U_t (the value
   * each step's threshold test reads; a spike's reset applies from the next
   * step) for the whole batch, rows b·steps + t: what LSUV initialisation
   * measures.
   */
  public float[][] recordMembrane(Input x) { return record(x, true); }

  private float[][] record(Input x, boolean membrane) {
    float[][] out = new float[layers.length][];
    for (int l = 0; l < layers.length; l++) out[l] = new float[x.batch * x.steps * layers[l].n];
    run(x, null, false, out, membrane);
    return out;
  }

  private Stats run(Input x, int[] labels, boolean backward, float[][] record) {
    return run(x, labels, backward, record, false);
  }

  private Stats run(Input x, int[] labels, boolean backward, float[][] record, boolean membrane) {
    if (x.n != layers[0].nIn) throw new ChiveException("input has " + x.n + " units, the first layer takes " + layers[0].nIn);
    if (labels != null) {
      if (labels.length != x.batch) throw new ChiveException(labels.length + " labels for a batch of " + x.batch);
      int classes = layers[layers.length - 1].n;
      for (int i = 0; i < labels.length; i++) {
        if (labels[i] < 0 || labels[i] >= classes) throw new ChiveException("label " + labels[i] + " of sample " + i + " is outside 0.." + (classes - 1));
      }
    }
    if (backward && labels == null) throw new ChiveException("a training step needs labels");
    int chunks = Math.min(threads, x.batch);
    while (work.size() < chunks) work.add(new Workspace());
    int[] pred = new int[x.batch];
    double[] lossPart = new double[chunks];
    int[] correctPart = new int[chunks];
    double[][] spikes = new double[chunks][layers.length];
    List<Runnable> tasks = new ArrayList<>();
    for (int c = 0; c < chunks; c++) {
      final int ci = c, s0 = (int) ((long) x.batch * c / chunks), s1 = (int) ((long) x.batch * (c + 1) / chunks);
      tasks.add(() -> {
        Workspace w = work.get(ci);
        w.forward(x, s0, s1, record, membrane);
        double[] lc = w.lossAndGrad(x, labels, s0, s1, pred, backward);
        lossPart[ci] = lc[0];
        correctPart[ci] = (int) lc[1];
        for (int l = 0; l < layers.length; l++) spikes[ci][l] = w.spikeCount[l];
        if (backward) w.backward(x, s0, s1);
      });
    }
    runAll(tasks);
    double lossSum = 0;
    int correct = 0;
    double[] sp = new double[layers.length];
    for (int c = 0; c < chunks; c++) {
      lossSum += lossPart[c];
      correct += correctPart[c];
      for (int l = 0; l < layers.length; l++) sp[l] += spikes[c][l];
    }
    for (int l = 0; l < layers.length; l++) sp[l] = layers[l].spiking ? sp[l] / ((double) x.batch * layers[l].n) : 0;
    if (backward) {
      for (int p = 0; p < grads.length; p++) {
        float[] g = grads[p];
        System.arraycopy(work.get(0).grad[p], 0, g, 0, g.length);
        for (int c = 1; c < chunks; c++) {
          float[] gc = work.get(c).grad[p];
          for (int i = 0; i < g.length; i++) g[i] += gc[i];
        }
        for (int i = 0; i < g.length; i++) {
          if (!Float.isFinite(g[i])) throw new ChiveException("gradient of parameter array " + p + " is " + g[i] + " at index " + i + " (loss " + lossSum + "): learning rate or weights too large?");
        }
      }
    }
    double reduced = (mean ? lossSum / x.batch : lossSum) * lossScale;
    if (Double.isNaN(reduced)) throw new ChiveException("loss is NaN");
    return new Stats(labels == null ? 0 : reduced, correct, pred, sp);
  }

  private void runAll(List<Runnable> tasks) {
    if (pool == null || tasks.size() == 1) {
      for (Runnable r : tasks) r.run();
      return;
    }
    List<Future<?>> fs = new ArrayList<>();
    for (Runnable r : tasks) fs.add(pool.submit(r));
    // Every task finishes before this returns, even when the caller is
    // interrupted meanwhile (the flag is set again for the caller to see, as
    // with one thread): no thread may still write the workspaces afterwards.
    boolean interrupted = false;
    Throwable failed = null;
    for (Future<?> f : fs) {
      while (true) {
        try {
          f.get();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (java.util.concurrent.ExecutionException e) {
          if (failed == null) failed = e.getCause();
          break;
        }
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
    if (failed instanceof RuntimeException) throw (RuntimeException) failed;
    if (failed instanceof Error) throw (Error) failed;
    if (failed != null) throw new ChiveException("learning thread failed: " + failed, failed);
  }

  /** Per-thread state for a group of samples: rows (b - s0)·steps + t. */
  private final class Workspace {
    int rows, steps;
    float[][] u, i, ir, s, lamI, lamIr, gOut;
    SpikeRows[] events;
    /** Per layer: the row pointers and indices of its output spikes, filled while integrating. */
    int[][] evPtr, evIdx;
    /** The dense input rows of this thread's samples (dense input only), kept for the backward pass. */
    float[] denseInput;
    final float[][] grad = new float[params.length][];
    final double[] spikeCount = new double[layers.length];

    Workspace() {
      for (int p = 0; p < params.length; p++) grad[p] = new float[params[p].length];
    }

    void ensure(int rows, int steps) {
      this.steps = steps;
      if (u != null && this.rows == rows) return;
      this.rows = rows;
      int L = layers.length;
      u = new float[L][]; i = new float[L][]; ir = new float[L][]; s = new float[L][];
      lamI = new float[L][]; lamIr = new float[L][]; gOut = new float[L][];
      events = new SpikeRows[L];
      evPtr = new int[L][rows + 1];
      evIdx = new int[L][];
      for (int l = 0; l < L; l++) {
        int n = layers[l].n;
        u[l] = new float[rows * n];
        i[l] = new float[rows * n];
        ir[l] = layers[l].recurrent ? new float[rows * n] : null;
        s[l] = layers[l].spiking ? new float[rows * n] : null;
        lamI[l] = new float[rows * n];
        lamIr[l] = layers[l].recurrent ? new float[rows * n] : null;
        gOut[l] = new float[rows * n];
      }
    }

    void forward(Input x, int s0, int s1, float[][] record, boolean membrane) {
      int T = x.steps, rows = (s1 - s0) * T;
      ensure(rows, T);
      boolean dense = mode == Mode.DENSE;
      for (int l = 0; l < layers.length; l++) {
        Layer L = layers[l];
        int n = L.n;
        float[] I = i[l];
        // Input currents in_gain·(x w) for all rows, into I.
        if (l == 0) {
          if (x.binary() && !dense) {
            java.util.Arrays.fill(I, 0f);
            x.spikes.addRowsOf(L.w, n, L.inGain, I, s0 * T, s1 * T, s0 * T);
            sparseProducts.incrementAndGet();
          } else {
            denseInput = x.denseRows(s0 * T, s1 * T);
            kernels.sgemm(false, false, rows, n, L.nIn, L.inGain, denseInput, L.nIn, L.w, n, 0f, I, n);
          }
        } else if (events[l - 1] != null && !dense) {
          java.util.Arrays.fill(I, 0f);
          events[l - 1].addRowsOf(L.w, n, L.inGain, I, 0, rows, 0);
          sparseProducts.incrementAndGet();
        } else {
          kernels.sgemm(false, false, rows, n, L.nIn, L.inGain, s[l - 1], L.nIn, L.w, n, 0f, I, n);
        }
        int nnz = integrate(l, s1 - s0, T);
        // Binary output spikes feed the next layer through the addition-only kernel.
        events[l] = nnz >= 0 ? new SpikeRows(rows, n, evPtr[l], evIdx[l]) : null;
        spikeCount[l] = Math.max(nnz, 0);
        if (record != null) {
          float[] src = L.spiking && !membrane ? s[l] : u[l];
          System.arraycopy(src, 0, record[l], s0 * T * n, rows * n);
        }
      }
    }

    /**
     * The time loop of layer l; I holds in_gain·(x_t w) per row on entry.
     * Binary output spikes (a spiking layer, not in smooth mode) are also
     * listed in evPtr/evIdx[l] as they occur; returns their number, or -1
     * when there is no such list.
     */
    int integrate(int l, int samples, int T) {
      Layer L = layers[l];
      final int n = L.n;
      final float[] U = u[l], I = i[l], Ir = ir[l], S = s[l], V = L.v;
      final float mem = L.mem, syn = L.syn, rec = L.rec, mg = L.memGain, th = L.threshold, rg = L.recGain;
      final boolean smooth = smoothForward;
      final Surrogate sg = L.surrogate;
      final boolean listSpikes = S != null && !smooth;
      final int[] ptr = evPtr[l];
      int[] idx = evIdx[l];
      if (listSpikes && idx == null) idx = new int[Math.max(16, samples * T * n / 16)];
      int e = 0;
      for (int b = 0; b < samples; b++) {
        int base = b * T * n;
        for (int t = 0; t < T; t++) {
          int o = base + t * n, p = o - n;
          if (t == 0) {
            // Zero initial state: U_0 = 0, I_0 = input, Ir_0 = 0.
            for (int j = 0; j < n; j++) U[o + j] = 0f;
            if (Ir != null) for (int j = 0; j < n; j++) Ir[o + j] = 0f;
          } else {
            for (int j = 0; j < n; j++) I[o + j] += syn * I[p + j];
            if (Ir != null) {
              for (int j = 0; j < n; j++) Ir[o + j] = rec * Ir[p + j];
              for (int k = 0; k < n; k++) {
                float sk = S[p + k];
                if (sk == 0f) continue;
                float a = rg * sk;
                int vo = k * n;
                for (int j = 0; j < n; j++) Ir[o + j] += a * V[vo + j];
              }
            }
            if (!L.spiking) {
              for (int j = 0; j < n; j++) U[o + j] = mem * U[p + j] + mg * I[p + j];
            } else {
              for (int j = 0; j < n; j++) {
                float in = mg * (I[p + j] + (Ir != null ? Ir[p + j] : 0f));
                float sp = S[p + j], up = U[p + j];
                float un;
                switch (L.reset) {
                  case HARD_LEAK: un = mem * up * (1f - sp) + in; break;
                  case HARD: un = (mem * up + in) * (1f - sp); break;
                  default: un = mem * up - th * sp + in;
                }
                U[o + j] = un;
              }
            }
          }
          if (S != null) {
            if (smooth) for (int j = 0; j < n; j++) S[o + j] = (float) sg.smooth(U[o + j] - th);
            else {
              if (e + n > idx.length) idx = java.util.Arrays.copyOf(idx, Math.max(2 * idx.length, e + n));
              for (int j = 0; j < n; j++) {
                boolean fire = U[o + j] > th;
                S[o + j] = fire ? 1f : 0f;
                if (fire) idx[e++] = j;
              }
              ptr[(o / n) + 1] = e;
            }
          }
        }
      }
      if (!listSpikes) return -1;
      evIdx[l] = idx;
      return e;
    }

    /** Loss of samples [s0, s1), predictions, and dL/d(output) into gOut of the last layer. Returns {loss sum, correct}. */
    double[] lossAndGrad(Input x, int[] labels, int s0, int s1, int[] pred, boolean backward) {
      int last = layers.length - 1, n = layers[last].n, T = x.steps;
      float[] out = loss == LossKind.COUNT_CE ? s[last] : u[last];
      float[] g = gOut[last];
      if (backward) java.util.Arrays.fill(g, 0f);
      double lossSum = 0;
      int correct = 0;
      double[] logit = new double[n];
      int[] argT = new int[n];
      double scale = lossScale / (mean ? (double) x.batch : 1.0);
      for (int b = 0; b < s1 - s0; b++) {
        int base = b * T * n;
        for (int j = 0; j < n; j++) {
          if (loss == LossKind.COUNT_CE) {
            double c = 0;
            for (int t = 0; t < T; t++) c += out[base + t * n + j];
            logit[j] = c;
          } else {
            double m = Double.NEGATIVE_INFINITY;
            int at = 0;
            for (int t = 0; t < T; t++) {
              float val = out[base + t * n + j];
              if (val > m) { m = val; at = t; }
            }
            logit[j] = m;
            argT[j] = at;
          }
        }
        int best = 0;
        for (int j = 1; j < n; j++) if (logit[j] > logit[best]) best = j;
        pred[s0 + b] = best;
        if (labels == null) continue;
        int y = labels[s0 + b];
        if (best == y) correct++;
        double mx = logit[best], z = 0;
        for (int j = 0; j < n; j++) z += Math.exp(logit[j] - mx);
        double lse = mx + Math.log(z);
        lossSum += lse - logit[y];
        if (backward) {
          for (int j = 0; j < n; j++) {
            double d = (Math.exp(logit[j] - lse) - (j == y ? 1 : 0)) * scale;
            if (loss == LossKind.COUNT_CE) for (int t = 0; t < T; t++) g[base + t * n + j] = (float) d;
            else g[base + argT[j] * n + j] = (float) d;
          }
        }
      }
      return new double[] {lossSum, correct};
    }

    void backward(Input x, int s0, int s1) {
      int T = x.steps, rows = (s1 - s0) * T;
      boolean dense = mode == Mode.DENSE;
      for (float[] g : grad) java.util.Arrays.fill(g, 0f);
      int p = params.length;
      for (int l = layers.length - 1; l >= 0; l--) {
        Layer L = layers[l];
        int n = L.n;
        p -= L.recurrent ? 2 : 1;
        float[] dW = grad[p], dV = L.recurrent ? grad[p + 1] : null;
        adjoint(l, s1 - s0, T, dV);
        float[] lam = lamI[l];
        // dW = in_gain · x^T λ_I
        if (l == 0) {
          if (x.binary() && !dense) x.spikes.scatterInto(lam, n, L.inGain, dW, s0 * T, s1 * T, s0 * T);
          else kernels.sgemm(true, false, L.nIn, n, rows, L.inGain, denseInput, L.nIn, lam, n, 1f, dW, n);
        } else {
          if (events[l - 1] != null && !dense) events[l - 1].scatterInto(lam, n, L.inGain, dW, 0, rows, 0);
          else kernels.sgemm(true, false, L.nIn, n, rows, L.inGain, s[l - 1], L.nIn, lam, n, 1f, dW, n);
          // dL/d(output of layer l-1) = in_gain · λ_I w^T
          kernels.sgemm(false, true, rows, L.nIn, n, L.inGain, lam, n, L.w, n, 0f, gOut[l - 1], L.nIn);
        }
      }
    }

    /** Reverse-time adjoints of layer l from gOut[l]; fills lamI (and lamIr, dV). */
    void adjoint(int l, int samples, int T, float[] dV) {
      Layer L = layers[l];
      final int n = L.n;
      final float[] U = u[l], I = i[l], Ir = ir[l], S = s[l], V = L.v, G = gOut[l], LI = lamI[l], LR = lamIr[l];
      final float mem = L.mem, syn = L.syn, rec = L.rec, mg = L.memGain, th = L.threshold, rg = L.recGain;
      final boolean detach = L.detachReset;
      final Surrogate sg = L.surrogate;
      float[] lu = new float[n], li = new float[n], lr = new float[n], recBack = new float[n];
      float[] luN = new float[n], liN = new float[n], lrN = new float[n];
      for (int b = 0; b < samples; b++) {
        int base = b * T * n;
        java.util.Arrays.fill(luN, 0f); java.util.Arrays.fill(liN, 0f); java.util.Arrays.fill(lrN, 0f);
        for (int t = T - 1; t >= 0; t--) {
          int o = base + t * n;
          if (Ir != null) {
            // dL/dS_t through Ir_{t+1} = rec·Ir_t + rec_gain·S_t v: rec_gain · v λ_Ir(t+1)
            for (int k = 0; k < n; k++) {
              float acc = 0f;
              int vo = k * n;
              for (int j = 0; j < n; j++) acc += V[vo + j] * lrN[j];
              recBack[k] = rg * acc;
            }
          }
          for (int j = 0; j < n; j++) {
            float lun = luN[j];
            if (!L.spiking) {
              lu[j] = G[o + j] + mem * lun;
              li[j] = syn * liN[j] + mg * lun;
              continue;
            }
            float st = S[o + j], ut = U[o + j];
            float dUdU, dUdS, dUdIn;
            switch (L.reset) {
              case HARD_LEAK: dUdU = mem * (1f - st); dUdS = -mem * ut; dUdIn = mg; break;
              case HARD: {
                float pre = mem * ut + mg * (I[o + j] + (Ir != null ? Ir[o + j] : 0f));
                dUdU = mem * (1f - st); dUdS = -pre; dUdIn = mg * (1f - st); break;
              }
              default: dUdU = mem; dUdS = -th; dUdIn = mg;
            }
            float ls = G[o + j] + (Ir != null ? recBack[j] : 0f) + (detach ? 0f : dUdS * lun);
            lu[j] = ls * (float) sg.grad(ut - th) + dUdU * lun;
            li[j] = syn * liN[j] + dUdIn * lun;
            if (Ir != null) lr[j] = rec * lrN[j] + dUdIn * lun;
          }
          System.arraycopy(li, 0, LI, o, n);
          if (Ir != null) {
            System.arraycopy(lr, 0, LR, o, n);
            // dV += rec_gain · S_{t-1}^T λ_Ir(t)
            if (t > 0) {
              int po = o - n;
              for (int k = 0; k < n; k++) {
                float sk = S[po + k];
                if (sk == 0f) continue;
                float a = rg * sk;
                int vo = k * n;
                for (int j = 0; j < n; j++) dV[vo + j] += a * lr[j];
              }
            }
          }
          float[] tmp;
          tmp = luN; luN = lu; lu = tmp;
          tmp = liN; liN = li; li = tmp;
          tmp = lrN; lrN = lr; lr = tmp;
        }
      }
    }
  }
}
