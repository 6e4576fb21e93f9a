package chive.core.model;

import chive.core.kernel.FastExpF;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link CobaLif#stepFloat} on SIMD lanes (the JDK Vector API, incubator
 * module {@code jdk.incubator.vector}): the same float operations in the same
 * order on each lane, so the results are bit-identical to the scalar loop
 * (CobaVectorTest checks it). Float lanes throughout: the JDK 17 Vector API
 * does not compile float-to-double lane conversions to SIMD instructions, and
 * a kernel that converted would be no faster than the scalar loop. Only loaded
 * when that module is in the boot layer ({@link CobaLif#VECTOR}).
 */
final class CobaVector {
  private CobaVector() {}

  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int LANES = F.length();
  private static final float[] C = FastExpF.coefficients();

  /**
   * Steps neurons [from, from + LANES·⌊(to-from)/LANES⌋) and appends those
   * that spike to {@code spikes} (ascending; their refractory counters set),
   * returning how many. Two loops, so that C2 keeps each within its inlining
   * budget (one loop holding both pushed {@link #exp} out of line, boxing its
   * vectors: measured 10 % of a Diehl &amp; Cook run in the Vector API's
   * fallback code).
   */
  static int step(CobaLif p, float[] v, float[] ge, float[] gi, float[] iext, float[] ref, float[] theta,
                  int from, int to, int[] spikes) {
    int end = integrate(p, v, ge, gi, iext, ref, from, to);
    return spikes(p, v, ref, theta, from, end, spikes);
  }

  /** The exponential Euler step of neurons [from, from + LANES·⌊(to-from)/LANES⌋); returns where it stopped. */
  static int integrate(CobaLif p, float[] v, float[] ge, float[] gi, float[] iext, float[] ref, int from, int to) {
    final float ae = p.aeF, ai = p.aiF, negK = p.negKF, vRest = p.vRestF, ee = p.eeF, ei = p.eiF, rm = p.rmF,
        expK = p.expKF, held = p.heldF;
    int i = from;
    for (; to - i >= LANES; i += LANES) {
      FloatVector e = FloatVector.fromArray(F, ge, i), g = FloatVector.fromArray(F, gi, i);
      FloatVector ne = e.mul(ae), ng = g.mul(ai);
      ne.blend(0f, ne.abs().lt(CobaLif.G_FLUSH)).intoArray(ge, i);
      ng.blend(0f, ng.abs().lt(CobaLif.G_FLUSH)).intoArray(gi, i);
      FloatVector c = FloatVector.fromArray(F, ref, i).sub(1f).max(0f);
      c.intoArray(ref, i);
      FloatVector vi = FloatVector.fromArray(F, v, i);
      FloatVector gs = e.add(g);
      FloatVector num = e.mul(ee).add(vRest).add(g.mul(ei)).add(FloatVector.fromArray(F, iext, i).mul(rm));
      FloatVector vinf = num.div(gs.add(1f));
      FloatVector f = exp(gs.mul(negK)).mul(expK);
      FloatVector vn = vi.sub(vinf).mul(f).add(vinf);
      vn.blend(vi, c.compare(VectorOperators.GT, held)).intoArray(v, i);
    }
    return i;
  }

  /**
   * The spikes among neurons [from, end) (end - from a multiple of LANES),
   * after {@link #integrate}: CobaLif's test, v &gt; v_th + theta in double
   * precision with the refractory counter at 0, evaluated per lane only where
   * a float pre-test says it can hold: v - t &gt; 0 for some lane, with t a
   * float below v_th + theta (the largest float not above v_th, plus theta,
   * less 2^-22 of its magnitude, which covers the float addition's rounding).
   * v &gt; v_th + theta implies v &gt; t, so no spike is missed, and a NaN lane
   * also falls to the exact test. Spiking neurons get their refractory count.
   */
  static int spikes(CobaLif p, float[] v, float[] ref, float[] theta, int from, int end, int[] spikes) {
    final float thLo = p.vThLoF, refr = p.refrF;
    final double vTh = p.vThEff;
    final FloatVector thConst = FloatVector.broadcast(F, thLo);
    int count = 0;
    for (int i = from; i < end; i += LANES) {
      FloatVector c = FloatVector.fromArray(F, ref, i);
      FloatVector t = theta == null ? thConst : FloatVector.fromArray(F, theta, i).add(thLo);
      t = t.sub(t.abs().mul(0x1p-22f));
      float m = FloatVector.fromArray(F, v, i).sub(t).blend(-1f, c.compare(VectorOperators.GT, 0f))
          .reduceLanes(VectorOperators.MAX);
      if (!(m <= 0f)) {
        for (int l = i, e = i + LANES; l < e; l++) {
          if (ref[l] == 0f && v[l] > vTh + (theta != null ? theta[l] : 0)) {
            spikes[count++] = l;
            ref[l] = refr;
          }
        }
      }
    }
    return count;
  }

  /** {@link FastExpF#exp} on every lane. */
  static FloatVector exp(FloatVector x) {
    x = x.max(FastExpF.MIN).min(FastExpF.MAX);
    FloatVector t = x.mul(FastExpF.LOG2E).add(FastExpF.SHIFT);
    FloatVector k = t.sub(FastExpF.SHIFT);
    FloatVector r = k.fma(FloatVector.broadcast(F, -FastExpF.LN2_HI), x);
    r = k.fma(FloatVector.broadcast(F, -FastExpF.LN2_LO), r);
    float[] c = C;
    FloatVector p = FloatVector.broadcast(F, c[0]);
    p = p.fma(r, FloatVector.broadcast(F, c[1]));
    p = p.fma(r, FloatVector.broadcast(F, c[2]));
    p = p.fma(r, FloatVector.broadcast(F, c[3]));
    p = p.fma(r, FloatVector.broadcast(F, c[4]));
    p = p.fma(r, FloatVector.broadcast(F, c[5]));
    FloatVector one = FloatVector.broadcast(F, 1f);
    p = p.fma(r, one);
    p = p.fma(r, one);
    IntVector bits = ((IntVector) t.reinterpretAsInts()).add(127).lanewise(VectorOperators.LSHL, 23);
    return p.mul(bits.reinterpretAsFloats());
  }
}
