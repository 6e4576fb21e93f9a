package chive.core.kernel;

import chive.core.sim.ChiveException;

/**
 * cblas_sgemm from OpenBLAS (org.bytedeco:openblas through JavaCPP). The
 * native library is loaded on first use; OpenBLAS's own threads are set to 1
 * because chive splits a batch over its own threads.
 */
final class OpenBlasKernels implements Kernels {
  private static volatile OpenBlasKernels instance;
  private static volatile Throwable failure;

  static boolean available() {
    try { instance(); return true; } catch (ChiveException e) { return false; }
  }

  static OpenBlasKernels instance() {
    if (instance == null) {
      synchronized (OpenBlasKernels.class) {
        if (instance == null && failure == null) {
          try {
            org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
            org.bytedeco.openblas.global.openblas_nolapack.blas_set_num_threads(1);
            instance = new OpenBlasKernels();
          } catch (Throwable t) {
            failure = t;
          }
        }
      }
    }
    if (instance == null) {
      throw new ChiveException("OpenBLAS (org.bytedeco:openblas, linux-x86_64) could not be loaded: " + failure
          + "; use the java kernels instead");
    }
    return instance;
  }

  @Override public String name() { return "openblas"; }

  @Override
  public void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int lda,
                    float[] b, int ldb, float beta, float[] c, int ldc) {
    if (m == 0 || n == 0) return;
    org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm(
        org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor,
        ta ? org.bytedeco.openblas.global.openblas_nolapack.CblasTrans : org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans,
        tb ? org.bytedeco.openblas.global.openblas_nolapack.CblasTrans : org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans,
        m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}
