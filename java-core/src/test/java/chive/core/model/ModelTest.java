package chive.core.model;

import chive.core.sim.Rng;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.sim.Network;
import chive.core.sim.SpikeMonitor;
import chive.core.sim.StateMonitor;
import org.junit.jupiter.api.Test;

class ModelTest {

  /** Rate of a LIF driven by a constant input, closed form: 1 / (t_ref + tau ln((vinf - vr)/(vinf - vth))). */
  static double lifRateHz(double tau, double vRest, double rI, double vTh, double vReset, double tRef) {
    double vinf = vRest + rI;
    if (vinf <= vTh) return 0;
    return 1000.0 / (tRef + tau * Math.log((vinf - vReset) / (vinf - vTh)));
  }

  @Test
  void lifFICurveMatchesTheClosedForm() {
    double dt = 0.01;
    int n = 12;
    Network net = new Network(dt, 1);
    Lif g = net.add(new Lif("lif", n));
    g.setParam("tau_m", 10);
    g.setParam("v_rest", -70);
    g.setParam("v_th", -50);
    g.setParam("v_reset", -65);
    g.setParam("t_ref", 2);
    g.setParam("r_m", 100); // MΩ: 0.1 nA -> 10 mV
    float[] iext = g.var("i_ext");
    java.util.Arrays.fill(g.var("v"), -70f);
    for (int i = 0; i < n; i++) iext[i] = (float) (0.1 + 0.05 * i); // 0.1 .. 0.65 nA
    SpikeMonitor m = net.add(new SpikeMonitor(g));
    double durMs = 4000;
    net.run(durMs, 2, null);
    int[] counts = m.countsPerNeuron();
    for (int i = 0; i < n; i++) {
      double expected = lifRateHz(10, -70, 100 * iext[i], -50, -65, 2);
      // Measure the rate from the inter-spike intervals, not the count (which
      // includes the time to the first spike).
      double[] t = timesOf(m, i);
      if (expected == 0) {
        assertEquals(0, counts[i], "neuron " + i + " is below threshold");
        continue;
      }
      double isi = (t[t.length - 1] - t[0]) / (t.length - 1);
      double measured = 1000.0 / isi;
      // Spike times are quantised to dt: the period is exact to within one step.
      double tol = expected * expected * dt / 1000.0 + 1e-9;
      assertEquals(expected, measured, Math.max(tol, 0.002 * expected),
          "neuron " + i + " at " + (100 * iext[i]) + " mV drive");
    }
  }

  static double[] timesOf(SpikeMonitor m, int neuron) {
    int[] idx = m.indices();
    double[] t = m.times();
    return java.util.stream.IntStream.range(0, idx.length).filter(k -> idx[k] == neuron).mapToDouble(k -> t[k]).toArray();
  }

  @Test
  void lifRelaxesExactlyAtLargeDt() {
    // Linear dynamics use the exact solution, so a 1 ms step lands on the analytic curve.
    Network net = new Network(1.0, 1);
    Lif g = net.add(new Lif("lif", 1));
    g.setParam("tau_m", 20);
    g.setParam("tau_e", 5);
    g.setParam("v_rest", -70);
    g.setParam("v_th", 0);
    g.var("v")[0] = -60;
    g.var("ge")[0] = 4;
    StateMonitor m = net.add(new StateMonitor(g, "v", new int[] {0}, 1));
    net.run(30, 1, null);
    float[] v = m.trace(0);
    for (int k = 0; k < v.length; k++) {
      double t = k * 1.0;
      // v(t) = El + (v0 - El - A) e^{-t/tm} + A e^{-t/te}, A = ge0 te/(te - tm)
      double a = 4 * 5.0 / (5.0 - 20.0);
      double exact = -70 + (10 - a) * Math.exp(-t / 20) + a * Math.exp(-t / 5);
      assertEquals(exact, v[k], 1e-4, "t = " + t);
    }
  }

