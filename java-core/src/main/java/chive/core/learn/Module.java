package chive.core.learn;

import chive.core.kernel.Kernels;
import chive.core.sim.ChiveException;
import java.util.Arrays;

/**
 * One stage of a {@link SpikingNet}, with a forward pass over a group of
 * samples and all their time steps at once, and a hand-written backward pass
 * (backpropagation through time). Stages without state over time (Conv2d,
 * pooling, Flatten, Affine, Dropout) treat each row (sample, step) on its own;
 * stages with state (neurons, Delay) run through the steps of each sample.
 * Any order is allowed where the shapes fit: {@link #bind} checks the shape
 * a stage receives when the network is built and gives the shape it emits.
 *
 * <p>Data layout: a row holds one sample's step; within it a feature map of
 * shape [C, H, W] is stored channel-major (index c·H·W + y·W + x), a vector
 * [n] as it is. Per-thread buffers live in a {@link Ctx} that the network
 * makes once per worker thread and reuses across batches.
 */
public abstract class Module {
  private int[] inShape, outShape;
  private String label;

  /** The settings every stage of one forward/backward call sees. */
  public static final class Env {
    public final Kernels kernels;
    /** Dense kernels everywhere (SpikingNet.Mode.DENSE), for tests and comparisons. */
    public final boolean dense;
    /** The surrogate's smooth function instead of H in the forward pass (gradient checks). */
    public final boolean smooth;
    /** A training step (Dropout masks apply), not evaluation. */
    public final boolean training;
    /** The batch's number among this network's training steps (Dropout's masks depend on it and the sample). */
    public final long call;
    /** The first sample of this thread's group within the batch, and the steps per sample. */
    public final int sample0, steps;
    final java.util.concurrent.atomic.AtomicLong sparse;

    Env(Kernels kernels, boolean dense, boolean smooth, boolean training, long call, int sample0, int steps,
        java.util.concurrent.atomic.AtomicLong sparse) {
      this.kernels = kernels; this.dense = dense; this.smooth = smooth; this.training = training; this.call = call;
      this.sample0 = sample0; this.steps = steps; this.sparse = sparse;
    }

    /** Counts a product done over events (tests check that the automatic choice takes the sparse path). */
    public void countSparse() { if (sparse != null) sparse.incrementAndGet(); }
  }

  /** Per-thread buffers of a stage. */
  public abstract static class Ctx {}

  /** "conv2d", "lif", ...: the stage's kind, used in messages and by the Clojure API. */
  public abstract String kind();

  /** The output shape for input shape {@code in}, or an error naming the stage, the shape given and the shape expected. */
  protected abstract int[] shapeFor(int[] in);

  /** Fixes the input shape (once; a stage belongs to one network) and returns the output shape. */
  public final int[] bind(int[] in, String label) {
    if (in == null || in.length == 0) throw new ChiveException(label + " (" + kind() + "): no input shape");
    for (int d : in) if (d <= 0) throw new ChiveException(label + " (" + kind() + "): input shape " + Arrays.toString(in) + " has an empty dimension");
    if (inShape != null && !Arrays.equals(inShape, in)) {
      throw new ChiveException(label + " (" + kind() + ") is already part of a network with input shape " + Arrays.toString(inShape)
          + "; it cannot also take " + Arrays.toString(in) + " (build a new stage)");
    }
    int[] out;
    try {
      out = shapeFor(in.clone());
    } catch (ChiveException e) {
      throw new ChiveException(label + " (" + kind() + "): " + e.getMessage(), e);
    }
    long size = 1;
    for (int d : out) {
      if (d <= 0) throw new ChiveException(label + " (" + kind() + "): input shape " + Arrays.toString(in) + " gives output shape " + Arrays.toString(out) + ", which is empty");
      size *= d;
    }
    if (size > Integer.MAX_VALUE / 2) throw new ChiveException(label + " (" + kind() + "): output shape " + Arrays.toString(out) + " is too large");
    this.label = label;
    this.inShape = in.clone();
    this.outShape = out.clone();
    return out.clone();
  }

  public final int[] inShape() { return inShape == null ? null : inShape.clone(); }
  public final int[] outShape() { return outShape == null ? null : outShape.clone(); }
  public final int inSize() { return size(inShape); }
  public final int outSize() { return size(outShape); }
  /** "layer 2" and the like, given at bind. */
  public final String label() { return label == null ? kind() : label; }

  /** For stages that take a vector: checks the input is [nIn] (suggesting flatten for a map) and returns [n]. */
  static int[] vectorOf(int[] in, int nIn, int n) {
    if (in.length != 1 || in[0] != nIn) {
      throw new ChiveException("takes " + nIn + " inputs (shape [" + nIn + "]), got shape " + Arrays.toString(in)
          + (in.length > 1 ? " (put a flatten layer before it)" : ""));
    }
    return new int[] {n};
  }

  static int size(int[] shape) {
    if (shape == null) throw new ChiveException("stage is not part of a network yet (no shape)");
    int s = 1;
    for (int d : shape) s *= d;
    return s;
  }

  /** The trainable arrays (live), in a fixed order; the optimizer updates them in place. */
  public float[][] params() { return new float[0][]; }
  /** Names of {@link #params()}, same order ("w", "bias", "beta", ...). */
  public String[] paramNames() { return new String[0]; }
  /** Shapes of {@link #params()}, same order. */
  public int[][] paramShapes() { return new int[0][]; }

  /** True when the output is spikes (0/1): counted in the statistics, usable by the spike-count loss. */
  public boolean spiking() { return false; }

  /** True when the output is a neuron's membrane potential (a readout for the max-over-time loss). */
  public boolean readout() { return false; }

  public abstract Ctx newContext();

  /** Forward over {@code samples} samples of {@code env.steps} steps; the result stays valid until the next forward on this Ctx. */
  public abstract Activation forward(Ctx c, Activation in, int samples, Env env);

  /**
   * Backward: given dL/d(output) (rows × outSize; may be overwritten), adds
   * dL/d(param) to {@code grads} (aligned with {@link #params()}) and, unless
   * {@code gIn} is null, writes dL/d(input) into gIn (rows × inSize).
   */
  public abstract void backward(Ctx c, Activation in, float[] gOut, float[] gIn, float[][] grads, int samples, Env env);

  /** The membrane potential of the last forward (rows × outSize), for neuron stages; null for the others. */
  public float[] membrane(Ctx c) { return null; }

  /**
   * State that is not trained by the optimizer but belongs to the model
   * (BatchNorm's running statistics): saved and restored with checkpoints.
   */
  public float[][] buffers() { return new float[0][]; }

  /** Names of {@link #buffers()}, in order. */
  public String[] bufferNames() { return new String[0]; }

  /**
   * Called once after every training batch, on the caller's thread, with the
   * contexts of the batch's sample groups in group order (so what it does
   * does not depend on the thread count).
   */
  public void afterTrainingBatch(Ctx[] groups) {}

  /** An array of n copies of v. */
  static float[] filled(int n, double v) {
    float[] a = new float[n];
    Arrays.fill(a, (float) v);
    return a;
  }

  static float[] grow(float[] a, int n) { return a != null && a.length >= n ? a : new float[n]; }
}
