package chive.core.sim;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class RngTest {
  @Test
  void precomputedKeysGiveTheSameBits() {
    for (long seed : new long[] {0, 1, -7, 123456789}) {
      for (int i = 0; i < 50; i++) {
        long key = Rng.key(seed, 3, i);
        for (long step = 0; step < 20; step++) {
          long h = Rng.mix(seed + 0x9E3779B97F4A7C15L);
          h = Rng.mix(h ^ (3 + 0x632BE59BD9B4E019L));
          h = Rng.mix(h ^ (i * 0x9E3779B97F4A7C15L + 0x1F83D9ABFB41BD6BL));
          long reference = Rng.mix(h ^ (step + 0x5BE0CD19137E2179L));
          assertEquals(reference, Rng.atStep(key, step));
          assertEquals(reference, Rng.bits(seed, 3, i, step));
        }
      }
    }
  }

  @Test
  void uniformsLookUniform() {
    int[] bins = new int[10];
    for (int i = 0; i < 100_000; i++) bins[(int) (Rng.uniform(5, 1, i, 7) * 10)]++;
    for (int b : bins) assertEquals(10_000, b, 400);
  }
}