  @Test
  void refractoryHoldsVAsBrianDoes() {
    // A spike in step s holds v at v_reset through step s + R - 1 (R = t_ref/dt), integrating again from step s + R.
    Network net = new Network(0.1, 1);
    Lif g = net.add(new Lif("lif", 1));
    g.setParam("t_ref", 1.0);
    g.setParam("v_rest", 0);
    g.setParam("v_th", -50);
    g.setParam("v_reset", -60);
    g.var("v")[0] = -49f; // above threshold after the first update
    StateMonitor m = net.add(new StateMonitor(g, "v", new int[] {0}, 1));
    SpikeMonitor sm = net.add(new SpikeMonitor(g));
    net.runSteps(100, 1, null);
    assertEquals(0, sm.steps()[0]);
    float[] v = m.trace(0);
    for (int k = 1; k <= 10; k++) assertEquals(-60f, v[k], 0f, "held at the start of step " + k);
    assertTrue(v[11] > -60f, "integrating again in step 10");
    // v_rest is above threshold: it fires regularly, each period = refractory hold + the climb back.
    int[] st = sm.steps();
    assertTrue(st.length >= 2, "fires again after the refractory period");
    double climbSteps = 20 * Math.log(60.0 / 50.0) / 0.1; // -60 to -50 towards 0 with tau 20 ms
    assertEquals(10 + climbSteps, st[1] - st[0], 1.0);
  }

  @Test
  void poissonRatesAndIsiCv() {
    double dt = 0.1, rate = 20;
    Network net = new Network(dt, 99);
    PoissonGroup p = net.add(new PoissonGroup("p", 500));
    p.setRates(rate);
    SpikeMonitor m = net.add(new SpikeMonitor(p));
    double dur = 20000;
    net.run(dur, 2, null);
    double measured = m.count() / (500 * dur / 1000);
    double sd = Math.sqrt(rate * 500 * dur / 1000) / (500 * dur / 1000);
    assertEquals(rate, measured, 4 * sd);
    int[] idx = m.indices();
    double[] t = m.times();
    double[] last = new double[500];
    java.util.Arrays.fill(last, -1);
    double sum = 0, sum2 = 0;
    long k = 0;
    for (int s = 0; s < idx.length; s++) {
      int i = idx[s];
      if (last[i] >= 0) {
        double isi = t[s] - last[i];
        sum += isi;
        sum2 += isi * isi;
        k++;
      }
      last[i] = t[s];
    }
    double mean = sum / k, var = sum2 / k - mean * mean;
    double cv = Math.sqrt(var) / mean;
    // Bernoulli trials per step give CV = sqrt(1 - rate·dt) = 0.999 at 20 Hz, 0.1 ms.
    assertEquals(Math.sqrt(1 - rate * dt / 1000), cv, 0.02);
  }

  @Test
  void cobaLifSpikeBlockOutlastsTheHold() {
    // Strong drive: with t_ref 5 ms and t_block 50 ms, spikes come at least 50 ms apart,
    // and v integrates again 5 ms after each spike (it is above reset before the next spike).
    Network net = new Network(0.5, 1);
    CobaLif g = net.add(new CobaLif("e", 1, true));
    g.setParam("t_ref", 5);
    g.setParam("t_block", 50);
    g.setParam("v_rest", -40); // above threshold: fires as soon as allowed
    g.setParam("v_th", -52);
    g.setParam("v_reset", -65);
    g.var("v")[0] = -65;
    SpikeMonitor sm = net.add(new SpikeMonitor(g));
    StateMonitor vm = net.add(new StateMonitor(g, "v", new int[] {0}, 1));
    net.run(300, 1, null);
    int[] st = sm.steps();
    assertTrue(st.length >= 3, "fires repeatedly");
    for (int k = 1; k < st.length; k++) assertEquals(100, st[k] - st[k - 1], "50 ms apart at dt 0.5");
    float[] v = vm.trace(0);
    assertEquals(-65f, v[st[0] + 10], 0f, "held through the 5 ms refractory period");
    assertTrue(v[st[0] + 12] > -65f, "integrating again after it");
  }

