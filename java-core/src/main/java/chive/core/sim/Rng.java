package chive.core.sim;

/**
 * Counter-based random numbers: a value is a pure function of (seed, stream,
 * index, step), so results do not depend on how neurons are split across
 * threads, and the generator's whole state is the seed and the step counter
 * (saved and restored with the network's clock).
 *
 * <p>The mixing function is SplitMix64's finaliser applied to a combination of
 * the four words; its output passes BigCrush when used as a counter-based
 * generator of this kind.
 */
public final class Rng {
  private Rng() {}

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  /** SplitMix64 finaliser. */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** 64 random bits for (seed, stream, index, step). */
  public static long bits(long seed, long stream, long index, long step) {
    return atStep(key(seed, stream, index), step);
  }

  /** The part of {@link #bits} that does not depend on the step, to precompute per neuron. */
  public static long key(long seed, long stream, long index) {
    long h = mix(seed + GOLDEN);
    h = mix(h ^ (stream + 0x632BE59BD9B4E019L));
    return mix(h ^ (index * GOLDEN + 0x1F83D9ABFB41BD6BL));
  }

  /** bits(seed, stream, index, step) from key(seed, stream, index). */
  public static long atStep(long key, long step) {
    return mix(key ^ (step + 0x5BE0CD19137E2179L));
  }

  /** A uniform double in [0, 1) for (seed, stream, index, step). */
  public static double uniform(long seed, long stream, long index, long step) {
    return (bits(seed, stream, index, step) >>> 11) * 0x1.0p-53;
  }
}
