package chive.core.model;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * PoissonGroup's draws on 64-bit SIMD lanes: {@link chive.core.sim.Rng#atStep} (SplitMix64's
 * finaliser) for LANES active neurons at once, compared with ⌈p·2^53⌉ in
 * integers; the differences x - T go to a scratch array that a scalar pass
 * then reads in order, so spikes come out in ascending order and are those
 * of the scalar loop (PoissonVectorTest). Only loaded when
 * {@link chive.core.kernel.Simd#ENABLED}.
 */
final class PoissonVector {
  private PoissonVector() {}

  static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
  static final int LANES = L.length();

  /** Draws for active positions [a, a + LANES·⌊(end - a)/LANES⌋); returns the spikes written to {@code spikes}. */
  static int draw(PoissonGroup g, long step, int a, int end, int[] spikes) {
    final long[] key = g.activeKey, t = g.activeT, d = g.activeD;
    final int[] active = g.activeNeurons();
    final long s = step + 0x5BE0CD19137E2179L;
    int q = a;
    for (; end - q >= LANES; q += LANES) {
      LongVector z = LongVector.fromArray(L, key, q).lanewise(VectorOperators.XOR, s);
      z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(0xBF58476D1CE4E5B9L);
      z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(0x94D049BB133111EBL);
      z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
      // x - T < 0 exactly when x < T (both in [0, 2^53]).
      z.lanewise(VectorOperators.LSHR, 11).sub(LongVector.fromArray(L, t, q)).intoArray(d, q);
    }
    int count = 0;
    for (int l = a; l < q; l++) if (d[l] < 0) spikes[count++] = active[l];
    return count;
  }
}
