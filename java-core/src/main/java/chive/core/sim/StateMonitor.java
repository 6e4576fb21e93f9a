package chive.core.sim;

import java.util.Arrays;

/**
 * A state variable of chosen neurons, every {@code every} steps, recorded at
 * the start of the step (the value at t = step·dt, as Brian's StateMonitor).
 */
public final class StateMonitor extends Monitor {
  private final String var;
  private final float[] arr;
  private final double[] arrD;
  private final int[] indices;
  private final int every;
  private int[] partLo = new int[0], partHi = new int[0];
  private FloatList[] vals = new FloatList[0];
  private DoubleList[] valsD = new DoubleList[0];
  private final DoubleList doneD = new DoubleList(64);
  private final IntList recSteps = new IntList(64);
  private final FloatList done = new FloatList(64);
  private int doneRecords;

  /** @param indices neurons to record (any order; duplicates removed) */
  public StateMonitor(NeuronGroup group, String var, int[] indices, int every) {
    this(group, var, indices, every, 0, group.size());
  }

  /** Of a subgroup [lo, hi): {@code indices} are the group's numbers of neurons in that slice. */
  public StateMonitor(NeuronGroup group, String var, int[] indices, int every, int lo, int hi) {
    super(group, lo, hi);
    boolean dbl = group.isDouble(var);
    this.arr = dbl ? null : group.var(var);
    this.arrD = dbl ? group.varD(var) : null;
    this.var = var;
    if (every < 1) throw new ChiveException("state monitor of '" + group.name() + "." + var + "': every must be >= 1 step, got " + every);
    int[] ix = Arrays.stream(indices).distinct().sorted().toArray();
    for (int i : ix) {
      if (i < lo || i >= hi) {
        throw new ChiveException("state monitor of '" + group.name() + "." + var + "': neuron " + i + " is outside [" + lo + ", " + hi + ")");
      }
    }
    this.indices = ix;
    this.every = every;
  }

  public String var() { return var; }
  public int[] indices() { return indices.clone(); }
  public int every() { return every; }

  @Override
  synchronized void partition(int threads) {
    fold();
    vals = new FloatList[threads];
    valsD = new DoubleList[threads];
    partLo = new int[threads];
    partHi = new int[threads];
    for (int p = 0; p < threads; p++) {
      partLo[p] = Projection.lowerBound(indices, 0, indices.length, group.partFrom[p]);
      partHi[p] = Projection.lowerBound(indices, 0, indices.length, group.partTo[p]);
      vals[p] = new FloatList(64);
      valsD[p] = new DoubleList(64);
    }
  }

  private void fold() {
    int records = recSteps.size() - doneRecords;
    for (int r = 0; r < records; r++) {
      for (int p = 0; p < vals.length; p++) {
        int w = partHi[p] - partLo[p];
        if (arrD != null) for (int k = 0; k < w; k++) doneD.add(valsD[p].get(r * w + k));
        else for (int k = 0; k < w; k++) done.add(vals[p].get(r * w + k));
      }
    }
    doneRecords = recSteps.size();
    for (FloatList v : vals) v.clear();
    for (DoubleList v : valsD) v.clear();
  }

  @Override
  void atStart(int p, long step) {
    if (step % every != 0) return;
    if (p == 0) recSteps.add((int) step);
    if (arrD != null) {
      DoubleList v = valsD[p];
      for (int k = partLo[p]; k < partHi[p]; k++) v.add(arrD[indices[k]]);
    } else {
      FloatList v = vals[p];
      for (int k = partLo[p]; k < partHi[p]; k++) v.add(arr[indices[k]]);
    }
  }

  /** Recorded steps. */
  public synchronized int[] steps() { return recSteps.toArray(); }

  /** True when the recorded variable is double precision (read it with {@link #valuesD}). */
  public boolean doublePrecision() { return arrD != null; }

  /** Values of a double-precision variable as [record][neuron]. */
  public synchronized double[][] valuesD() {
    if (arrD == null) throw new ChiveException("state monitor of '" + group.name() + "." + var + "' records single precision: use values");
    fold();
    double[] flat = doneD.toArray();
    int w = indices.length;
    double[][] out = new double[doneRecords][];
    for (int r = 0; r < doneRecords; r++) out[r] = Arrays.copyOfRange(flat, r * w, (r + 1) * w);
    return out;
  }

  /** Values as [record][neuron] (row r holds all chosen neurons at steps()[r]); double values are rounded to float. */
  public synchronized float[][] values() {
    if (arrD != null) {
      double[][] d = valuesD();
      float[][] out = new float[d.length][];
      for (int r = 0; r < d.length; r++) {
        out[r] = new float[d[r].length];
        for (int k = 0; k < d[r].length; k++) out[r][k] = (float) d[r][k];
      }
      return out;
    }
    fold();
    float[] flat = done.toArray();
    int w = indices.length;
    float[][] out = new float[doneRecords][];
    for (int r = 0; r < doneRecords; r++) out[r] = Arrays.copyOfRange(flat, r * w, (r + 1) * w);
    return out;
  }

  /** The trace of one recorded neuron (its position in indices()). */
  public synchronized float[] trace(int neuron) {
    int k = Arrays.binarySearch(indices, neuron);
    if (k < 0) throw new ChiveException("state monitor of '" + group.name() + "." + var + "' does not record neuron " + neuron);
    fold();
    float[] out = new float[doneRecords];
    for (int r = 0; r < doneRecords; r++) out[r] = arrD != null ? (float) doneD.get(r * indices.length + k) : done.get(r * indices.length + k);
    return out;
  }

  @Override
  public long bytes() { return 4L * done.size() + 8L * doneD.size() + 4L * recSteps.size(); }
}
