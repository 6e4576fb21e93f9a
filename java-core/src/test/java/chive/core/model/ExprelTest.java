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
}
