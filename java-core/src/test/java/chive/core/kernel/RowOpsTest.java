package chive.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** RowOps (SIMD lanes in the build) against plain loops of the same float operations, bit for bit. */
class RowOpsTest {
  private static float value(SplittableRandom r, int k) {
    return switch (k % 7) {
      case 0 -> Float.NaN;
      case 1 -> -0.0f;
      case 2 -> (float) r.nextDouble(-2, 3); // beyond the bounds [0, 1]
      case 3 -> 0f;
      default -> (float) r.nextDouble(0, 1);
    };
  }

  @Test
  void rowLoopsAreThePlainLoops() {
    assertTrue(Simd.ENABLED, "tests must run with --add-modules jdk.incubator.vector");
    SplittableRandom r = new SplittableRandom(9);
    for (int trial = 0; trial < 300; trial++) {
      int n = 1 + r.nextInt(150), off = r.nextInt(200);
      int lo = r.nextInt(n), hi = lo + r.nextInt(n - lo + 1);
      float[] tgt = new float[n], w = new float[n + off], y = new float[n];
      for (int j = 0; j < n; j++) { tgt[j] = value(r, r.nextInt(50)); y[j] = value(r, r.nextInt(50)); }
      for (int s = 0; s < w.length; s++) w[s] = value(r, r.nextInt(50));
      float[] t1 = tgt.clone(), w1 = w.clone();
      RowOps.add(t1, w, off, lo, hi);
      float[] t2 = tgt.clone();
      for (int j = lo; j < hi; j++) t2[j] += w[j + off];
      float a = (float) r.nextDouble(0, 0.1);
      RowOps.depress(w1, off, y, a, 0f, 1f, lo, hi);
      float[] w2 = w.clone();
      for (int j = lo; j < hi; j++) w2[j + off] = Math.min(1f, Math.max(0f, w2[j + off] - a * y[j]));
      for (int j = 0; j < n; j++) {
        assertEquals(Float.floatToRawIntBits(t2[j]), Float.floatToRawIntBits(t1[j]), "add, trial " + trial + ", j " + j);
      }
      for (int s = 0; s < w.length; s++) {
        assertEquals(Float.floatToRawIntBits(w2[s]), Float.floatToRawIntBits(w1[s]), "depress, trial " + trial + ", s " + s);
      }
    }
  }

  @Test
  void axpyIsThePlainLoop() {
    assertTrue(Simd.ENABLED, "tests must run with --add-modules jdk.incubator.vector");
    SplittableRandom r = new SplittableRandom(21);
    for (int trial = 0; trial < 400; trial++) {
      int n = r.nextInt(100), yOff = r.nextInt(40), xOff = r.nextInt(40);
      float[] y = new float[yOff + n + r.nextInt(20)], x = new float[xOff + n + r.nextInt(20)];
      for (int i = 0; i < y.length; i++) y[i] = value(r, r.nextInt(50)) * (float) r.nextDouble(-3, 3);
      for (int i = 0; i < x.length; i++) x[i] = value(r, r.nextInt(50)) * (float) r.nextDouble(-3, 3);
      float a = trial % 3 == 0 ? 1f : (float) r.nextDouble(-2, 2);
      float[] y1 = y.clone(), y2 = y.clone();
      RowOps.axpy(y1, yOff, x, xOff, n, a);
      for (int i = 0; i < n; i++) y2[yOff + i] += a * x[xOff + i];
      for (int i = 0; i < y.length; i++) {
        assertEquals(Float.floatToRawIntBits(y2[i]), Float.floatToRawIntBits(y1[i]), "axpy, trial " + trial + ", i " + i);
      }
    }
  }

  @Test
  void flushSubnormalIsThePlainLoop() {
    SplittableRandom r = new SplittableRandom(4);
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + r.nextInt(120), from = r.nextInt(n), to = from + r.nextInt(n - from + 1);
      float[] a = new float[n];
      for (int i = 0; i < n; i++) {
        a[i] = switch (r.nextInt(8)) {
          case 0 -> Float.MIN_VALUE * r.nextInt(1000) * (r.nextBoolean() ? 1 : -1); // subnormal
          case 1 -> Float.MIN_NORMAL * (r.nextBoolean() ? 1 : -1);
          case 2 -> -0.0f;
          case 3 -> Float.NaN;
          case 4 -> Math.nextDown(Float.MIN_NORMAL);
          default -> (float) r.nextDouble(-1, 1);
        };
      }
      float[] b = a.clone();
      RowOps.flushSubnormal(a, from, to);
      for (int i = from; i < to; i++) if (Math.abs(b[i]) < Float.MIN_NORMAL) b[i] = 0f;
      for (int i = 0; i < n; i++) {
        assertEquals(Float.floatToRawIntBits(b[i]), Float.floatToRawIntBits(a[i]), "trial " + trial + ", i " + i);
      }
    }
  }
}
