package chive.core.model;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class AffineTest {
  @Test
  void scalarDecayIsExact() {
    double[][] mc = Affine.step(new double[][] {{-1 / 20.0}}, new double[] {-70 / 20.0}, 3.0);
    assertEquals(Math.exp(-3.0 / 20), mc[0][0], 1e-14);
    assertEquals(-70 * (1 - Math.exp(-3.0 / 20)), mc[0][1], 1e-12);
  }

  @Test
  void coupledLifMatchesTheClosedForm() {
    // dv/dt = (ge - v)/tm, dge/dt = -ge/te: v gains ge·te/(te - tm)·(e^{-dt/te} - e^{-dt/tm}).
    double tm = 20, te = 5, dt = 7;
    double[][] mc = Affine.step(new double[][] {{-1 / tm, 1 / tm}, {0, -1 / te}}, new double[] {0, 0}, dt);
    assertEquals(Math.exp(-dt / tm), mc[0][0], 1e-14);
    assertEquals(te / (te - tm) * (Math.exp(-dt / te) - Math.exp(-dt / tm)), mc[0][1], 1e-14);
    assertEquals(Math.exp(-dt / te), mc[1][1], 1e-14);
    assertEquals(0, mc[1][0], 0);
  }

  @Test
  void largeStepsStayAccurate() {
    double[][] mc = Affine.step(new double[][] {{-2.0}}, new double[] {0}, 50);
    assertEquals(Math.exp(-100), mc[0][0], 1e-50);
  }
}
