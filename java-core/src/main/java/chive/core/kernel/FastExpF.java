package chive.core.kernel;

/**
 * eˣ in float arithmetic from multiplications, fused multiply-adds and bit
 * operations only: {@link FastExp}'s method with float constants, so a scalar
 * loop and a SIMD loop that perform the same operations in the same order give
 * bit-identical results (CobaVector relies on it).
 *
 * <p>Method: x = k·ln2 + r with k = round(x·log₂e) (the 1.5·2²³ shift trick),
 * |r| ≤ ln2/2 computed with ln2 split in a high part whose low 9 bits are zero
 * (k·LN2_HI is exact for |k| &lt; 2⁹, and |k| ≤ 127 here) and a low part; eʳ by its Taylor
 * polynomial of degree 7 (truncation below 6e-9) in Horner form with fused
 * multiply-adds; 2ᵏ built in the exponent bits. x is clamped to [-87, 88]:
 * below, the result is e⁻⁸⁷ ≈ 1.6e-38 (the smallest normal float is 1.2e-38)
 * instead of a subnormal or 0; above, e⁸⁸ ≈ 1.65e38 instead of +∞. NaN gives NaN.
 *
 * <p>Error bound (FastExpTest, against {@code Math.exp} on [-87, 88]):
 * relative error below 2.5e-7, about two units in the last place of a float
 * (one float ulp is 6e-8 to 1.2e-7 relative).
 */
public final class FastExpF {
  private FastExpF() {}

  public static final float LOG2E = 1.44269504f;
  /** ln 2 split: LN2_HI = 0.693145751953125 has 9 trailing zero bits. */
  public static final float LN2_HI = 0.693145751953125f;
  public static final float LN2_LO = 1.42860682e-06f;
  /** 1.5·2²³: x·log₂e + SHIFT rounds x·log₂e to the nearest integer in the low mantissa bits. */
  public static final float SHIFT = 0x1.8p23f;
  public static final float MIN = -87f, MAX = 88f;
  /** 1/k! for k = 7 down to 2 (Horner order). */
  private static final float[] C = {
    1f / 5040f, 1f / 720f, 1f / 120f, 1f / 24f, 1f / 6f, 0.5f};

  /** A copy of the polynomial's coefficients, 1/k! for k = 7 down to 2 (Horner order). */
  public static float[] coefficients() {
    return C.clone();
  }

  /** eˣ within 2.5e-7 relative (see the class comment for the operations and the clamping). */
  public static float exp(float x) {
    x = Math.min(Math.max(x, MIN), MAX);
    float t = x * LOG2E + SHIFT;
    float k = t - SHIFT;
    float r = Math.fma(k, -LN2_HI, x);
    r = Math.fma(k, -LN2_LO, r);
    float p = C[0];
    for (int j = 1; j < C.length; j++) p = Math.fma(p, r, C[j]);
    p = Math.fma(p, r, 1f);
    p = Math.fma(p, r, 1f);
    // t's low mantissa bits hold k (SHIFT's low 22 bits are 0): the shift keeps
    // the 9 low bits of k + 127, the biased exponent of 2^k, and drops the rest.
    int bits = (Float.floatToRawIntBits(t) + 127) << 23;
    return p * Float.intBitsToFloat(bits);
  }
}
