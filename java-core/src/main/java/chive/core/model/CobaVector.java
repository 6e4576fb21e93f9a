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

  /** Steps neurons [from, from + LANES·⌊(to-from)/LANES⌋) and returns where it stopped. */
  static int step(CobaLif p, float[] v, float[] ge, float[] gi, float[] iext, float[] ref, int from, int to) {
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