  @Test
  void cobaLifForwardEulerStepByHand() {
    Network net = new Network(0.5, 1);
    CobaLif g = net.add(new CobaLif("e", 1, false));
    g.setParam("method", 1);
    g.setParam("tau_m", 100);
    g.setParam("tau_e", 1);
    g.setParam("tau_i", 2);
    g.setParam("v_th", 100);
    g.var("v")[0] = -60;
    g.var("ge")[0] = 0.3f;
    g.var("gi")[0] = 0.2f;
    net.runSteps(1, 1, null);
    double v0 = -60, e = 0.3f, i = 0.2f;
    double expected = v0 + 0.5 / 100 * ((-60 - v0) + e * (0 - v0) + i * (-80 - v0));
    assertEquals(expected, g.var("v")[0], 1e-5);
    assertEquals(0.3f * 0.5, g.var("ge")[0], 1e-7, "ge decays by 1 - dt/tau_e");
    assertEquals(0.2f * 0.75, g.var("gi")[0], 1e-7, "gi decays by 1 - dt/tau_i");
    var err = assertThrows(chive.core.sim.ChiveException.class, () -> g.setParam("tau_e", 0.4),
        "Euler with dt > tau is refused");
    assertTrue(err.getMessage().contains("tau_e 0.4"), err.getMessage());
    assertEquals(1.0, g.param("tau_e"), "the rejected value is rolled back");
  }

  @Test
  void cobaLifExponentialEulerStepByHand() {
    // Method 0: conductances held over the step, v relaxes exactly towards
    // v_inf = (v_rest + ge e_e + gi e_i) / (1 + ge + gi) with rate (1 + ge + gi) / tau_m.
    for (double[] c : new double[][] {{0.3, 0.2}, {40, 3}, {0, 0}, {1e-3, 0}}) {
      Network net = new Network(0.5, 1);
      CobaLif g = net.add(new CobaLif("e", 1, false));
      g.setParam("tau_m", 10);
      g.setParam("v_th", 100);
      g.var("v")[0] = -60;
      g.var("ge")[0] = (float) c[0];
      g.var("gi")[0] = (float) c[1];
      net.runSteps(1, 1, null);
      double e = (float) c[0], i = (float) c[1], gtot = 1 + e + i;
      double vinf = (-60 + e * 0 + i * -80) / gtot;
      double expected = vinf + (-60 - vinf) * Math.exp(-0.5 / 10 * gtot);
      assertEquals((float) expected, g.var("v")[0], Math.ulp((float) expected), "ge " + c[0] + ", gi " + c[1]);
    }
  }

  @Test
  void cobaLifSlowThetaDecaysAsItsEquationSays() {
    // Diehl & Cook's tau_theta = 1e7 ms at dt 0.5 ms: 5e-8 of theta per step, below
    // half a float ulp for theta in [16, 19) mV (a per-step decay rounds to none) and
    // about half an ulp in [19, 32) (it rounds to a whole ulp, twice the true decay).
    // And a fast tau_theta, decayed every step.
    for (double tau : new double[] {1e7, 100}) {
      Network net = new Network(0.5, 1);
      CobaLif g = net.add(new CobaLif("e", 4, true));
      g.setParam("tau_theta", tau);
      g.setParam("v_th", 1000); // never fires
      float[] theta0 = {17f, 18.5f, 20f, 25f};
      System.arraycopy(theta0, 0, g.var("theta"), 0, 4);
      int steps = tau > 1000 ? 100_000 : 97; // 50 s, and 48.5 ms
      net.runSteps(steps, 1, null);
      for (int i = 0; i < 4; i++) {
        double want = theta0[i] * Math.exp(-steps * 0.5 / tau), decay = theta0[i] - want;
        assertEquals(want, g.var("theta")[i], 0.01 * decay, "tau_theta " + tau + ", theta " + theta0[i] + " after " + steps + " steps");
      }
    }
  }

  @Test
  void cobaLifFloatStepTracksTheDoubleStep() {
    // The float kernel (SIMD or scalar) against the same exponential Euler step in
    // double precision, over 4000 steps of a neuron driven by excitatory and inhibitory
    // pulses: v within 2e-4 mV (a float ulp of v near -60 mV is 3.8e-6 mV).
    Network net = new Network(0.5, 1);
    CobaLif g = net.add(new CobaLif("e", 1, false));
    g.setParam("tau_m", 20);
    g.setParam("tau_e", 1);
    g.setParam("tau_i", 2);
    g.setParam("v_th", 1000);
    g.var("v")[0] = -60;
    net.run(0, 1, null);
    java.util.SplittableRandom r = new java.util.SplittableRandom(2);
    double v = -60, e = 0, i = 0, ae = Math.exp(-0.5), ai = Math.exp(-0.25), worst = 0;
    for (int s = 0; s < 4000; s++) {
      if (r.nextInt(10) == 0) {
        float de = (float) r.nextDouble(0, 3), di = r.nextInt(3) == 0 ? (float) r.nextDouble(0, 2) : 0f;
        g.var("ge")[0] += de;
        g.var("gi")[0] += di;
      }
      e = g.var("ge")[0];
      i = g.var("gi")[0];
      double gtot = 1 + e + i, vinf = (-60 + e * 0 + i * -80) / gtot;
      v = vinf + (v - vinf) * Math.exp(-0.5 / 20 * gtot);
      net.runSteps(1, 1, null);
      worst = Math.max(worst, Math.abs(v - g.var("v")[0]));
    }
    assertTrue(worst < 2e-4, "worst |v - v_double| " + worst + " mV");
    assertTrue(worst > 0, "float and double differ somewhere");
  }

