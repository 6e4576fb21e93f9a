package chive.core.kernel;

/**
 * The dense linear-algebra kernels behind the learning code: row-major
 * single-precision GEMM. {@link #java()} is plain Java (always available, the
 * reference); {@link #openblas()} calls OpenBLAS's cblas_sgemm through JavaCPP.
 * This interface is where Neanderthal (Clojars only, unreachable from our
 * build machines) would plug in.
 */
public interface Kernels {
  String name();

  /**
   * C = alpha·op(A)·op(B) + beta·C, all row-major; op(A) is m×k, op(B) k×n,
   * C m×n; ta/tb transpose A/B (A then stored k×m, B n×k).
   */
  void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int lda,
             float[] b, int ldb, float beta, float[] c, int ldc);

  static Kernels java() { return JavaKernels.INSTANCE; }

  /** OpenBLAS; throws {@link chive.core.sim.ChiveException} naming the cause if the native library cannot load. */
  static Kernels openblas() { return OpenBlasKernels.instance(); }

  /** "java", "openblas" or "auto" (OpenBLAS when it loads, else Java). */
  static Kernels named(String name) {
    switch (name) {
      case "java": return java();
      case "openblas": return openblas();
      case "auto": return OpenBlasKernels.available() ? openblas() : java();
      default: throw new chive.core.sim.ChiveException("unknown kernels '" + name + "' (java, openblas, auto)");
    }
  }
}
