package chive.core.model;

import chive.core.sim.Network;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * One exponential-Euler COBA LIF step of n neurons (Diehl &amp; Cook's
 * excitatory cell, conductances in use), three ways: "double", the step as it
 * was before issue 14's second part (double arithmetic, FastMath.expNeg; kept
 * here as the reference); "scalar", CobaLif.stepFloat (float arithmetic,
 * FastExpF); "vector", CobaVector.integrate on float lanes plus the scalar tail
 * (bit-identical to scalar). Without the threshold scan, which all share;
 * with a vectorised add of input to ge, the same for all.
 * Run: bin/chive jmh CobaStepBench
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class CobaStepBench {
  @Param({"100", "400", "4000"}) int n;
  @Param({"double", "scalar", "vector"}) String kernel;
  CobaLif g;
  float[] v, ge, gi, iext, ref, v0, ge0, gi0;
  double k, expK, ae, ai;

  @Setup public void setup() {
    Network net = new Network(0.5, 1);
    g = net.add(new CobaLif("exc", n, true));
    g.setParam("tau_m", 100);
    g.setParam("tau_e", 1);
    g.setParam("tau_i", 2);
    g.setParam("v_rest", -65);
    g.setParam("v_reset", -65);
    g.setParam("v_th", -52);
    g.setParam("e_i", -100);
    net.run(0, 1, null);
    v = g.var("v"); ge = g.var("ge"); gi = g.var("gi"); iext = g.var("i_ext"); ref = g.refractoryCounters();
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextDouble(-80, -55);
      ge[i] = (float) r.nextDouble(0, 0.5);
      gi[i] = i % 4 == 0 ? (float) r.nextDouble(0, 2) : 0f;
    }
    v0 = v.clone(); ge0 = ge.clone(); gi0 = gi.clone();
    k = 0.5 / 100; expK = Math.exp(-k); ae = Math.exp(-0.5 / 1); ai = Math.exp(-0.5 / 2);
  }

  /** The same states every iteration. */
  @Setup(Level.Iteration) public void restore() {
    System.arraycopy(v0, 0, v, 0, n);
    System.arraycopy(ge0, 0, ge, 0, n);
    System.arraycopy(gi0, 0, gi, 0, n);
  }

  /**
   * A step, after input to every neuron's ge (0.3, Diehl &amp; Cook-sized; the
   * same for every kernel): without it conductances decay to 0 and the double
   * loop takes its cheap branch, as it does only between stimuli.
   */
  @Benchmark public float step() {
    for (int i = 0; i < n; i++) ge[i] += 0.3f;
    switch (kernel) {
      case "double": stepDouble(); break;
      case "scalar": g.stepFloat(0, n); break;
      default: g.stepFloat(CobaVector.integrate(g, v, ge, gi, iext, ref, 0, n), n);
    }
    return v[0];
  }

  /** The loop before issue 14's second part (commit 63c847e), without the threshold test. */
  void stepDouble() {
    final double vRest = -65, ee = 0, ei = -100, rm = 1;
    for (int i = 0; i < n; i++) {
      double e = ge[i], gg = gi[i];
      float ne = (float) (e * ae), ng = (float) (gg * ai);
      ge[i] = Math.abs(ne) < CobaLif.G_FLUSH ? 0f : ne;
      gi[i] = Math.abs(ng) < CobaLif.G_FLUSH ? 0f : ng;
      float c = Math.max(ref[i] - 1f, 0f);
      ref[i] = c;
      if (c > 0) continue;
      double vi = v[i], vn;
      if (e == 0 && gg == 0) {
        double vinf = vRest + rm * iext[i];
        vn = vinf + (vi - vinf) * expK;
      } else {
        double gtot = 1 + e + gg;
        double vinf = (vRest + e * ee + gg * ei + rm * iext[i]) / gtot;
        vn = vinf + (vi - vinf) * (expK * FastMath.expNeg(k * (e + gg)));
      }
      v[i] = (float) vn;
    }
  }
}
