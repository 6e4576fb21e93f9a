package chive.core.learn;

import chive.core.sim.ChiveException;

/**
 * Batch normalisation per channel (the first dimension of a [C, H, W] map;
 * each unit of a vector), with statistics shared over time steps as in
 * threshold-dependent batch norm (tdBN, Zheng et al. 2021):
 * <pre>
 *   y = γ_c·(x - μ_c)/sqrt(σ²_c + ε) + β_c
 * </pre>
 * In training, μ_c and σ²_c (biased) are the mean and variance of channel c
 * over the samples of each <em>sample group</em> of the batch
 * ({@link SpikingNet#GROUPS} groups whatever the thread count: "ghost" batch
 * normalisation, Hoffer et al. 2017), all their time steps and positions;
 * gradients flow through the statistics. After each training batch the
 * running estimates are updated group by group in group order,
 * r ← (1 - m)·r + m·s with the variance unbiased (PyTorch's convention,
 * momentum m = 0.1), and evaluation uses them. γ (named "weight") and β
 * ("bias") are trained; the running mean and variance are buffers, saved
 * with checkpoints.
 */
public final class BatchNorm extends Module {
  public final double eps, momentum;
  private float[] gamma, beta, runMean, runVar;
  private int channels, inner;

  public BatchNorm(double momentum, double eps) {
    if (!(momentum > 0 && momentum <= 1)) throw new ChiveException("batch norm: momentum must be in (0, 1], got " + momentum);
    if (!(eps > 0) || Double.isInfinite(eps)) throw new ChiveException("batch norm: eps must be finite and > 0, got " + eps);
    this.momentum = momentum;
    this.eps = eps;
  }

  @Override public String kind() { return "BatchNorm"; }

  @Override
  protected int[] shapeFor(int[] in) {
    int n = size(in);
    channels = in.length > 1 ? in[0] : n;
    inner = n / channels;
    if (gamma == null || gamma.length != channels) {
      gamma = new float[channels];
      java.util.Arrays.fill(gamma, 1f);
      beta = new float[channels];
      runMean = new float[channels];
      runVar = new float[channels];
      java.util.Arrays.fill(runVar, 1f);
    }
    return in;
  }

  public float[] gamma() { return gamma; }
  public float[] beta() { return beta; }
  public float[] runningMean() { return runMean; }
  public float[] runningVar() { return runVar; }

  @Override public float[][] params() { return new float[][] {gamma, beta}; }
  @Override public String[] paramNames() { return new String[] {"weight", "bias"}; }
  @Override public int[][] paramShapes() { return new int[][] {{channels}, {channels}}; }
  @Override public float[][] buffers() { return new float[][] {runMean, runVar}; }
  @Override public String[] bufferNames() { return new String[] {"running_mean", "running_var"}; }

  static final class BCtx extends Ctx {
    float[] y, xhat;
    double[] mean, var, invstd;
    /** Values per channel in the last training forward pass (0: none since the last batch). */
    long count;
  }

  @Override public Ctx newContext() { return new BCtx(); }

  @Override
  public Activation forward(Ctx ctx, Activation in, int samples, Env env) {
    BCtx c = (BCtx) ctx;
    final int rows = samples * env.steps, C = channels, S = inner, n = C * S;
    final float[] X = in.values();
    final float[] Y = c.y = grow(c.y, rows * n);
    if (c.mean == null || c.mean.length != C) {
      c.mean = new double[C];
      c.var = new double[C];
      c.invstd = new double[C];
    }
    final boolean train = env.training;
    if (train) {
      final long N = (long) rows * S;
      for (int ch = 0; ch < C; ch++) {
        double sum = 0;
        for (int r = 0; r < rows; r++) for (int s = 0, o = r * n + ch * S; s < S; s++) sum += X[o + s];
        double mu = sum / N, sq = 0;
        for (int r = 0; r < rows; r++) for (int s = 0, o = r * n + ch * S; s < S; s++) { double d = X[o + s] - mu; sq += d * d; }
        c.mean[ch] = mu;
        c.var[ch] = sq / N;
        c.invstd[ch] = 1 / Math.sqrt(sq / N + eps);
      }
      c.count = N;
      c.xhat = grow(c.xhat, rows * n);
    } else {
      c.count = 0;
      for (int ch = 0; ch < C; ch++) {
        c.mean[ch] = runMean[ch];
        c.invstd[ch] = 1 / Math.sqrt(runVar[ch] + eps);
      }
    }
    final float[] xh = c.xhat;
    for (int r = 0; r < rows; r++) {
      for (int ch = 0; ch < C; ch++) {
        final float mu = (float) c.mean[ch], is = (float) c.invstd[ch], g = gamma[ch], b = beta[ch];
        final int o = r * n + ch * S;
        if (train) {
          for (int s = 0; s < S; s++) { float h = (X[o + s] - mu) * is; xh[o + s] = h; Y[o + s] = g * h + b; }
        } else {
          for (int s = 0; s < S; s++) Y[o + s] = g * ((X[o + s] - mu) * is) + b;
        }
      }
    }
    return Activation.dense(rows, n, Y);
  }

  @Override
  public void backward(Ctx ctx, Activation in, float[] G, float[] gIn, float[][] grads, int samples, Env env) {
    BCtx c = (BCtx) ctx;
    final int rows = samples * env.steps, C = channels, S = inner, n = C * S;
    final float[] xh = c.xhat, dGamma = grads[0], dBeta = grads[1];
    final double N = (double) rows * S;
    for (int ch = 0; ch < C; ch++) {
      double sg = 0, sgx = 0;
      for (int r = 0; r < rows; r++) for (int s = 0, o = r * n + ch * S; s < S; s++) { sg += G[o + s]; sgx += G[o + s] * xh[o + s]; }
      dGamma[ch] += (float) sgx;
      dBeta[ch] += (float) sg;
      if (gIn == null) continue;
      // dL/dx = γ/σ · (g - mean(g) - x̂·mean(g·x̂)), the statistics' own gradients included
      final float k = (float) (gamma[ch] * c.invstd[ch]), mg = (float) (sg / N), mgx = (float) (sgx / N);
      for (int r = 0; r < rows; r++) for (int s = 0, o = r * n + ch * S; s < S; s++) gIn[o + s] = k * (G[o + s] - mg - xh[o + s] * mgx);
    }
  }

  @Override
  public void afterTrainingBatch(Ctx[] groups) {
    final float m = (float) momentum;
    for (Ctx g : groups) {
      BCtx c = (BCtx) g;
      if (c.count == 0) continue;
      double unbias = c.count > 1 ? c.count / (double) (c.count - 1) : 1;
      for (int ch = 0; ch < channels; ch++) {
        runMean[ch] = (1 - m) * runMean[ch] + m * (float) c.mean[ch];
        runVar[ch] = (1 - m) * runVar[ch] + m * (float) (c.var[ch] * unbias);
      }
      c.count = 0;
    }
  }
}
