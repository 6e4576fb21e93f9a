package chive.core.model;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** The fast exprel against the plain reference expm1(x)/x. */
class ExprelTest {
  @Test
  void matchesExpm1Reference() {
    for (double x = -60; x <= 60; x += 0.0137) check(x);
    for (double x = -1e-3; x <= 1e-3; x += 1.3e-7) check(x);
    assertEquals(1.0, HodgkinHuxley.exprel(0.0), 0.0);
  }

  private static void check(double x) {
    double ref = x == 0 ? 1 : Math.expm1(x) / x;
    assertEquals(ref, HodgkinHuxley.exprel(x), 1e-10 * Math.abs(ref), "x = " + x);
  }

  /**
   * The shared exponential of the HH rates (one exp for beta_m, beta_h and
   * alpha_n) against the rate functions written out as in Brian2's COBAHH, over
   * every membrane potential a neuron can reach (x = v - v_t in -150..150 mV).
   */
  @Test
  void sharedExponentialGivesTheWrittenOutRates() {
    for (double x = -150; x <= 150; x += 0.00731) {
      double y = (x - 40) / 5, ey = Math.exp(y);
      double bm = 0.28 * 5 / HodgkinHuxley.exprelFrom(y, ey), bmRef = 0.28 * 5 / (x == 40 ? 1 : Math.expm1(y) / y);
      double bh = 4 * ey / (ey + 1), bhRef = 4 / (1 + Math.exp((40 - x) / 5));
      double z = -y - 5;
      double an = 0.032 * 5 / HodgkinHuxley.exprelFrom(z, Math.exp(-5) / ey);
      double anRef = 0.032 * 5 / (z == 0 ? 1 : Math.expm1((15 - x) / 5) / ((15 - x) / 5));
      assertEquals(bmRef, bm, 1e-10 * Math.abs(bmRef) + 1e-300, "beta_m at x = " + x);
      assertEquals(bhRef, bh, 1e-12 * Math.abs(bhRef) + 1e-300, "beta_h at x = " + x);
      assertEquals(anRef, an, 1e-10 * Math.abs(anRef) + 1e-300, "alpha_n at x = " + x);
    }
  }
}
