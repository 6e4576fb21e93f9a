package chive.core.kernel;

/**
 * eˣ from additions, multiplications and bit operations only, so that a scalar
 * loop and a SIMD loop (the JDK Vector API) that perform the same operations in
 * the same order give bit-identical results, in the interpreter and in compiled
 * code alike. ({@code Math.exp} is an intrinsic whose SIMD counterpart, SVML's
 * exp, may differ from it in the last bit; a simulation that mixed the two
 * would depend on which code the JIT had installed.)
 *
 * <p>Method: Cody-Waite reduction x = k·ln2 + r with k = round(x·log₂e) (found
 * with the 1.5·2⁵² shift trick) and |r| ≤ ln2/2, r computed with ln2 split in
 * a 32-bit high part (k·ln2_hi is exact) and a low part; eʳ by its Taylor
 * polynomial of degree 12 (truncation error below 3e-16) in Horner form with
 * fused multiply-adds ({@code Math.fma}: exactly rounded, so the same in
 * scalar and SIMD code; an intrinsic on every x86-64 CPU since 2013 and on
 * every ARM64 one);
 * 2ᵏ built in the exponent bits. x is clamped to [-708, 709]: below, the
 * result is e⁻⁷⁰⁸ ≈ 3.3e-308 instead of a subnormal or 0; above, e⁷⁰⁹ ≈ 8.2e307
 * instead of +∞. NaN gives NaN.
 *
 * <p>Error bound (tested in FastExpTest against {@code Math.exp} and against
 * {@code StrictMath.exp}): relative error below 1e-15 (measured worst 3.3e-16) on [-708, 709]: far
 * below the float32 resolution (6e-8) of the state it serves.
 */
public final class FastExp {
  private FastExp() {}

  public static final double LOG2E = 1.4426950408889634;
  /** ln 2 split: LN2_HI has its low 21 bits zero, so k·LN2_HI is exact for |k| < 2²¹ (fdlibm's constants). */
  public static final double LN2_HI = 6.93147180369123816490e-01;
  public static final double LN2_LO = 1.90821492927058770002e-10;
  /** 1.5·2⁵²: x·log₂e + SHIFT rounds x·log₂e to the nearest integer in the low mantissa bits. */
  public static final double SHIFT = 0x1.8p52;
  public static final long SHIFT_BITS = Double.doubleToRawLongBits(SHIFT);
  public static final double MIN = -708.0, MAX = 709.0;
  /** 1/k! for k = 12 down to 2 (Horner order). */
  private static final double[] C = {
    1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
    1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5};

  /** A copy of the polynomial's coefficients, 1/k! for k = 12 down to 2 (Horner order), for SIMD forms of {@link #exp}. */
  public static double[] coefficients() {
    return C.clone();
  }

  /** eˣ within 1e-15 relative (see the class comment for the operations and the clamping). */
  public static double exp(double x) {
    x = Math.min(Math.max(x, MIN), MAX);
    double t = x * LOG2E + SHIFT;
    double k = t - SHIFT;
    double r = Math.fma(k, -LN2_HI, x);
    r = Math.fma(k, -LN2_LO, r);
    double p = C[0];
    for (int j = 1; j < C.length; j++) p = Math.fma(p, r, C[j]);
    p = Math.fma(p, r, 1.0);
    p = Math.fma(p, r, 1.0);
    // t's low mantissa bits hold k (SHIFT's low 51 bits are 0): the shift keeps
    // the 12 low bits of k + 1023, the biased exponent of 2^k, and drops the rest.
    long bits = (Double.doubleToRawLongBits(t) + 1023) << 52;
    return p * Double.longBitsToDouble(bits);
  }
}
