package chive.core.learn;

import chive.core.kernel.SpikeRows;
import chive.core.sim.ChiveException;

/**
 * One mini-batch of input: batch samples × steps time steps × n units,
 * sample-major (row b·steps + t). Either binary spikes ({@link SpikeRows},
 * multiplied by addition only) or dense values.
 */
public final class Input {
  public final int batch, steps, n;
  public final SpikeRows spikes;
  public final float[] dense;

  private Input(int batch, int steps, int n, SpikeRows spikes, float[] dense) {
    if (batch <= 0 || steps <= 0 || n <= 0) throw new ChiveException("input of " + batch + " samples x " + steps + " steps x " + n + " units is empty");
    this.batch = batch; this.steps = steps; this.n = n; this.spikes = spikes; this.dense = dense;
  }

  public static Input spikes(SpikeRows s, int batch, int steps) {
    if (s.rows != batch * steps) throw new ChiveException("spike input has " + s.rows + " rows, expected " + batch + " samples x " + steps + " steps");
    return new Input(batch, steps, s.cols, s, null);
  }

  /** Dense values; stored as spikes when every entry is 0 or 1 (the automatic choice of the addition-only kernel). */
  public static Input dense(float[] x, int batch, int steps, int n, boolean detectBinary) {
    if ((long) batch * steps * n != x.length) {
      throw new ChiveException("input has " + x.length + " values, expected " + batch + " x " + steps + " x " + n);
    }
    for (int i = 0; i < x.length; i++) {
      if (!Float.isFinite(x[i])) throw new ChiveException("input value " + x[i] + " at index " + i + " is not finite");
    }
    SpikeRows s = detectBinary ? SpikeRows.ifBinary(x, batch * steps, n) : null;
    return s != null ? new Input(batch, steps, n, s, null) : new Input(batch, steps, n, null, x);
  }

  public boolean binary() { return spikes != null; }

  /** The dense values of rows [r0, r1) (spikes expanded). */
  float[] denseRows(int r0, int r1) {
    float[] out = new float[(r1 - r0) * n];
    if (dense != null) System.arraycopy(dense, r0 * n, out, 0, out.length);
    else for (int r = r0; r < r1; r++) for (int e = spikes.rowPtr[r]; e < spikes.rowPtr[r + 1]; e++) out[(r - r0) * n + spikes.idx[e]] += 1f;
    return out;
  }
}
