package chive.core.kernel;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** FastExp's stated error bound against Math.exp and StrictMath.exp (fdlibm). */
class FastExpTest {
  static void within(double x, double bound) {
    double want = StrictMath.exp(x), got = FastExp.exp(x);
    assertTrue(Math.abs(got - want) <= bound * want, "exp(" + x + ") = " + got + ", StrictMath " + want);
    double m = Math.exp(x);
    assertTrue(Math.abs(got - m) <= bound * m, "exp(" + x + ") = " + got + ", Math.exp " + m);
  }

  @Test
  void relativeErrorBelow1e15OverTheWholeRange() {
    SplittableRandom r = new SplittableRandom(7);
    double worst = 0;
    for (int k = 0; k < 300_000; k++) {
      double x = k % 2 == 0 ? r.nextDouble(-708, 709) : r.nextDouble(-30, 30);
      within(x, 1e-15);
      worst = Math.max(worst, Math.abs(FastExp.exp(x) / StrictMath.exp(x) - 1));
    }
    for (double x = -1; x <= 1; x += 1.0 / 1024) within(x, 1e-15);   // k = 0 and its neighbours
    for (int k = -1020; k <= 1022; k++) within(k * Math.log(2), 1e-15); // the reduction's boundaries
    assertEquals(1.0, FastExp.exp(0.0), 0.0);
    assertTrue(worst > 0, "a test that compares something");
    System.out.println("FastExp: worst relative error " + worst + " in 300000 random points");
  }

  @Test
  void clampsAndPropagatesNaN() {
    assertTrue(Double.isNaN(FastExp.exp(Double.NaN)));
    assertEquals(FastExp.exp(-708), FastExp.exp(-1e6), 0.0);
    assertTrue(FastExp.exp(-1e6) > 0 && FastExp.exp(-1e6) < 4e-308);
    assertEquals(FastExp.exp(709), FastExp.exp(Double.POSITIVE_INFINITY), 0.0);
    assertTrue(Double.isFinite(FastExp.exp(1e6)));
  }
}
