package chive.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link RowOps} on SIMD lanes (JDK Vector API); each method covers the
 * first LANES·⌊(hi - lo)/LANES⌋ elements and returns where it stopped.
 * Only loaded when {@link Simd#ENABLED}.
 */
final class RowVector {
  private RowVector() {}

  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int LANES = F.length();

  static int add(float[] tgt, float[] w, int off, int lo, int hi) {
    int j = lo;
    for (; hi - j >= LANES; j += LANES) {
      FloatVector.fromArray(F, tgt, j).add(FloatVector.fromArray(F, w, j + off)).intoArray(tgt, j);
    }
    return j;
  }

  static int axpy(float[] y, int yOff, float[] x, int xOff, int n, float a) {
    int i = 0;
    for (; n - i >= LANES; i += LANES) {
      FloatVector.fromArray(F, y, yOff + i).add(FloatVector.fromArray(F, x, xOff + i).mul(a)).intoArray(y, yOff + i);
    }
    return i;
  }

  static int depress(float[] w, int off, float[] y, float a, float wMin, float wMax, int lo, int hi) {
    int j = lo;
    for (; hi - j >= LANES; j += LANES) {
      FloatVector wv = FloatVector.fromArray(F, w, j + off);
      wv.sub(FloatVector.fromArray(F, y, j).mul(a)).max(wMin).min(wMax).intoArray(w, j + off);
    }
    return j;
  }

  static int flushSubnormal(float[] a, int from, int to) {
    int i = from;
    for (; to - i >= LANES; i += LANES) {
      FloatVector v = FloatVector.fromArray(F, a, i);
      v.blend(0f, v.abs().lt(Float.MIN_NORMAL)).intoArray(a, i);
    }
    return i;
  }
}
