package chive.core.learn;

import chive.core.kernel.SpikeRows;

/**
 * What one {@link Module} hands the next over a group of samples: rows × n
 * values, rows = samples · steps, sample-major (row b·steps + t), and, when
 * every value is 0 or one common value, the same matrix as an event list
 * ({@link SpikeRows}: the column indices of the non-zero entries, row by row,
 * with row {@code eventRow0 + r} holding row r, each event worth
 * {@code eventValue}). Consumers with a sparse kernel read the events, the
 * others {@link #values()}. Owned by one thread's workspace.
 */
public final class Activation {
  public final int rows, n;
  private float[] values;
  public final SpikeRows events;
  public final int eventRow0;
  public final float eventValue;

  private Activation(int rows, int n, float[] values, SpikeRows events, int eventRow0, float eventValue) {
    this.rows = rows; this.n = n; this.values = values; this.events = events; this.eventRow0 = eventRow0; this.eventValue = eventValue;
  }

  /** Dense values only. */
  public static Activation dense(int rows, int n, float[] values) { return new Activation(rows, n, values, null, 0, 1f); }

  /** Values together with their event list (values may be null: expanded from the events when first asked for). */
  public static Activation events(int rows, int n, float[] values, SpikeRows events, int eventRow0, float eventValue) {
    return new Activation(rows, n, values, events, eventRow0, eventValue);
  }

  /** True when an event list is available. */
  public boolean binary() { return events != null; }

  /** The number of events (non-zero entries), when binary; else -1. */
  public long eventCount() { return events == null ? -1 : (long) events.rowPtr[eventRow0 + rows] - events.rowPtr[eventRow0]; }

  /** The dense rows × n values (expanded from the events on first use). */
  public float[] values() {
    if (values == null) {
      float[] out = new float[rows * n];
      for (int r = 0; r < rows; r++) {
        int rr = eventRow0 + r;
        for (int e = events.rowPtr[rr]; e < events.rowPtr[rr + 1]; e++) out[r * n + events.idx[e]] += eventValue;
      }
      values = out;
    }
    return values;
  }
}
