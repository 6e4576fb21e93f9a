package chive.core.learn;

import chive.core.sim.ChiveException;

/**
 * Pair-based additive STDP written as a pseudo-gradient (the idea of the
 * Flux/Lux gist): over spike trains of a pre and a post population, the
 * summed weight change ΔW of the direct rule, returned as g = -ΔW so that any
 * optimiser's "p -= lr·g" applies it; plain SGD at learning rate 1 then gives
 * the direct rule's weights (without clipping, which an optimiser does not do).
 *
 * <p>Conventions are those of chive.core.plasticity.Stdp (ADDITIVE, all-to-all
 * pairing): per step, traces decay by float exp(-dt/tau); a pre spike adds 1
 * to x; then each pre spike depresses its synapses by a_minus·y (y not yet
 * holding this step's post spikes); each post spike potentiates by
 * a_plus·x (x holding this step's pre spikes); then a post spike adds 1 to y.
 */
public final class StdpGradient {
  private StdpGradient() {}

  /**
   * pre: steps × nPre spikes (0/1), post: steps × nPost, row-major. Returns
   * nPre × nPost (row i: synapses out of pre neuron i), the layout of
   * {@link Layer#w}.
   */
  public static float[] pseudoGradient(float[] pre, int nPre, float[] post, int nPost, int steps,
                                       double tauPreMs, double tauPostMs, double aPlus, double aMinus, double dtMs) {
    if ((long) steps * nPre != pre.length || (long) steps * nPost != post.length) {
      throw new ChiveException("STDP pseudo-gradient: trains of " + pre.length + " and " + post.length + " values do not match "
          + steps + " steps x " + nPre + " and " + nPost + " neurons");
    }
    if (!(tauPreMs > 0) || !(tauPostMs > 0) || !(dtMs > 0)) throw new ChiveException("STDP pseudo-gradient: time constants and dt must be > 0");
    final float dx = (float) Math.exp(-(1.0 / tauPreMs) * dtMs), dy = (float) Math.exp(-(1.0 / tauPostMs) * dtMs);
    final float ap = (float) aPlus, am = (float) aMinus;
    float[] x = new float[nPre], y = new float[nPost], dw = new float[nPre * nPost];
    for (int t = 0; t < steps; t++) {
      for (int i = 0; i < nPre; i++) { x[i] *= dx; if (pre[t * nPre + i] != 0f) x[i] += 1f; }
      for (int j = 0; j < nPost; j++) y[j] *= dy;
      for (int i = 0; i < nPre; i++) {
        if (pre[t * nPre + i] == 0f) continue;
        for (int j = 0; j < nPost; j++) dw[i * nPost + j] -= am * y[j];
      }
      for (int j = 0; j < nPost; j++) {
        if (post[t * nPost + j] == 0f) continue;
        for (int i = 0; i < nPre; i++) dw[i * nPost + j] += ap * x[i];
        y[j] += 1f;
      }
    }
    for (int k = 0; k < dw.length; k++) dw[k] = -dw[k];
    return dw;
  }
}