  @Test
  void fastExpNegMatchesMathExp() {
    double worst = 0;
    for (int k = -1000; k <= 200_000; k++) {
      double x = k * 1e-5; // -0.01 .. 2, across the polynomial's edge at 0.25
      double rel = Math.abs(FastMath.expNeg(x) / Math.exp(-x) - 1);
      worst = Math.max(worst, rel);
    }
    assertTrue(worst < 5e-11, "worst relative error " + worst);
    assertEquals(0.0, FastMath.expNeg(Double.POSITIVE_INFINITY));
    assertTrue(Double.isNaN(FastMath.expNeg(Double.NaN)));
  }

  @Test
  void poissonRejectsBadRates() {
    Network net = new Network(0.1, 1);
    PoissonGroup p = net.add(new PoissonGroup("p", 3));
    var e = assertThrows(chive.core.sim.ChiveException.class, () -> p.setRates(1, Double.NaN, 2));
    assertTrue(e.getMessage().contains("neuron 1"), e.getMessage());
    assertThrows(chive.core.sim.ChiveException.class, () -> p.setRates(1, 2));
  }

  /**
   * The Poisson step draws only for neurons with a rate above 0 (a list made
   * before each run): against the plain rule over every neuron, u(seed, group,
   * i, step) &lt; rate_i·dt, with rates changed between runs (live array and
   * setRates), 1 to 3 threads and a group split at odd boundaries.
   */
  @Test
  void poissonActiveListGivesThePlainRulesSpikes() {
    for (int threads = 1; threads <= 3; threads++) {
      double dt = 0.5;
      Network net = new Network(dt, 7);
      PoissonGroup p = net.add(new PoissonGroup("p", 101));
      SpikeMonitor m = net.add(new SpikeMonitor(p));
      java.util.SplittableRandom r = new java.util.SplittableRandom(threads);
      float[][] rates = new float[3][101];
      for (int i = 0; i < 101; i++) {
        rates[0][i] = i % 3 == 0 ? 0f : (float) r.nextDouble(0, 400);
        rates[1][i] = 0f;
        rates[2][i] = i % 2 == 0 ? 1000f / (float) dt : (float) r.nextDouble(0, 50);
      }
      java.util.List<long[]> want = new java.util.ArrayList<>();
      long step = 0;
      for (float[] rs : rates) {
        System.arraycopy(rs, 0, p.var("rate"), 0, 101);
        net.run(200 * dt, threads, null);
        for (int k = 0; k < 200; k++, step++) {
          for (int i = 0; i < 101; i++) {
            if (rs[i] > 0 && Rng.uniform(7, p.id(), i, step) < rs[i] * (dt / 1000.0)) want.add(new long[] {step, i});
          }
        }
      }
      int[] idx = m.indices(), st = m.steps();
      java.util.List<long[]> got = new java.util.ArrayList<>();
      for (int k = 0; k < idx.length; k++) got.add(new long[] {st[k], idx[k]});
      java.util.Comparator<long[]> order = java.util.Comparator.<long[]>comparingLong(a -> a[0]).thenComparingLong(a -> a[1]);
      got.sort(order);
      want.sort(order);
      assertTrue(want.size() > 1000, "spikes: " + want.size());
      assertEquals(want.size(), got.size(), threads + " threads");
      for (int k = 0; k < want.size(); k++) assertArrayEquals(want.get(k), got.get(k), threads + " threads, spike " + k);
    }
  }
}
