package chive.core.learn;

import java.util.SplittableRandom;

/**
 * A stage with a weight array and optionally a bias (Affine, Conv2d, the
 * dense Layer): the initialisations and what LSUV scales.
 */
public abstract class Weighted extends Module {
  /** The weights (live). */
  public abstract float[] weights();
  /** The bias (live), or null. */
  public abstract float[] bias();
  /** Inputs feeding one output unit (for the initialisations' scales). */
  public abstract int fanIn();
  /** Output units one input unit feeds (Glorot's fan_out). */
  public abstract int fanOut();

  /** Uniform in ±sqrt(6/(fan_in + fan_out)) (Glorot); bias 0. */
  public void initGlorotUniform(SplittableRandom rng) {
    Init.uniform(weights(), Math.sqrt(6.0 / (fanIn() + fanOut())), rng);
    if (bias() != null) java.util.Arrays.fill(bias(), 0f);
  }

  /** Normal(0, scale/sqrt(fan_in)); bias 0. */
  public void initNormal(double scale, SplittableRandom rng) {
    Init.normal(weights(), scale / Math.sqrt(fanIn()), rng);
    if (bias() != null) java.util.Arrays.fill(bias(), 0f);
  }

  /** Uniform in ±1/sqrt(fan_in) for weights and bias (PyTorch's default for Linear and Conv2d). */
  public void initKaimingUniform(SplittableRandom rng) {
    double lim = 1 / Math.sqrt(fanIn());
    Init.uniform(weights(), lim, rng);
    if (bias() != null) Init.uniform(bias(), lim, rng);
  }
}
