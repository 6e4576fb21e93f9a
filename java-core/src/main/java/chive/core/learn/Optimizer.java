package chive.core.learn;

import chive.core.sim.ChiveException;

/**
 * Gradient-descent optimisers over a fixed list of parameter arrays, in the
 * conventions of PyTorch and optax: SGD with (heavy-ball) momentum
 * buf = m·buf + g, p -= lr·buf; Adam with bias correction,
 * p -= lr·m̂/(sqrt(v̂) + eps).
 */
public abstract class Optimizer {
  protected final float[][] params;
  protected double lr;
  protected long t;

  protected Optimizer(float[][] params, double lr) {
    checkLr(lr);
    this.params = params;
    this.lr = lr;
  }

  public double learningRate() { return lr; }
  public void setLearningRate(double lr) {
    checkLr(lr);
    this.lr = lr;
  }

  private static void checkLr(double lr) {
    if (!(lr > 0) || lr > Float.MAX_VALUE) throw new ChiveException("learning rate must be > 0 and a finite float, got " + lr);
  }
  public long steps() { return t; }

  /**
   * One update from gradients aligned with the parameters. Throws
   * {@link ChiveException} naming the array, index, value and learning rate
   * when an update leaves a parameter NaN or infinite (the caller restores
   * what it saved: the parameters are already changed).
   */
  public final void step(float[][] grads) {
    checkAligned(grads);
    t++;
    update(grads);
    for (int a = 0; a < params.length; a++) {
      float[] p = params[a];
      for (int i = 0; i < p.length; i++) {
        if (!Float.isFinite(p[i])) {
          throw new ChiveException("parameter array " + a + " became " + p[i] + " at index " + i + " after update " + t
              + " (learning rate " + lr + "): the weights blew up; lower the learning rate");
        }
      }
    }
  }

  protected abstract void update(float[][] grads);

  /** Internal state arrays (for checkpoints), in a fixed order; {@link #steps()} completes it. */
  public abstract float[][] state();
  public void restore(float[][] state, long steps) {
    float[][] mine = state();
    if (state.length != mine.length) throw new ChiveException("optimiser state has " + state.length + " arrays, expected " + mine.length);
    for (int i = 0; i < mine.length; i++) {
      if (state[i].length != mine[i].length) throw new ChiveException("optimiser state array " + i + " has " + state[i].length + " values, expected " + mine[i].length);
      System.arraycopy(state[i], 0, mine[i], 0, mine[i].length);
    }
    t = steps;
  }

  protected void checkAligned(float[][] g) {
    if (g.length != params.length) throw new ChiveException(g.length + " gradients for " + params.length + " parameter arrays");
    for (int i = 0; i < g.length; i++) {
      if (g[i].length != params[i].length) throw new ChiveException("gradient " + i + " has " + g[i].length + " values for " + params[i].length + " parameters");
    }
  }

  public static final class Sgd extends Optimizer {
    private final float momentum;
    private final float[][] buf;

    public Sgd(float[][] params, double lr, double momentum) {
      super(params, lr);
      if (!(momentum >= 0 && momentum < 1)) throw new ChiveException("momentum must be in [0, 1), got " + momentum);
      this.momentum = (float) momentum;
      buf = new float[params.length][];
      for (int i = 0; i < params.length; i++) buf[i] = new float[params[i].length];
    }

    @Override protected void update(float[][] g) {
      final float m = momentum, l = (float) lr;
      for (int a = 0; a < params.length; a++) {
        float[] p = params[a], b = buf[a], ga = g[a];
        if (m == 0f) for (int i = 0; i < p.length; i++) p[i] -= l * ga[i];
        else for (int i = 0; i < p.length; i++) { b[i] = m * b[i] + ga[i]; p[i] -= l * b[i]; }
      }
    }

    @Override public float[][] state() { return buf; }
  }

  public static final class Adam extends Optimizer {
    private final double b1, b2, eps;
    private final float[][] m, v;

    public Adam(float[][] params, double lr, double b1, double b2, double eps) {
      super(params, lr);
      if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) throw new ChiveException("Adam betas must be in [0, 1), got " + b1 + ", " + b2);
      if (!(eps > 0)) throw new ChiveException("Adam eps must be > 0, got " + eps);
      this.b1 = b1; this.b2 = b2; this.eps = eps;
      m = new float[params.length][];
      v = new float[params.length][];
      for (int i = 0; i < params.length; i++) { m[i] = new float[params[i].length]; v[i] = new float[params[i].length]; }
    }

    @Override protected void update(float[][] g) {
      final float fb1 = (float) b1, fb2 = (float) b2;
      final float c1 = (float) (1 - Math.pow(b1, t)), c2 = (float) (1 - Math.pow(b2, t));
      final float l = (float) lr, e = (float) eps;
      for (int a = 0; a < params.length; a++) {
        float[] p = params[a], ma = m[a], va = v[a], ga = g[a];
        for (int i = 0; i < p.length; i++) {
          float gi = ga[i];
          ma[i] = fb1 * ma[i] + (1 - fb1) * gi;
          va[i] = fb2 * va[i] + (1 - fb2) * gi * gi;
          p[i] -= l * (ma[i] / c1) / ((float) Math.sqrt(va[i] / c2) + e);
        }
      }
    }

    @Override public float[][] state() {
      float[][] s = new float[2 * m.length][];
      for (int i = 0; i < m.length; i++) { s[i] = m[i]; s[m.length + i] = v[i]; }
      return s;
    }
  }
}
