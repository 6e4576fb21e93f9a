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
  protected synchronized void partition(int threads) {
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
  protected void atStart(int p, long step) {
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

  /** Adds "var", "neurons" (the group's numbers) and "every" (steps) to the slice. */
  @Override
  public java.util.Map<String, Object> config() {
    java.util.Map<String, Object> m = super.config();
    java.util.List<Object> ns = new java.util.ArrayList<>();
    for (int i : indices) ns.add(i);
    m.put("var", var);
    m.put("neurons", ns);
    m.put("every", every);
    return m;
  }

  /** "steps" recorded and "values" (record-major: steps x neurons; float32, or float64 for a double-precision variable). */
  @Override
  public synchronized java.util.Map<String, Object> arrays() {
    fold();
    return State.map("steps", recSteps.toArray(), "values", arrD != null ? (Object) doneD.toArray() : done.toArray());
  }

  @Override
  public synchronized void restore(java.util.Map<String, Object> saved) {
    checkIdle("restore a state monitor of '" + group.name() + "." + var + "'");
    String owner = "state monitor of '" + group.name() + "." + var + "'";
    State.sameNames(owner, arrays(), saved);
    int[] st = State.ints(owner, saved, "steps");
    Object v = saved.get("values");
    if (arrD != null) State.doubles(owner, saved, "values"); else State.floats(owner, saved, "values");
    if ((long) st.length * indices.length != State.length(v)) {
      throw new ChiveException(owner + ": saved " + State.length(v) + " values for " + st.length + " records of "
          + indices.length + " neurons");
    }
    fold();
    recSteps.clear();
    recSteps.addAll(st, 0, st.length);
    done.clear();
    doneD.clear();
    if (arrD != null) for (double x : (double[]) v) doneD.add(x);
    else for (float x : (float[]) v) done.add(x);
    doneRecords = st.length;
  }

  @Override
  public long bytes() { return 4L * done.size() + 8L * doneD.size() + 4L * recSteps.size(); }
}
