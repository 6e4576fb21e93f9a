package chive.core.kernel;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** FastExpF (float eˣ) against Math.exp, with the error bound its class comment states. */
class FastExpFTest {
  @Test
  void relativeErrorBelow2p5e7OverTheWholeRange() {
    double worst = 0;
    SplittableRandom r = new SplittableRandom(5);
    for (int k = 0; k < 2_000_000; k++) {
      float x = k < 1_000_000 ? (float) r.nextDouble(-87, 88) : (float) r.nextDouble(-1, 1);
      double want = Math.exp(x), got = FastExpF.exp(x);
      double rel = Math.abs(got - want) / want;
      assertTrue(rel < 2.5e-7, "exp(" + x + ") = " + got + ", Math.exp " + want);
      worst = Math.max(worst, rel);
    }
    assertTrue(worst > 1e-8, "a test that compares something: worst " + worst);
    assertEquals(1f, FastExpF.exp(0f), 0f, "exp(0) is exactly 1 (CobaLif's no-conductance step relies on it)");
    assertEquals(1f, FastExpF.exp(-0f), 0f);
  }

  @Test
  void clampsAndPropagatesNaN() {
    assertTrue(Float.isNaN(FastExpF.exp(Float.NaN)));
    assertEquals(FastExpF.exp(-87f), FastExpF.exp(-1e6f), 0f);
    assertTrue(FastExpF.exp(-1e6f) >= Float.MIN_NORMAL, "never subnormal");
    assertEquals(FastExpF.exp(88f), FastExpF.exp(Float.POSITIVE_INFINITY), 0f);
    assertTrue(Float.isFinite(FastExpF.exp(1e6f)));
  }
}
