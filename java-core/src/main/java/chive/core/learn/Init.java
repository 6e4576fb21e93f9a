package chive.core.learn;

import java.util.SplittableRandom;

/** Seeded weight initialisations shared by the stages with weights. */
final class Init {
  private Init() {}

  static void uniform(float[] a, double lim, SplittableRandom rng) {
    for (int i = 0; i < a.length; i++) a[i] = (float) ((2 * rng.nextDouble() - 1) * lim);
  }

  static void normal(float[] a, double sd, SplittableRandom rng) {
    for (int i = 0; i < a.length; i++) {
      // Box-Muller; rng is seeded, so the weights are reproducible.
      double u1 = 1 - rng.nextDouble(), u2 = rng.nextDouble();
      a[i] = (float) (sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
    }
  }
}
