package chive.core.sim;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A population of neurons of one model, stored as struct-of-arrays: one
 * {@code float[]} per state variable, indexed by neuron.
 *
 * <p>Units inside the core are one coherent set, so kernels carry no
 * conversion factors: ms, mV, nA, µS, nF, MΩ, Hz (µS·mV = nA, nF·mV/ms = nA,
 * nF·MΩ = ms). Conductances of the LIF models are relative to the leak
 * (dimensionless), as in Brian's and Diehl &amp; Cook's equations.
 *
 * <p>Conventions (one network step at time t = step·dt, as in Brian2):
 * <ol>
 *   <li>state monitors record the state at t;
 *   <li>{@link #update} integrates every neuron from t to t + dt, then tests the
 *       threshold; a spike is stamped t (the start of the step);
 *   <li>projections deliver this step's spikes (and delayed ones due now);
 *   <li>{@link #reset} applies the reset to the neurons that spiked.
 * </ol>
 * A neuron whose refractory period is r (r/dt = R steps) and that spikes at
 * step s cannot spike again before step s + R. Models with held variables
 * ({@link #holdWhileRefractory}: v in the LIF family and AdEx, the DSL's
 * {@code :hold}) keep them from integrating during steps s+1 .. s+R-1 and
 * discard every write to them from the synaptic phase of step s through
 * step s+R-1, as Brian2 does for variables marked {@code (unless
 * refractory)}: input that arrives while the neuron is refractory is lost,
 * not deferred. From step s+R on the neuron integrates and takes input again
 * (see {@link #refractory}).
 *
 * <p>Subclasses implement {@link #update} over a range of neurons; the network
 * calls it for disjoint ranges from several threads at once.
 */
public abstract class NeuronGroup implements Stateful {
  private final String name;
  protected final int n;
  private final Map<String, float[]> vars = new LinkedHashMap<>();
  /** Double-precision state variables (groups built with doublePrecision true). */
  private final Map<String, double[]> varsD = new LinkedHashMap<>();
  /** Every state variable's name, in the order declared. */
  private final java.util.List<String> varOrder = new java.util.ArrayList<>();
  private final boolean doublePrecision;
  private final Map<String, Double> params = new LinkedHashMap<>();
  private final java.util.Set<String> held = new java.util.LinkedHashSet<>();
  /** Units of parameters and state variables, as declared (see {@link #unitOf}). */
  private final Map<String, String> units = new LinkedHashMap<>();
  /**
   * Refractory counter per neuron, in whole steps (a float so that updates
   * vectorise). A spike sets it to R = round(t_ref/dt); each step first counts
   * it down (c = max(c - 1, 0)); while it is still above 0 the neuron is
   * refractory (v held in the LIF family), and it may spike only when it is 0.
   */
  protected final float[] refractory;
  protected double dt = Double.NaN;
  /** The network's seed, for counter-based random numbers ({@link Rng}). */
  protected long seed;

  // Per-partition spike lists of the current step, written by update().
  int[][] partSpikes = new int[0][];
  int[] partCount = new int[0];
  int[] partFrom = new int[0];
  int[] partTo = new int[0];
  /** Index of this group in its network, set when added. */
  int id = -1;
  /** The network's run guard, set when added. */
  RunGuard guard;

  protected NeuronGroup(String name, int n) { this(name, n, false); }

  /** @param doublePrecision state variables are double[] (declared with {@link #addVarD}) instead of float[] */
  protected NeuronGroup(String name, int n, boolean doublePrecision) {
    this.doublePrecision = doublePrecision;
    if (name == null || name.isEmpty()) throw new ChiveException("a neuron group needs a non-empty name");
    if (n <= 0) throw new ChiveException("group '" + name + "': size must be positive, got " + n);
    this.name = name;
    this.n = n;
    this.refractory = new float[n];
  }

  /**
   * Rough cost of one neuron's step in nanoseconds, used only to choose a
   * default thread count ({@link Network#suggestedThreads}).
   */
  public double costPerNeuronNs() { return 2.0; }

  /** Model name for messages, e.g. "LIF". */
  public abstract String model();

  /**
   * Integrates neurons [from, to) over one step and writes the indices of those
   * that spiked, ascending, into {@code spikes} starting at 0. Returns the count.
   */
  protected abstract int update(int from, int to, long step, int[] spikes);

  /** Applies the reset to the {@code count} neurons listed in {@code spikes}. */
  protected abstract void reset(int[] spikes, int count);

  /** Checks state that users may have written directly (live arrays) before a run; throws if unusable. */
  /**
   * Quiet fast-forward ({@link Network#setFastForward}): true when, with no
   * spike arriving from any projection, no neuron of this group can spike in
   * steps [step, step + n) and its state over those steps has the closed form
   * that {@link #advanceQuiet} computes. The default, false, keeps the group
   * stepped, so a model that does not override both is never skipped.
   */
  protected boolean quietFor(long step, long n) { return false; }

  /** Advances steps [step, step + n) in closed form; called only right after {@link #quietFor} said true. */
  protected void advanceQuiet(long step, long n) {
    throw new UnsupportedOperationException(model() + " group '" + name + "' has no closed-form quiet advance");
  }

  protected void beforeRun() {}

  /** Recomputes cached coefficients from the parameters and dt. Called after any change. */
  protected abstract void configure();

  /** This group's index in its network (its random stream), -1 before it is added. */
  public final int id() { return id; }
  public final String name() { return name; }
  public final int size() { return n; }
  public final double dt() { return dt; }

  /** Declares a state variable, initialised to {@code init}. For subclass constructors. */
  protected final float[] addVar(String var, float init) {
    if (vars.containsKey(var) || varsD.containsKey(var)) throw new ChiveException("group '" + name + "': variable '" + var + "' declared twice");
    float[] a = new float[n];
    Arrays.fill(a, init);
    vars.put(var, a);
    varOrder.add(var);
    return a;
  }

  /** Declares a double-precision state variable, initialised to {@code init}. For subclass constructors. */
  protected final double[] addVarD(String var, double init) {
    if (vars.containsKey(var) || varsD.containsKey(var)) throw new ChiveException("group '" + name + "': variable '" + var + "' declared twice");
    double[] a = new double[n];
    Arrays.fill(a, init);
    varsD.put(var, a);
    varOrder.add(var);
    return a;
  }

  /** True when the group's state is double precision. */
  public final boolean doublePrecision() { return doublePrecision; }

  /** True when state variable {@code var} is stored in double precision ({@link #varD}). */
  public final boolean isDouble(String var) { return varsD.containsKey(var); }

  /**
   * Declares state variables that are held while the neuron is refractory:
   * they do not integrate, and every write to them during that time
   * (synaptic input, Poisson input) is discarded, as Brian2 treats variables
   * marked {@code (unless refractory)} and NEST's {@code iaf_psc_delta} its
   * membrane potential. For subclass constructors.
   */
  protected final void holdWhileRefractory(String... names) {
    for (String v : names) {
      if (!hasVar(v)) var(v); // throws, naming the variables
      held.add(v);
    }
  }

  /** True when state variable {@code var} is held while refractory (see {@link #holdWhileRefractory}). */
  public final boolean holds(String var) { return held.contains(var); }

  /** The held variables. */
  public final String[] heldVars() { return held.toArray(new String[0]); }

  /**
   * Neuron i's held variables are held, and writes to them discarded, while
   * its refractory counter (after the step's countdown; set to its full value
   * on a spike) is above this. 0 for most models.
   */
  public float holdAbove() { return 0f; }

  /** Declares a parameter with its default value. For subclass constructors. */
  protected final void addParam(String param, double value) { params.put(param, value); }

  /** Declares a parameter with its default value and unit (see {@link #unitOf}). For subclass constructors. */
  protected final void addParam(String param, double value, String unit) {
    params.put(param, value);
    units.put(param, unit);
  }

  /** Declares the unit of a state variable added with {@link #addVar} / {@link #addVarD}. */
  protected final void unit(String var, String unit) {
    if (!hasVar(var) && !params.containsKey(var)) var(var); // throws, naming the variables
    units.put(var, unit);
  }

  /**
   * The declared unit of parameter or state variable {@code name}, in the
   * core's units: "ms", "mV", "nA", "uS", "nF", "Mohm", "Hz", "1"
   * (dimensionless), alternatives separated by "|" ("1|mV-per-ms": a plain
   * number or a quantity), or null when the model declares none (the DSL's
   * models carry their dimensions in Clojure).
   */
  public final String unitOf(String name) { return units.get(name); }

  /** The state variable {@code var}: the live array, writes take effect at the next step. */
  public final float[] var(String var) {
    float[] a = vars.get(var);
    if (a == null && varsD.containsKey(var)) {
      throw new ChiveException("group '" + name + "' (" + model() + "): state variable '" + var
          + "' is double precision; read it with varD");
    }
    if (a == null) {
      throw new ChiveException("group '" + name + "' (" + model() + ") has no state variable '" + var
          + "'; it has " + varOrder);
    }
    return a;
  }

  /** The double-precision state variable {@code var} (live array). */
  public final double[] varD(String var) {
    double[] a = varsD.get(var);
    if (a == null) {
      if (vars.containsKey(var)) {
        throw new ChiveException("group '" + name + "' (" + model() + "): state variable '" + var + "' is single precision; read it with var");
      }
      throw new ChiveException("group '" + name + "' (" + model() + ") has no state variable '" + var + "'; it has " + varOrder);
    }
    return a;
  }

  public final boolean hasVar(String var) { return vars.containsKey(var) || varsD.containsKey(var); }
  public final String[] varNames() { return varOrder.toArray(new String[0]); }
  public final String[] paramNames() { return params.keySet().toArray(new String[0]); }

  public final double param(String param) {
    Double v = params.get(param);
    if (v == null) throw unknownParam(param);
    return v;
  }

  /** Sets a parameter (internal units); takes effect at the next step. */
  public final void setParam(String param, double value) {
    checkIdle("set parameter '" + param + "' of group '" + name + "'");
    if (!params.containsKey(param)) throw unknownParam(param);
    if (!Double.isFinite(value)) {
      throw new ChiveException("group '" + name + "': parameter '" + param + "' must be finite, got " + value);
    }
    Double old = params.put(param, value);
    if (!Double.isNaN(dt)) {
      try {
        configure();
      } catch (RuntimeException e) {
        params.put(param, old);
        configure();
        throw e;
      }
    }
  }

  private ChiveException unknownParam(String param) {
    return new ChiveException("group '" + name + "' (" + model() + ") has no parameter '" + param
        + "'; it has " + params.keySet());
  }

  /** Throws when this group's network is running (for methods that change the group). */
  protected final void checkIdle(String what) {
    if (guard != null) guard.checkIdle(what);
  }

  /** Refractory counters per neuron (live array; see {@link #refractory}). */
  public final float[] refractoryCounters() { return refractory; }

  /** Converts a duration in ms to whole steps of dt (Brian's rounding). */
  protected final int steps(double ms) {
    if (ms < 0) throw new ChiveException("group '" + name + "': a duration must be >= 0 ms, got " + ms);
    return (int) Math.round(ms / dt);
  }

  /** Checks that a parameter is strictly positive. */
  protected final double positive(String param) {
    double v = param(param);
    if (!(v > 0)) throw new ChiveException("group '" + name + "': parameter '" + param + "' must be > 0, got " + v);
    return v;
  }

  /** Bytes of state this group holds. */
  public long bytes() {
    return 4L * n * (vars.size() + 1) + 8L * n * varsD.size() + 4L * n;
  }

  void bind(double dt, int id, long seed) {
    this.dt = dt;
    this.id = id;
    this.seed = seed;
    configure();
  }

  void partition(int threads) {
    partSpikes = new int[threads][];
    partCount = new int[threads];
    partFrom = new int[threads];
    partTo = new int[threads];
    for (int p = 0; p < threads; p++) {
      partFrom[p] = (int) ((long) n * p / threads);
      partTo[p] = (int) ((long) n * (p + 1) / threads);
      partSpikes[p] = new int[partTo[p] - partFrom[p]];
    }
  }

  /** Number of partitions of the current run (one per thread). */
  public final int partitions() { return partCount.length; }
  /** First neuron of partition {@code p}. */
  public final int partitionFrom(int p) { return partFrom[p]; }
  /** One past the last neuron of partition {@code p}. */
  public final int partitionTo(int p) { return partTo[p]; }
  /** This step's spikes of partition {@code p} (live; the first {@link #partitionSpikeCount} entries, ascending). */
  public final int[] partitionSpikes(int p) { return partSpikes[p]; }
  public final int partitionSpikeCount(int p) { return partCount[p]; }

  /** Spikes of the last step, ascending (a copy). */
  public int[] lastSpikes() {
    int total = 0;
    for (int c : partCount) total += c;
    int[] out = new int[total];
    int k = 0;
    for (int p = 0; p < partCount.length; p++) {
      System.arraycopy(partSpikes[p], 0, out, k, partCount[p]);
      k += partCount[p];
    }
    return out;
  }

  /** Throws if any value of the state variables in [from, to) is NaN or infinite. */
  protected final void checkFinite(int from, int to, long step) {
    for (Map.Entry<String, float[]> e : vars.entrySet()) {
      float[] a = e.getValue();
      for (int i = from; i < to; i++) {
        if (!Float.isFinite(a[i])) throw notFinite(e.getKey(), i, a[i], step);
      }
    }
    for (Map.Entry<String, double[]> e : varsD.entrySet()) {
      double[] a = e.getValue();
      for (int i = from; i < to; i++) {
        if (!Double.isFinite(a[i])) throw notFinite(e.getKey(), i, a[i], step);
      }
    }
  }

  private ChiveException notFinite(String var, int i, double value, long step) {
    return new ChiveException("group '" + name + "' (" + model() + "): state variable '" + var
        + "' of neuron " + i + " became " + value + " at step " + step
        + " (t = " + (step * dt) + " ms); dt " + dt + " ms may be too large for this model");
  }


  /** {"n", "precision", "params": {name: value}}: with the model's kind, what rebuilds the group. */
  @Override
  public Map<String, Object> config() {
    return State.map("n", n, "precision", doublePrecision ? "double" : "single", "params", new LinkedHashMap<String, Object>(params));
  }

  /** Every state variable (live, in declaration order) and "refractory" (the counters). */
  @Override
  public Map<String, Object> arrays() {
    Map<String, Object> m = new LinkedHashMap<>();
    for (String v : varOrder) m.put(v, vars.containsKey(v) ? vars.get(v) : varsD.get(v));
    m.put("refractory", refractory);
    return m;
  }

  @Override
  public void restore(Map<String, Object> saved) {
    checkIdle("restore group '" + name + "'");
    State.restoreLive(toString(), arrays(), saved);
    restored();
  }

  /** Called after {@link #restore} copied the arrays in: recompute what depends on them. */
  protected void restored() {
    if (!Double.isNaN(dt)) configure();
  }

  @Override
  public String toString() { return model() + " group '" + name + "' of " + n; }
}
