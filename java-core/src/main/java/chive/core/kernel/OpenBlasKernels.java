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

  /**
   * Native copies of the operands, one set per thread, grown as needed. A
   * float[] handed to JavaCPP directly is copied whole, in and out, through
   * JNI's Get/ReleaseFloatArrayElements, into memory malloc'd per call: for
   * the learning code's buffers (grown to the largest group seen, often
   * several times what one call reads) that cost more than the product and
   * page-faulted the process. Here only the elements a call reads are
   * copied in (C only when beta != 0 or its rows are strided, so the gaps
   * between rows come back unchanged) and only C's block is copied out.
   */
  private static final class Scratch {
    org.bytedeco.javacpp.FloatPointer a, b, c;
  }

  private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

  private static org.bytedeco.javacpp.FloatPointer ensure(org.bytedeco.javacpp.FloatPointer p, long n) {
    if (p != null && p.capacity() >= n) return p.position(0);
    if (p != null) p.close();
    // Room to grow a little, so sizes that creep up do not reallocate every call.
    return new org.bytedeco.javacpp.FloatPointer(Math.max(n, n + (n >> 3)));
  }

  /** The elements a rows × cols block with leading dimension ld spans. */
  private static long extent(int rows, int cols, int ld, String name, float[] x) {
    long e = (long) (rows - 1) * ld + cols;
    if (ld < cols) throw new ChiveException("sgemm: leading dimension of " + name + " is " + ld + ", less than its " + cols + " columns");
    if (x.length < e) throw new ChiveException("sgemm: " + name + " has " + x.length + " elements, a " + rows + " x " + cols + " block with leading dimension " + ld + " needs " + e);
    return e;
  }

  @Override
  public void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int lda,
                    float[] b, int ldb, float beta, float[] c, int ldc) {
    if (m == 0 || n == 0) return;
    long ec = extent(m, n, ldc, "C", c);
    if (k == 0 || alpha == 0f) {
      // Nothing of A or B is read: C = beta·C here, as BLAS defines it.
      for (int i = 0; i < m; i++) for (int j = 0, o = i * ldc; j < n; j++) c[o + j] = beta == 0f ? 0f : beta * c[o + j];
      return;
    }
    long ea = ta ? extent(k, m, lda, "A", a) : extent(m, k, lda, "A", a);
    long eb = tb ? extent(n, k, ldb, "B", b) : extent(k, n, ldb, "B", b);
    Scratch s = scratch.get();
    s.a = ensure(s.a, ea);
    s.b = ensure(s.b, eb);
    s.c = ensure(s.c, ec);
    s.a.put(a, 0, (int) ea);
    s.b.put(b, 0, (int) eb);
    if (beta != 0f || ldc != n) s.c.put(c, 0, (int) ec);
    org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm(
        org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor,
        ta ? org.bytedeco.openblas.global.openblas_nolapack.CblasTrans : org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans,
        tb ? org.bytedeco.openblas.global.openblas_nolapack.CblasTrans : org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans,
        m, n, k, alpha, s.a, lda, s.b, ldb, beta, s.c, ldc);
    s.c.get(c, 0, (int) ec);
  }
}
