package chive.core.kernel;

import chive.core.sim.ChiveException;

/**
 * A binary matrix (rows × cols) stored as the column indices of its ones, row
 * by row (CSR without values): spike rasters, where a row is one sample's
 * time step. A column listed twice in a row counts twice (two spikes of one
 * unit in one time bin, as Randman can produce). Products with it only add weight rows and skip silent inputs
 * (SNNGrow's "spiking computation" mode): cost proportional to the spikes,
 * no multiplications.
 */
public final class SpikeRows {
  public final int rows, cols;
  public final int[] rowPtr, idx;

  public SpikeRows(int rows, int cols, int[] rowPtr, int[] idx) {
    if (rowPtr.length != rows + 1 || rowPtr[0] != 0 || rowPtr[rows] > idx.length) {
      throw new ChiveException("spike rows: rowPtr of length " + rowPtr.length + " does not describe " + rows + " rows");
    }
    for (int r = 0; r < rows; r++) {
      if (rowPtr[r + 1] < rowPtr[r]) throw new ChiveException("spike rows: rowPtr decreases at row " + r);
      for (int e = rowPtr[r]; e < rowPtr[r + 1]; e++) {
        if (idx[e] < 0 || idx[e] >= cols) throw new ChiveException("spike rows: column " + idx[e] + " in row " + r + " is outside 0.." + (cols - 1));
      }
    }
    this.rows = rows; this.cols = cols; this.rowPtr = rowPtr; this.idx = idx;
  }

  private SpikeRows(int rows, int cols, int[] rowPtr, int[] idx, boolean unchecked) {
    this.rows = rows; this.cols = cols; this.rowPtr = rowPtr; this.idx = idx;
  }

  /**
   * Event lists the learning engine's stages build themselves (a neuron's
   * threshold scan, a pooling stage), in order by construction: not
   * re-scanned. Everything from outside goes through the checking constructor.
   */
  public static SpikeRows ofEngine(int rows, int cols, int[] rowPtr, int[] idx) {
    return new SpikeRows(rows, cols, rowPtr, idx, true);
  }

  public int nnz() { return rowPtr[rows]; }

  /** The ones of a dense matrix, or null when some entry is neither 0 nor 1. */
  public static SpikeRows ifBinary(float[] x, int rows, int cols) {
    int nnz = 0;
    for (int i = 0; i < rows * cols; i++) {
      float v = x[i];
      if (v == 1f) nnz++;
      else if (v != 0f) return null;
    }
    int[] ptr = new int[rows + 1], idx = new int[nnz];
    int e = 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0, o = r * cols; c < cols; c++) if (x[o + c] == 1f) idx[e++] = c;
      ptr[r + 1] = e;
    }
    return new SpikeRows(rows, cols, ptr, idx);
  }

  /** The dense matrix (spike counts per entry). */
  public float[] dense() {
    float[] x = new float[rows * cols];
    for (int r = 0; r < rows; r++) for (int e = rowPtr[r]; e < rowPtr[r + 1]; e++) x[r * cols + idx[e]] += 1f;
    return x;
  }

  /** z[r, :] += alpha · Σ over ones (r, i) of w[i, :], for rows [r0, r1); w is cols × n, z has rows of length n. */
  public void addRowsOf(float[] w, int n, float alpha, float[] z, int r0, int r1, int zRowOffset) {
    for (int r = r0; r < r1; r++) {
      int zo = (r - zRowOffset) * n;
      for (int e = rowPtr[r], end = rowPtr[r + 1]; e < end; e++) {
        int wo = idx[e] * n;
        if (alpha == 1f) for (int j = 0; j < n; j++) z[zo + j] += w[wo + j];
        else for (int j = 0; j < n; j++) z[zo + j] += alpha * w[wo + j];
      }
    }
  }

  /** dw[i, :] += alpha · d[r, :] for every one (r, i) with r in [r0, r1): the weight gradient x^T·d. */
  public void scatterInto(float[] d, int n, float alpha, float[] dw, int r0, int r1, int dRowOffset) {
    for (int r = r0; r < r1; r++) {
      int dOff = (r - dRowOffset) * n;
      for (int e = rowPtr[r], end = rowPtr[r + 1]; e < end; e++) {
        int wo = idx[e] * n;
        for (int j = 0; j < n; j++) dw[wo + j] += alpha * d[dOff + j];
      }
    }
  }
}
