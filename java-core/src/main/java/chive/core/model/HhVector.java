package chive.core.model;

import chive.core.kernel.FastExp;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Hodgkin-Huxley step of {@link HodgkinHuxley#stepScalar} on SIMD lanes
 * (the JDK Vector API, incubator module {@code jdk.incubator.vector}): the same
 * operations in the same order on each lane, so the results are bit-identical
 * to the scalar loop (HhVectorTest checks it). Only loaded when that module is
 * in the boot layer ({@link HodgkinHuxley#VECTOR}).
 */
final class HhVector {
  private HhVector() {}

  static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
  static final int LANES = D.length();

  /**
   * Neurons per chunk. The step runs over a chunk as a sequence of short
   * passes over double scratch arrays (one set per thread): arithmetic passes
   * that write the arguments of the exponentials, passes that each take one
   * exponential of one array, and passes that use them. Each pass is a loop
   * small enough for C2 to inline every Vector API call: one loop holding the
   * whole step (8 exponentials) exceeds its node budget, and its vectors are
   * then boxed, 4x slower than the scalar loop. The passes are called through
   * one interface call site with many receivers, which C2 never inlines, so
   * each is compiled on its own whatever order the JIT meets them in.
   */
  static final int CHUNK = Math.max(LANES, 64 / LANES * LANES);

  static final class Scratch {
    final double[] v = a(), m = a(), h = a(), n = a(), e = a(), g = a(), i = a();
    final double[] za = a(), y = a(), xh = a(), xn = a(), eza = a(), ey = a(), eh = a(), en = a();
    final double[] am = a(), bm = a(), ah = a(), bh = a(), an = a(), bn = a();
    final double[] qm = a(), qh = a(), qn = a(), qv = a(), vinf = a();

    private static double[] a() {
      return new double[CHUNK];
    }
  }

  interface Pass {
    void run(HodgkinHuxley p, Scratch s, int len);
  }

  private static final Pass[] PASSES = {
    HhVector::arguments,
    (p, s, len) -> expOf(s.za, s.eza, len),
    (p, s, len) -> expOf(s.y, s.ey, len),
    (p, s, len) -> expOf(s.xh, s.eh, len),
    (p, s, len) -> expOf(s.xn, s.en, len),
    HhVector::ratesM,
    HhVector::ratesHN,
    HhVector::conductances,
    (p, s, len) -> expOf(s.qm, s.qm, len),
    (p, s, len) -> expOf(s.qh, s.qh, len),
    (p, s, len) -> expOf(s.qn, s.qn, len),
    (p, s, len) -> expOf(s.qv, s.qv, len),
    HhVector::relax,
  };

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  /** FastExp's polynomial coefficients (a private copy). */
  private static final double[] C = FastExp.coefficients();

  static DoubleVector at(double[] a, int i) {
    return DoubleVector.fromArray(D, a, i);
  }

  /** {@link FastExp#exp} on every lane. */
  static DoubleVector exp(DoubleVector x) {
    x = x.max(FastExp.MIN).min(FastExp.MAX);
    DoubleVector t = x.mul(FastExp.LOG2E).add(FastExp.SHIFT);
    DoubleVector k = t.sub(FastExp.SHIFT);
    DoubleVector r = k.fma(DoubleVector.broadcast(D, -FastExp.LN2_HI), x);
    r = k.fma(DoubleVector.broadcast(D, -FastExp.LN2_LO), r);
    DoubleVector p = poly(r);
    LongVector bits = ((LongVector) t.reinterpretAsLongs()).add(1023L).lanewise(VectorOperators.LSHL, 52L);
    return p.mul(bits.reinterpretAsDoubles());
  }

  /**
   * eʳ's polynomial, Horner with fused multiply-adds (FastExp's, unrolled: C2
   * keeps vectors in registers through straight-line code). A method of its
   * own because C2 inlines no hot method over 325 bytecodes (FreqInlineSize):
   * an exp that size would be called with boxed vectors.
   */
  static DoubleVector poly(DoubleVector r) {
    double[] c = C;
    DoubleVector p = DoubleVector.broadcast(D, c[0]);
    p = p.fma(r, DoubleVector.broadcast(D, c[1]));
    p = p.fma(r, DoubleVector.broadcast(D, c[2]));
    p = p.fma(r, DoubleVector.broadcast(D, c[3]));
    p = p.fma(r, DoubleVector.broadcast(D, c[4]));
    p = p.fma(r, DoubleVector.broadcast(D, c[5]));
    p = p.fma(r, DoubleVector.broadcast(D, c[6]));
    p = p.fma(r, DoubleVector.broadcast(D, c[7]));
    p = p.fma(r, DoubleVector.broadcast(D, c[8]));
    p = p.fma(r, DoubleVector.broadcast(D, c[9]));
    p = p.fma(r, DoubleVector.broadcast(D, c[10]));
    DoubleVector one = DoubleVector.broadcast(D, 1.0);
    p = p.fma(r, one);
    p = p.fma(r, one);
    return p;
  }

  /** {@link HodgkinHuxley#ratio}: c·num/den with the exprel series near 0. */
  static DoubleVector ratio(double c, DoubleVector z, DoubleVector num, DoubleVector den) {
    VectorMask<Double> small = z.abs().lt(HodgkinHuxley.SMALL);
    DoubleVector series = z.mul(1.0 / 24).add(1.0 / 6).mul(z).add(0.5).mul(z).add(1.0);
    num = num.blend(1.0, small);
    den = den.blend(series, small);
    return num.mul(c).div(den);
  }

  /** Steps neurons [from, from + LANES·⌊(to-from)/LANES⌋) and returns where it stopped. */
  static int step(HodgkinHuxley p, int from, int to) {
    Scratch s = SCRATCH.get();
    int i = from;
    while (to - i >= LANES) {
      int len = Math.min(CHUNK, (to - i) / LANES * LANES);
      toDouble(p, s, i, len);
      for (Pass q : PASSES) q.run(p, s, len);
      toFloat(p, s, i, len);
      i += len;
    }
    return i;
  }

  private static void expOf(double[] in, double[] out, int len) {
    for (int k = 0; k < len; k += LANES) exp(at(in, k)).intoArray(out, k);
  }

  private static void toDouble(HodgkinHuxley p, Scratch s, int at, int len) {
    float[] v = p.v, m = p.m, h = p.h, n = p.nn, e = p.ge, g = p.gi, c = p.iext;
    for (int k = 0; k < len; k++) {
      s.v[k] = v[at + k];
      s.m[k] = m[at + k];
      s.h[k] = h[at + k];
      s.n[k] = n[at + k];
      s.e[k] = e[at + k];
      s.g[k] = g[at + k];
      s.i[k] = c[at + k];
    }
  }

  /** The exponents of the rate functions, from x = v - v_t. */
  private static void arguments(HodgkinHuxley p, Scratch s, int len) {
    final double vt = p.vt;
    for (int k = 0; k < len; k += LANES) {
      DoubleVector x = at(s.v, k).sub(vt);
      x.neg().add(13).mul(0.25).intoArray(s.za, k);
      x.sub(40).mul(0.2).intoArray(s.y, k);
      x.neg().add(17).mul(1.0 / 18).intoArray(s.xh, k);
      x.neg().add(10).mul(0.025).intoArray(s.xn, k);
    }
  }

  /** alpha_m, beta_m. */
  private static void ratesM(HodgkinHuxley p, Scratch s, int len) {
    for (int k = 0; k < len; k += LANES) {
      DoubleVector za = at(s.za, k), y = at(s.y, k);
      ratio(1.28, za, za, at(s.eza, k).sub(1.0)).intoArray(s.am, k);
      ratio(1.4, y, y, at(s.ey, k).sub(1.0)).intoArray(s.bm, k);
    }
  }

  /** alpha_h, beta_h, alpha_n, beta_n. */
  private static void ratesHN(HodgkinHuxley p, Scratch s, int len) {
    for (int k = 0; k < len; k += LANES) {
      DoubleVector y = at(s.y, k), ey = at(s.ey, k);
      at(s.eh, k).mul(0.128).intoArray(s.ah, k);
      ey.mul(4).div(ey.add(1.0)).intoArray(s.bh, k);
      DoubleVector z = y.neg().sub(5);
      ratio(0.16, z, z.mul(ey), ey.neg().add(HodgkinHuxley.EXP_M5)).intoArray(s.an, k);
      at(s.en, k).mul(0.5).intoArray(s.bn, k);
    }
  }

  /** v_inf and the exponents of the relaxations: -(alpha+beta)·dt per gate, -g_total·dt/c_m for v. */
  private static void conductances(HodgkinHuxley p, Scratch s, int len) {
    final double gl = p.gl, glel = p.gl * p.el, ee = p.ee, ei = p.ei, ena = p.ena, ek = p.ek;
    final double gna = p.gna, gkd = p.gkd, dtcm = p.dtOverCm, dt = p.dt();
    for (int k = 0; k < len; k += LANES) {
      DoubleVector m = at(s.m, k), h = at(s.h, k), n = at(s.n, k), e = at(s.e, k), g = at(s.g, k);
      DoubleVector gNa = m.mul(m).mul(m).mul(h).mul(gna);
      DoubleVector n2 = n.mul(n);
      DoubleVector gK = n2.mul(n2).mul(gkd);
      DoubleVector gtot = e.add(gl).add(g).add(gNa).add(gK);
      DoubleVector num = e.mul(ee).add(glel).add(g.mul(ei)).add(gNa.mul(ena)).add(gK.mul(ek)).add(at(s.i, k));
      num.div(gtot).intoArray(s.vinf, k);
      gtot.mul(-dtcm).intoArray(s.qv, k);
      at(s.am, k).add(at(s.bm, k)).mul(-dt).intoArray(s.qm, k);
      at(s.ah, k).add(at(s.bh, k)).mul(-dt).intoArray(s.qh, k);
      at(s.an, k).add(at(s.bn, k)).mul(-dt).intoArray(s.qn, k);
    }
  }

  /** Every variable relaxes towards its steady state: (a + (x·k - a)·e^(-k·dt))/k for the gates. */
  private static void relax(HodgkinHuxley p, Scratch s, int len) {
    for (int k = 0; k < len; k += LANES) {
      relaxGate(s.m, s.am, s.bm, s.qm, k);
      relaxGate(s.h, s.ah, s.bh, s.qh, k);
      relaxGate(s.n, s.an, s.bn, s.qn, k);
      DoubleVector vinf = at(s.vinf, k);
      at(s.v, k).sub(vinf).mul(at(s.qv, k)).add(vinf).intoArray(s.v, k);
    }
  }

  private static void relaxGate(double[] x, double[] a, double[] b, double[] ek, int k) {
    DoubleVector av = at(a, k);
    DoubleVector kk = av.add(at(b, k));
    at(x, k).mul(kk).sub(av).mul(at(ek, k)).add(av).div(kk).intoArray(x, k);
  }

  private static void toFloat(HodgkinHuxley p, Scratch s, int at, int len) {
    float[] v = p.v, m = p.m, h = p.h, n = p.nn, e = p.ge, g = p.gi;
    final double ae = p.ae, ai = p.ai;
    for (int k = 0; k < len; k++) {
      v[at + k] = (float) s.v[k];
      m[at + k] = (float) s.m[k];
      h[at + k] = (float) s.h[k];
      n[at + k] = (float) s.n[k];
      e[at + k] = (float) (s.e[k] * ae);
      g[at + k] = (float) (s.g[k] * ai);
    }
  }
}
