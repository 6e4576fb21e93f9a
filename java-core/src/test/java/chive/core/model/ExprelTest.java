package chive.core.model;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.kernel.FastExp;
import org.junit.jupiter.api.Test;

/** The HH rate forms against plain references written with Math.expm1 and Math.exp. */
class ExprelTest {
  @Test
  void exprelMatchesExpm1Reference() {
    for (double x = -60; x <= 60; x += 0.0137) checkExprel(x);
    for (double x = -1e-3; x <= 1e-3; x += 1.3e-7) checkExprel(x);
    assertEquals(1.0, HodgkinHuxley.exprel(0.0), 0.0);
  }

  private static void checkExprel(double x) {
    double ref = x == 0 ? 1 : Math.expm1(x) / x;
    assertEquals(ref, HodgkinHuxley.exprel(x), 1e-10 * Math.abs(ref), "x = " + x);
  }

  /**
   * The rates as the HH step computes them (ratios c·num/den, one exponential
   * shared by beta_m, beta_h and alpha_n, every exponential FastExp's) against
   * the rate functions written out as in Brian2's COBAHH, over every membrane
   * potential a neuron can reach (x = v - v_t in -150..150 mV) and at the
   * removable singularities of the exprel terms.
   */
  @Test
  void stepRatesGiveTheWrittenOutRates() {
    for (double x = -150; x <= 150; x += 0.00731) checkRates(x);
    for (double x : new double[] {13, 40, 15, 13 + 1e-5, 40 - 3e-5, 15 + 2e-4, 15 - 1e-4}) checkRates(x);
  }

  private static double ref(double c, double z) {
    return c / (z == 0 ? 1 : Math.expm1(z) / z);
  }

  private static void checkRates(double x) {
    double za = (13 - x) * 0.25;
    double am = HodgkinHuxley.ratio(1.28, za, za, FastExp.exp(za) - 1.0);
    double y = (x - 40) * 0.2, ey = FastExp.exp(y);
    double bm = HodgkinHuxley.ratio(1.4, y, y, ey - 1.0);
    double bh = ey * 4 / (ey + 1.0);
    double z = -y - 5;
    double an = HodgkinHuxley.ratio(0.16, z, z * ey, HodgkinHuxley.EXP_M5 - ey);
    close(x, "alpha_m", am, ref(0.32 * 4, (13 - x) / 4), 1e-10);
    close(x, "beta_m", bm, ref(0.28 * 5, (x - 40) / 5), 1e-10);
    close(x, "beta_h", bh, 4 / (1 + Math.exp((40 - x) / 5)), 1e-12);
    close(x, "alpha_n", an, ref(0.032 * 5, (15 - x) / 5), 1e-10);
  }

  private static void close(double x, String what, double got, double want, double rel) {
    assertEquals(want, got, rel * Math.abs(want) + 1e-300, what + " at x = " + x);
  }
}
