package chive.core.learn;

import chive.core.sim.ChiveException;

/**
 * A layer of current-based LIF neurons (or, with spiking = false, leaky
 * integrators used as a readout), feed-forward weights w (nIn × n, row i =
 * the weights out of input i) and optionally recurrent weights v (n × n).
 * One time step, for t = 0..T-1 from zero state:
 * <pre>
 *   I_t  = syn·I_{t-1}  + in_gain·(x_t w)
 *   Ir_t = rec·Ir_{t-1} + rec_gain·(S_{t-1} v)
 *   U_t  = reset(mem·U_{t-1}, S_{t-1}) + mem_gain·(I_{t-1} + Ir_{t-1})
 *   S_t  = H(U_t - threshold)            (output; for a readout the output is U_t)
 * </pre>
 * Resets: HARD_LEAK (the JAX seed): mem·U·(1 - S) + mem_gain·(I + Ir);
 * HARD (SpyTorch): (mem·U + mem_gain·(I + Ir))·(1 - S); SOFT: mem·U - threshold·S
 * + mem_gain·(I + Ir). With detachReset the gradient does not flow through
 * the reset's S (the seeds' stop_gradient / detach).
 * The JAX seed's layer is mem 0.95, syn 0.9, rec 0.85, in_gain 20·(1 - 0.9),
 * rec_gain 1 - 0.85, mem_gain 1 - 0.95 (its 20·I folded into I).
 */
public final class Layer {
  public enum Reset { HARD, HARD_LEAK, SOFT }

  public final int nIn, n;
  public final boolean spiking, recurrent;
  public final float mem, syn, rec, inGain, recGain, memGain, threshold;
  public final Reset reset;
  public final boolean detachReset;
  public final Surrogate surrogate;
  /** Feed-forward weights, nIn × n row-major. */
  public final float[] w;
  /** Recurrent weights n × n (row i: out of neuron i), or null. */
  public final float[] v;

  public Layer(int nIn, int n, boolean spiking, boolean recurrent, double mem, double syn, double rec,
               double inGain, double recGain, double memGain, double threshold, Reset reset,
               boolean detachReset, Surrogate surrogate) {
    if (nIn <= 0 || n <= 0) throw new ChiveException("layer sizes must be > 0, got " + nIn + " inputs and " + n + " neurons");
    if ((long) nIn * n > Integer.MAX_VALUE) throw new ChiveException("layer of " + nIn + " x " + n + " weights is too large");
    check("mem", mem); check("syn", syn); check("rec", rec);
    for (double g : new double[] {inGain, recGain, memGain, threshold}) {
      if (!Double.isFinite(g)) throw new ChiveException("layer gains and threshold must be finite, got " + g);
    }
    if (recurrent && !spiking) throw new ChiveException("a non-spiking readout layer cannot be recurrent");
    if (spiking && surrogate == null) throw new ChiveException("a spiking layer needs a surrogate");
    this.nIn = nIn; this.n = n; this.spiking = spiking; this.recurrent = recurrent;
    this.mem = (float) mem; this.syn = (float) syn; this.rec = (float) rec;
    this.inGain = (float) inGain; this.recGain = (float) recGain; this.memGain = (float) memGain;
    this.threshold = (float) threshold; this.reset = reset; this.detachReset = detachReset; this.surrogate = surrogate;
    this.w = new float[nIn * n];
    this.v = recurrent ? new float[n * n] : null;
  }

  private static void check(String name, double d) {
    if (!(d >= 0 && d <= 1)) throw new ChiveException("layer decay factor '" + name + "' must be in [0, 1], got " + d);
  }

  /** Uniform in ±sqrt(6/(fan_in + fan_out)) (Glorot), as the JAX seed initialises both matrices. */
  public void initGlorotUniform(java.util.SplittableRandom rng) {
    fillUniform(w, Math.sqrt(6.0 / (nIn + n)), rng);
    if (v != null) fillUniform(v, Math.sqrt(6.0 / (n + n)), rng);
  }

  /** Normal(0, scale/sqrt(fan_in)), SpyTorch's initialisation (its scale 7·(1 - mem)). */
  public void initNormal(double scale, java.util.SplittableRandom rng) {
    fillNormal(w, scale / Math.sqrt(nIn), rng);
    if (v != null) fillNormal(v, scale / Math.sqrt(n), rng);
  }

  private static void fillUniform(float[] a, double lim, java.util.SplittableRandom rng) {
    for (int i = 0; i < a.length; i++) a[i] = (float) ((2 * rng.nextDouble() - 1) * lim);
  }

  private static void fillNormal(float[] a, double sd, java.util.SplittableRandom rng) {
    for (int i = 0; i < a.length; i++) {
      // Box-Muller; rng is seeded, so the weights are reproducible.
      double u1 = 1 - rng.nextDouble(), u2 = rng.nextDouble();
      a[i] = (float) (sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
    }
  }

  /** The trainable arrays: w, then v if recurrent. */
  public float[][] params() { return v == null ? new float[][] {w} : new float[][] {w, v}; }
}
