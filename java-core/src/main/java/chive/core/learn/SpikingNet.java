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
 * A chain of {@link Module}s (dense LIF {@link Layer}s, convolutions, pooling,
 * neurons, ...) trained by backpropagation through time with surrogate
 * gradients and hand-written backward kernels.
 *
 * <p>A batch is split into {@link #GROUPS} contiguous groups of samples,
 * shared by the threads; for each group the stages run one after the other
 * over all time steps of its samples (stages only feed forward, so this
 * equals the step-by-step order), then the backward pass in reverse, into the
 * group's own gradient buffers, which are summed in group order: the result
 * does not depend on the thread count. Products with a binary input (data spikes, or the
 * spikes of the stage below) use the addition-only event kernels (of
 * {@link SpikeRows}, or Conv2d's scatter) where the stage has one, else dense
 * GEMM through {@link Kernels} (pure Java or OpenBLAS). {@link Mode#DENSE}
 * forces dense kernels everywhere.
 *
 * <p>Losses: COUNT_CE, the softmax cross-entropy of the output layer's spike
 * counts summed over time; MAX_CE, the cross-entropy of the maximum over time
 * of the output membrane (SpyTorch). Reduction over the batch: SUM or MEAN,
 * times {@code lossScale}.
 */
public final class SpikingNet implements AutoCloseable {
  public enum Mode { AUTO, DENSE }
  public enum LossKind { COUNT_CE, MAX_CE }

  private final Module[] modules;
  private final int[] inputShape;
  private final LossKind loss;
  private final boolean mean;
  private final float lossScale;
  private volatile Kernels kernels;
  private volatile Mode mode = Mode.AUTO;
  /** Products done as event lists in forward passes: to test that AUTO takes that path. */
  private final java.util.concurrent.atomic.AtomicLong sparseProducts = new java.util.concurrent.atomic.AtomicLong();
  /** Training steps so far (Dropout's masks depend on it). */
  private final java.util.concurrent.atomic.AtomicLong calls = new java.util.concurrent.atomic.AtomicLong();
  private volatile boolean smoothForward;
  private final int threads;
  private final ExecutorService pool;
  private final float[][] params, grads;
  /** For each module, the index of its first array in params. */
  private final int[] paramStart;
  private final List<Workspace> work = new ArrayList<>();
  /**
   * A batch is split into this many groups of samples (fewer for smaller
   * batches) whatever the thread count; threads share the groups, and the
   * groups' gradients are summed in order, so 1, 2 or 16 threads give the
   * same bits.
   */
  public static final int GROUPS = 16;

  /** A stack of dense layers (the first takes layers[0].nIn inputs). */
  public SpikingNet(Layer[] layers, LossKind loss, boolean meanOverBatch, double lossScale, Kernels kernels, int threads) {
    this(checkedLayers(layers), new int[] {layers[0].nIn}, loss, meanOverBatch, lossScale, kernels, threads);
  }

  private static Module[] checkedLayers(Layer[] layers) {
    if (layers.length == 0) throw new ChiveException("a network needs at least one layer");
    for (int l = 1; l < layers.length; l++) {
      if (layers[l].nIn != layers[l - 1].n) {
        throw new ChiveException("layer " + l + " takes " + layers[l].nIn + " inputs but layer " + (l - 1) + " has " + layers[l - 1].n + " neurons");
      }
      if (!layers[l - 1].spiking) throw new ChiveException("layer " + (l - 1) + " is a non-spiking readout; only the last layer may be one");
    }
    return layers;
  }

  /**
   * Any chain of stages; inputShape is one sample's step ([n], or [C, H, W]
   * for an image or event frame). Shapes are checked here: an error names
   * the stage ("layer 3 (conv2d)"), the shape it got and what it takes.
   */
  public SpikingNet(Module[] modules, int[] inputShape, LossKind loss, boolean meanOverBatch, double lossScale, Kernels kernels, int threads) {
    if (modules.length == 0) throw new ChiveException("a network needs at least one layer");
    int[] shape = inputShape.clone();
    java.util.Set<Module> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (int l = 0; l < modules.length; l++) {
      if (!seen.add(modules[l])) throw new ChiveException("layer " + l + " (" + modules[l].kind() + ") appears twice in the network; make a new one");
      shape = modules[l].bind(shape, "layer " + l);
    }
    Module out = modules[modules.length - 1];
    if (loss == LossKind.COUNT_CE && !out.spiking()) throw new ChiveException("the spike-count loss needs a spiking output layer, got " + out.kind());
    if (shape.length != 1) {
      throw new ChiveException("the last layer (" + out.kind() + ") gives shape " + java.util.Arrays.toString(shape) + "; the loss needs one value per class (shape [classes]): add flatten and a dense layer");
    }
    if (threads < 1) throw new ChiveException("threads must be >= 1, got " + threads);
    if (!(lossScale > 0) || Double.isInfinite(lossScale)) throw new ChiveException("loss scale must be finite and > 0, got " + lossScale);
    this.modules = modules.clone();
    this.inputShape = inputShape.clone();
    this.loss = loss;
    this.mean = meanOverBatch;
    this.lossScale = (float) lossScale;
    this.kernels = kernels;
    this.threads = threads;
    List<float[]> ps = new ArrayList<>();
    paramStart = new int[modules.length + 1];
    for (int l = 0; l < modules.length; l++) {
      paramStart[l] = ps.size();
      for (float[] p : modules[l].params()) ps.add(p);
    }
    paramStart[modules.length] = ps.size();
    params = ps.toArray(new float[0][]);
    grads = new float[params.length][];
    for (int i = 0; i < params.length; i++) grads[i] = new float[params[i].length];
    pool = threads > 1 ? Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "chive-learn");
      t.setDaemon(true);
      return t;
    }) : null;
  }

  /** The stages, in order. */
  public Module[] modules() { return modules.clone(); }
  /** One sample's step, as the first stage takes it. */
  public int[] inputShape() { return inputShape.clone(); }
  /** Number of input units per step (the product of {@link #inputShape()}). */
  public int inputSize() { return Module.size(inputShape); }
  /** The index in {@link #params()} of stage l's first array (l = stage count: the total). */
  public int paramStart(int l) { return paramStart[l]; }

  /** The stages as dense layers, for networks made of {@link Layer}s only; otherwise an error that points to {@link #modules()}. */
  public Layer[] layers() {
    Layer[] out = new Layer[modules.length];
    for (int l = 0; l < modules.length; l++) {
      if (!(modules[l] instanceof Layer)) throw new ChiveException("layer " + l + " is a " + modules[l].kind() + ", not a dense layer: read the network with modules()");
      out[l] = (Layer) modules[l];
    }
    return out;
  }
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

  /** Every stage's {@link Module#buffers()} in stage order (live arrays): what a checkpoint saves besides the parameters. */
  public float[][] buffers() {
    List<float[]> b = new ArrayList<>();
    for (Module m : modules) for (float[] a : m.buffers()) b.add(a);
    return b.toArray(new float[0][]);
  }
  /** Training steps taken (Dropout's masks depend on it); restored with a checkpoint so a resumed run draws the masks an uninterrupted one would. */
  public long trainingSteps() { return calls.get(); }
  public void setTrainingSteps(long n) {
    if (n < 0) throw new ChiveException("training steps must be >= 0, got " + n);
    calls.set(n);
  }

  @Override public void close() { if (pool != null) pool.shutdownNow(); }

  /** Loss, correct predictions and per-sample predictions of one batch. */
  public static final class Stats {
    public final double loss;
    public final int correct;
    public final int[] predictions;
    /** Mean spikes per neuron and sample in each spiking stage (0 for the others). */
    public final double[] spikesPerNeuron;
    Stats(double loss, int correct, int[] predictions, double[] spikes) {
      this.loss = loss; this.correct = correct; this.predictions = predictions; this.spikesPerNeuron = spikes;
    }
  }

  /** Forward and backward: fills {@link #grads()} with the gradient of the batch loss. */
  public Stats step(Input x, int[] labels) { return run(x, labels, true, null, false); }

  /** Forward only. labels may be null (loss and correct are then 0). */
  public Stats evaluate(Input x, int[] labels) { return run(x, labels, false, null, false); }

  /** Forward only, returning every stage's output for the whole batch (spikes, U for a readout, values otherwise), rows b·steps + t. */
  public float[][] record(Input x) { return record(x, false); }

  /**
   * Forward only, returning every stage's membrane potential U_t (the value
   * each step's threshold test reads; a spike's reset applies from the next
   * step) for the whole batch, rows b·steps + t, or its output for stages
   * without one: what LSUV initialisation measures.
   */
  public float[][] recordMembrane(Input x) { return record(x, true); }

  private float[][] record(Input x, boolean membrane) {
    float[][] out = new float[modules.length][];
    for (int l = 0; l < modules.length; l++) out[l] = new float[x.batch * x.steps * modules[l].outSize()];
    run(x, null, false, out, membrane);
    return out;
  }

  private Stats run(Input x, int[] labels, boolean backward, float[][] record, boolean membrane) {
    if (x.n != inputSize()) {
      throw new ChiveException("input has " + x.n + " units, the first layer takes " + inputSize()
          + (inputShape.length > 1 ? " (shape " + java.util.Arrays.toString(inputShape) + ")" : ""));
    }
    if (labels != null) {
      if (labels.length != x.batch) throw new ChiveException(labels.length + " labels for a batch of " + x.batch);
      int classes = modules[modules.length - 1].outSize();
      for (int i = 0; i < labels.length; i++) {
        if (labels[i] < 0 || labels[i] >= classes) throw new ChiveException("label " + labels[i] + " of sample " + i + " is outside 0.." + (classes - 1));
      }
    }
    if (backward && labels == null) throw new ChiveException("a training step needs labels");
    // The batch is cut into the same groups whatever the thread count, each
    // group into its own buffers, summed in group order: the result does not
    // depend on the threads (up to GROUPS of them).
    int chunks = Math.min(GROUPS, x.batch);
    while (work.size() < chunks) work.add(new Workspace());
    int[] pred = new int[x.batch];
    double[] lossPart = new double[chunks];
    int[] correctPart = new int[chunks];
    double[][] spikes = new double[chunks][modules.length];
    long call = backward ? calls.getAndIncrement() : -1;
    Kernels k = kernels;
    boolean dense = mode == Mode.DENSE, smooth = smoothForward;
    int workers = Math.min(threads, chunks);
    List<Runnable> tasks = new ArrayList<>();
    for (int t = 0; t < workers; t++) {
      final int first = t;
      tasks.add(() -> {
        for (int ci = first; ci < chunks; ci += workers) {
          int s0 = (int) ((long) x.batch * ci / chunks), s1 = (int) ((long) x.batch * (ci + 1) / chunks);
          Module.Env env = new Module.Env(k, dense, smooth, backward, call, s0, x.steps, sparseProducts);
          Workspace w = work.get(ci);
          w.forward(x, s0, s1, env, record, membrane);
          double[] lc = w.lossAndGrad(x, labels, s0, s1, pred, backward);
          lossPart[ci] = lc[0];
          correctPart[ci] = (int) lc[1];
          for (int l = 0; l < modules.length; l++) spikes[ci][l] = w.spikeCount[l];
          if (backward) w.backward(s1 - s0, env);
        }
      });
    }
    runAll(tasks);
    double lossSum = 0;
    int correct = 0;
    double[] sp = new double[modules.length];
    for (int c = 0; c < chunks; c++) {
      lossSum += lossPart[c];
      correct += correctPart[c];
      for (int l = 0; l < modules.length; l++) sp[l] += spikes[c][l];
    }
    for (int l = 0; l < modules.length; l++) sp[l] = modules[l].spiking() ? sp[l] / ((double) x.batch * modules[l].outSize()) : 0;
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
      for (int l = 0; l < modules.length; l++) {
        Module.Ctx[] groups = new Module.Ctx[chunks];
        for (int c = 0; c < chunks; c++) groups[c] = work.get(c).ctx[l];
        modules[l].afterTrainingBatch(groups);
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

  /** Per-thread state for a group of samples: each stage's buffers, its input and output, and the gradient buffers. */
  private final class Workspace {
    final Module.Ctx[] ctx = new Module.Ctx[modules.length];
    final Activation[] in = new Activation[modules.length];
    Activation out;
    /** dL/d(output of stage l), rows × outSize. */
    final float[][] g = new float[modules.length][];
    final float[][] grad = new float[params.length][];
    final double[] spikeCount = new double[modules.length];

    Workspace() {
      for (int l = 0; l < modules.length; l++) ctx[l] = modules[l].newContext();
      for (int p = 0; p < params.length; p++) grad[p] = new float[params[p].length];
    }

    void forward(Input x, int s0, int s1, Module.Env env, float[][] record, boolean membrane) {
      int T = x.steps, rows = (s1 - s0) * T;
      Activation a = x.binary()
          ? Activation.events(rows, x.n, null, x.spikes, s0 * T, 1f)
          : Activation.dense(rows, x.n, x.denseRows(s0 * T, s1 * T));
      for (int l = 0; l < modules.length; l++) {
        in[l] = a;
        a = modules[l].forward(ctx[l], a, s1 - s0, env);
        spikeCount[l] = modules[l].spiking() ? (a.binary() ? a.eventCount() : sum(a.values(), rows * modules[l].outSize())) : 0;
        if (record != null) {
          float[] m = membrane ? modules[l].membrane(ctx[l]) : null;
          float[] src = m != null ? m : a.values();
          System.arraycopy(src, 0, record[l], s0 * T * modules[l].outSize(), rows * modules[l].outSize());
        }
      }
      out = a;
    }

    /** The sum of the first n values (stages' buffers may be longer than this group's rows). */
    private double sum(float[] v, int n) { double s = 0; for (int i = 0; i < n; i++) s += v[i]; return s; }

    /** Loss of samples [s0, s1), predictions, and dL/d(output) into g of the last stage. Returns {loss sum, correct}. */
    double[] lossAndGrad(Input x, int[] labels, int s0, int s1, int[] pred, boolean backward) {
      int last = modules.length - 1, n = modules[last].outSize(), T = x.steps;
      float[] o = out.values();
      float[] gl = null;
      if (backward) {
        gl = g[last] = Module.grow(g[last], (s1 - s0) * T * n);
        java.util.Arrays.fill(gl, 0, (s1 - s0) * T * n, 0f);
      }
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
            for (int t = 0; t < T; t++) c += o[base + t * n + j];
            logit[j] = c;
          } else {
            double m = Double.NEGATIVE_INFINITY;
            int at = 0;
            for (int t = 0; t < T; t++) {
              float val = o[base + t * n + j];
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
            if (loss == LossKind.COUNT_CE) for (int t = 0; t < T; t++) gl[base + t * n + j] = (float) d;
            else gl[base + argT[j] * n + j] = (float) d;
          }
        }
      }
      return new double[] {lossSum, correct};
    }

    void backward(int samples, Module.Env env) {
      int rows = samples * env.steps;
      for (float[] a : grad) java.util.Arrays.fill(a, 0f);
      for (int l = modules.length - 1; l >= 0; l--) {
        Module m = modules[l];
        float[] gIn = null;
        if (l > 0) gIn = g[l - 1] = Module.grow(g[l - 1], rows * m.inSize());
        int p0 = paramStart[l], np = paramStart[l + 1] - p0;
        float[][] mg = new float[np][];
        for (int q = 0; q < np; q++) mg[q] = grad[p0 + q];
        m.backward(ctx[l], in[l], g[l], gIn, mg, samples, env);
      }
    }
  }
}
