package chive.core.learn;

import chive.core.sim.ChiveException;

/**
 * Surrogate derivatives of the spike nonlinearity H(x), x = U - threshold.
 * {@link #grad} is used in the backward pass; {@link #smooth} is a function
 * whose derivative is exactly {@link #grad}, used when the forward pass
 * replaces the spike by its smooth surrogate (gradient checks).
 * <ul>
 * <li>superspike(beta): 1/(beta|x| + 1)^2 (Zenke &amp; Ganguli 2018; snnTorch's fast_sigmoid and
 *     SpyTorch's SuperSpike use this form); smooth: x/(beta|x| + 1)</li>
 * <li>fast-sigmoid(k): the derivative of the fast sigmoid 0.5(1 + kx/(1 + k|x|)), i.e. (k/2)/(1 + k|x|)^2</li>
 * <li>sigmoid(k): k·s(kx)(1 - s(kx)), s the logistic function</li>
 * <li>atan(a): (a/2)/(1 + (pi/2·a·x)^2); smooth: 1/2 + atan(pi/2·a·x)/pi</li>
 * <li>triangle(w): max(0, 1 - |x|/w)/w (unit area); smooth: its piecewise-quadratic integral</li>
 * </ul>
 * A new surrogate subclasses this, overriding {@link #grad} and {@link #smooth}
 * (the latter's derivative must be the former), and registers with
 * {@code chive.registry} (kind :surrogate).
 */
public class Surrogate {
  public enum Kind { SUPERSPIKE, FAST_SIGMOID, SIGMOID, ATAN, TRIANGLE }

  /** The built-in kind, or null for a subclass. */
  public final Kind kind;
  public final double p;
  private final String name;

  public Surrogate(Kind kind, double p) {
    this(kind, kind.name().toLowerCase().replace('_', '-'), p);
  }

  /** For subclasses: a surrogate named {@code name} with parameter {@code p} (finite, > 0). */
  protected Surrogate(String name, double p) {
    this(null, name, p);
  }

  private Surrogate(Kind kind, String name, double p) {
    if (!(p > 0) || Double.isInfinite(p)) throw new ChiveException("surrogate " + name + ": parameter must be finite and > 0, got " + p);
    this.kind = kind;
    this.name = name;
    this.p = p;
  }

  /** The surrogate's name, e.g. "superspike". */
  public String name() { return name; }

  /** superspike, fast-sigmoid, sigmoid, atan, triangle (hyphen or underscore). */
  public static Surrogate of(String name, double p) {
    String k = name.toUpperCase().replace('-', '_');
    for (Kind kind : Kind.values()) if (kind.name().equals(k)) return new Surrogate(kind, p);
    throw new ChiveException("unknown surrogate '" + name + "' (superspike, fast-sigmoid, sigmoid, atan, triangle)");
  }

  public double grad(double x) {
    double a = Math.abs(x), d;
    switch (kind) {
      case SUPERSPIKE: d = p * a + 1; return 1 / (d * d);
      case FAST_SIGMOID: d = p * a + 1; return 0.5 * p / (d * d);
      case SIGMOID: { double s = 1 / (1 + Math.exp(-p * x)); return p * s * (1 - s); }
      case ATAN: { double y = Math.PI / 2 * p * x; return 0.5 * p / (1 + y * y); }
      default: return a >= p ? 0 : (1 - a / p) / p;
    }
  }

  /**
   * For the kinds whose gradient is h/(p·|x| + 1)² (SuperSpike: h = 1; fast
   * sigmoid: h = p/2), h as {@link #gradRow} computes it, so a kernel may
   * inline the formula with the same bits; NaN for the other kinds.
   */
  public float rationalScale() {
    if (kind == Kind.SUPERSPIKE && getClass() == Surrogate.class) return 1f;
    if (kind == Kind.FAST_SIGMOID && getClass() == Surrogate.class) return 0.5f * (float) p;
    return Float.NaN;
  }

  /**
   * out[outOff + k] = grad(u[off + k] - th) for k in [0, len), in float for the
   * built-in kinds (one loop per kind, no call per element: the hot loop of
   * element-wise neurons' backward pass); a subclass gets its {@link #grad}
   * per element unless it overrides this too.
   */
  public void gradRow(float[] u, int off, float th, float[] out, int outOff, int len) {
    final float q = (float) p;
    if (kind == null) {
      for (int k = 0; k < len; k++) out[outOff + k] = (float) grad(u[off + k] - th);
      return;
    }
    switch (kind) {
      case SUPERSPIKE:
        for (int k = 0; k < len; k++) { float d = q * Math.abs(u[off + k] - th) + 1f; out[outOff + k] = 1f / (d * d); }
        return;
      case FAST_SIGMOID: {
        final float h = 0.5f * q;
        for (int k = 0; k < len; k++) { float d = q * Math.abs(u[off + k] - th) + 1f; out[outOff + k] = h / (d * d); }
        return;
      }
      case ATAN: {
        final float c = (float) (Math.PI / 2 * p), h = 0.5f * q;
        for (int k = 0; k < len; k++) { float y = c * (u[off + k] - th); out[outOff + k] = h / (1f + y * y); }
        return;
      }
      case TRIANGLE: {
        final float inv = 1f / q;
        for (int k = 0; k < len; k++) out[outOff + k] = Math.max(0f, 1f - Math.abs(u[off + k] - th) * inv) * inv;
        return;
      }
      default:
        for (int k = 0; k < len; k++) out[outOff + k] = (float) grad(u[off + k] - th);
    }
  }

  public double smooth(double x) {
    double a = Math.abs(x);
    switch (kind) {
      case SUPERSPIKE: return x / (p * a + 1);
      case FAST_SIGMOID: return 0.5 * (1 + p * x / (1 + p * a));
      case SIGMOID: return 1 / (1 + Math.exp(-p * x));
      case ATAN: return 0.5 + Math.atan(Math.PI / 2 * p * x) / Math.PI;
      default:
        if (x <= -p) return 0;
        if (x >= p) return 1;
        return x < 0 ? (x + p) * (x + p) / (2 * p * p) : 1 - (p - x) * (p - x) / (2 * p * p);
    }
  }

  @Override public String toString() { return name + "(" + p + ")"; }
}
