package chive.core.learn;

/**
 * [C, H, W] (or any shape) to one vector of C·H·W units per step. Rows are
 * stored channel-major already, so the values and events pass through
 * unchanged.
 */
public final class Flatten extends Module {
  @Override public String kind() { return "flatten"; }
  @Override protected int[] shapeFor(int[] in) { return new int[] {size(in)}; }
  @Override public Ctx newContext() { return new Ctx() {}; }

  @Override
  public Activation forward(Ctx c, Activation in, int samples, Env env) { return in; }

  @Override
  public void backward(Ctx c, Activation in, float[] g, float[] gIn, float[][] grads, int samples, Env env) {
    if (gIn != null) System.arraycopy(g, 0, gIn, 0, samples * env.steps * inSize());
  }
}
