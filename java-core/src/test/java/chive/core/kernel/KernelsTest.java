package chive.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every GEMM kernel against a plain triple loop in double precision, for
 * every combination of transposes, leading dimensions larger than the
 * matrices (strided rows), alpha and beta (0, 1 and others), and awkward sizes.
 * Elements outside the m x n block of C must be left untouched.
 */
class KernelsTest {

  static void naive(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int lda,
                    float[] b, int ldb, float beta, double[] c, int ldc) {
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int p = 0; p < k; p++) {
          double av = ta ? a[p * lda + i] : a[i * lda + p];
          double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
          s += av * bv;
        }
        c[i * ldc + j] = alpha * s + (beta == 0f ? 0 : beta * c[i * ldc + j]);
      }
    }
  }

  static float[] random(int len, SplittableRandom r) {
    float[] x = new float[len];
    for (int i = 0; i < len; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
    return x;
  }

  @Test
  void everyKernelMatchesTheTripleLoopForEveryLayout() {
    SplittableRandom r = new SplittableRandom(11);
    int[][] sizes = {{1, 1, 1}, {3, 5, 7}, {17, 1, 9}, {1, 13, 4}, {33, 29, 65}, {8, 8, 1}};
    float[][] alphaBeta = {{1f, 0f}, {1f, 1f}, {0.5f, -2f}, {-1.5f, 0.25f}, {0f, 1f}};
    int cases = 0;
    for (Kernels kern : new Kernels[] {Kernels.java(), Kernels.named("auto")}) {
      for (int[] sz : sizes) {
        int m = sz[0], n = sz[1], k = sz[2];
        for (boolean ta : new boolean[] {false, true}) {
          for (boolean tb : new boolean[] {false, true}) {
            for (int pad : new int[] {0, 3}) {
              for (float[] ab : alphaBeta) {
                int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
                float[] a = random((ta ? k : m) * lda, r), b = random((tb ? n : k) * ldb, r);
                float[] c = random(m * ldc, r);
                double[] want = new double[c.length];
                for (int i = 0; i < c.length; i++) want[i] = c[i];
                naive(ta, tb, m, n, k, ab[0], a, lda, b, ldb, ab[1], want, ldc);
                float[] before = c.clone();
                kern.sgemm(ta, tb, m, n, k, ab[0], a, lda, b, ldb, ab[1], c, ldc);
                String what = kern.name() + " ta " + ta + " tb " + tb + " m " + m + " n " + n + " k " + k + " pad " + pad
                    + " alpha " + ab[0] + " beta " + ab[1];
                for (int i = 0; i < m; i++) {
                  for (int j = 0; j < ldc; j++) {
                    int q = i * ldc + j;
                    if (j < n) assertEquals(want[q], c[q], 1e-5 * (1 + Math.abs(want[q]) + k), what + " at (" + i + ", " + j + ")");
                    else assertEquals(before[q], c[q], 0f, what + ": padding of C left alone at (" + i + ", " + j + ")");
                  }
                }
                cases++;
              }
            }
          }
        }
      }
    }
    assertTrue(cases == 2 * 6 * 4 * 2 * 5, "every case ran: " + cases);
  }

  /**
   * The learning code hands the kernels buffers longer than the matrices
   * (grown to the largest group seen) and calls them from several threads:
   * OpenBLAS copies only the blocks through per-thread native buffers, so
   * the tail of every array is untouched, results do not mix between
   * threads, and sizes that shrink and grow again on one thread stay right.
   */
  @Test
  void oversizedBuffersManyThreadsAndChangingSizes() throws Exception {
    Kernels kern = Kernels.named("auto");
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
    try {
      java.util.List<java.util.concurrent.Future<Integer>> fs = new java.util.ArrayList<>();
      for (int t = 0; t < 3; t++) {
        final int seed = 100 + t;
        fs.add(pool.submit(() -> {
          SplittableRandom r = new SplittableRandom(seed);
          int checked = 0;
          for (int call = 0; call < 40; call++) {
            int m = 1 + r.nextInt(40), n = 1 + r.nextInt(300), k = 1 + r.nextInt(50);
            boolean ta = r.nextBoolean(), tb = r.nextBoolean();
            float beta = call % 3 == 0 ? 0f : 0.5f;
            int lda = ta ? m : k, ldb = tb ? k : n, ldc = n;
            int extra = 1 + r.nextInt(5000);
            float[] a = random((ta ? k : m) * lda + extra, r), b = random((tb ? n : k) * ldb + extra, r), c = random(m * ldc + extra, r);
            double[] want = new double[c.length];
            for (int i = 0; i < c.length; i++) want[i] = c[i];
            naive(ta, tb, m, n, k, 1.25f, a, lda, b, ldb, beta, want, ldc);
            float[] before = c.clone();
            kern.sgemm(ta, tb, m, n, k, 1.25f, a, lda, b, ldb, beta, c, ldc);
            for (int i = 0; i < c.length; i++) {
              if (i < m * ldc) assertEquals(want[i], c[i], 1e-5 * (1 + Math.abs(want[i]) + k), kern.name() + " call " + call + " at " + i);
              else assertEquals(before[i], c[i], 0f, kern.name() + " call " + call + ": element " + i + " past C's block left alone");
            }
            checked++;
          }
          return checked;
        }));
      }
      for (java.util.concurrent.Future<Integer> f : fs) assertEquals(40, f.get());
    } finally {
      pool.shutdownNow();
    }
    float[] small = new float[5];
    chive.core.sim.ChiveException e = org.junit.jupiter.api.Assertions.assertThrows(chive.core.sim.ChiveException.class,
        () -> Kernels.openblas().sgemm(false, false, 2, 3, 4, 1f, small, 4, new float[12], 3, 0f, new float[6], 3));
    assertTrue(e.getMessage().contains("A has 5 elements") && e.getMessage().contains("needs 8"), e.getMessage());
  }
}
