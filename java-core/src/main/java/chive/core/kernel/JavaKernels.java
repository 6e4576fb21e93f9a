package chive.core.kernel;

/** Plain-Java GEMM: loops ordered so the innermost one runs along a row of C (vectorised by C2). */
final class JavaKernels implements Kernels {
  static final JavaKernels INSTANCE = new JavaKernels();

  @Override public String name() { return "java"; }

  @Override
  public void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int lda,
                    float[] b, int ldb, float beta, float[] c, int ldc) {
    for (int i = 0; i < m; i++) {
      int ci = i * ldc;
      if (beta == 0f) java.util.Arrays.fill(c, ci, ci + n, 0f);
      else if (beta != 1f) for (int j = 0; j < n; j++) c[ci + j] *= beta;
    }
    if (!tb) {
      for (int i = 0; i < m; i++) {
        int ci = i * ldc;
        for (int p = 0; p < k; p++) {
          float av = alpha * (ta ? a[p * lda + i] : a[i * lda + p]);
          if (av == 0f) continue;
          int bp = p * ldb;
          for (int j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
        }
      }
    } else {
      for (int i = 0; i < m; i++) {
        int ci = i * ldc;
        for (int j = 0; j < n; j++) {
          int bj = j * ldb;
          float s = 0f;
          if (!ta) {
            int ai = i * lda;
            for (int p = 0; p < k; p++) s += a[ai + p] * b[bj + p];
          } else {
            for (int p = 0; p < k; p++) s += a[p * lda + i] * b[bj + p];
          }
          c[ci + j] += alpha * s;
        }
      }
    }
  }
}
