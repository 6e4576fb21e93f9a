package chive.core.model;

import chive.core.sim.Network;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * One Hodgkin-Huxley step of n neurons (the COBAHH cell), three ways:
 * "mathexp", the step as it was before issue 14 (10 Math.exp per neuron, kept
 * here as the reference); "scalar", HodgkinHuxley.stepScalar (FastExp, 8 exp);
 * "vector", HhVector.step (the same operations on SIMD lanes, bit-identical
 * to scalar). Run: bin/chive jmh HhStepBench
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class HhStepBench {
  @Param({"4000"}) int n;
  @Param({"mathexp", "scalar", "vector"}) String kernel;
  HodgkinHuxley g;
  float[] v0, m0, h0, n0;

  @Setup public void setup() {
    Network net = new Network(0.1, 1);
    g = net.add(new HodgkinHuxley("hh", n));
    net.run(0, 1, null);
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    for (int i = 0; i < n; i++) {
      g.v[i] = (float) (-70 + 20 * r.nextDouble());
      g.m[i] = (float) r.nextDouble(0, 0.2);
      g.h[i] = (float) r.nextDouble(0.4, 0.8);
      g.nn[i] = (float) r.nextDouble(0.2, 0.5);
      g.ge[i] = (float) r.nextDouble(0, 0.05);
      g.gi[i] = (float) r.nextDouble(0, 0.2);
    }
    v0 = g.v.clone(); m0 = g.m.clone(); h0 = g.h.clone(); n0 = g.nn.clone();
  }

  /** The same states every iteration (an HH network left to run drifts into other regimes). */
  @Setup(Level.Iteration) public void restore() {
    System.arraycopy(v0, 0, g.v, 0, n);
    System.arraycopy(m0, 0, g.m, 0, n);
    System.arraycopy(h0, 0, g.h, 0, n);
    System.arraycopy(n0, 0, g.nn, 0, n);
  }

  @Benchmark public float step() {
    switch (kernel) {
      case "mathexp": mathExp(g, 0, n); break;
      case "scalar": HodgkinHuxley.stepScalar(g, 0, n); break;
      default: HodgkinHuxley.stepScalar(g, HhVector.step(g, 0, n), n);
    }
    return g.v[0];
  }

  static double exprel(double x) {
    if (Math.abs(x) < 1e-4) return 1 + x * (0.5 + x * (1.0 / 6 + x / 24));
    return (Math.exp(x) - 1) / x;
  }

  static double gate(double x, double alpha, double beta, double dt) {
    double k = alpha + beta, inf = alpha / k;
    return inf + (x - inf) * Math.exp(-k * dt);
  }

  /** The step before issue 14 (commit b1cbc68 and earlier), without the threshold pass. */
  static void mathExp(HodgkinHuxley p, int from, int to) {
    final float[] v = p.v, m = p.m, h = p.h, nn = p.nn, ge = p.ge, gi = p.gi, iext = p.iext;
    final double dt = p.dt(), vt = p.vt, gna = p.gna, gkd = p.gkd, gl = p.gl, el = p.el, ee = p.ee, ei = p.ei;
    final double ena = p.ena, ek = p.ek, cm = p.cm, ae = p.ae, ai = p.ai, expM5 = Math.exp(-5);
    for (int i = from; i < to; i++) {
      double vi = v[i], mi = m[i], hi = h[i], ni = nn[i], e = ge[i], g = gi[i];
      double x = vi - vt;
      double am = 0.32 * 4 / exprel((13 - x) / 4);
      double y = (x - 40) / 5, z = -y - 5;
      double ey = Math.exp(y);
      double bm = 0.28 * 5 / (Math.abs(y) < 1e-4 ? exprel(y) : (ey - 1) / y);
      double ah = 0.128 * Math.exp((17 - x) / 18);
      double bh = 4 * ey / (ey + 1);
      double ez = expM5 / ey;
      double an = 0.032 * 5 / (Math.abs(z) < 1e-4 ? exprel(z) : (ez - 1) / z);
      double bn = 0.5 * Math.exp((10 - x) / 40);
      double gNa = gna * mi * mi * mi * hi;
      double n2 = ni * ni;
      double gK = gkd * n2 * n2;
      double gtot = gl + e + g + gNa + gK;
      double vinf = (gl * el + e * ee + g * ei + gNa * ena + gK * ek + iext[i]) / gtot;
      v[i] = (float) (vinf + (vi - vinf) * Math.exp(-gtot * dt / cm));
      m[i] = (float) gate(mi, am, bm, dt);
      h[i] = (float) gate(hi, ah, bh, dt);
      nn[i] = (float) gate(ni, an, bn, dt);
      ge[i] = (float) (e * ae);
      gi[i] = (float) (g * ai);
    }
  }
}
