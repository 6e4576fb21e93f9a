package chive.core.model;

import chive.core.sim.ChiveException;
import chive.core.sim.NeuronGroup;

/**
 * A neuron group whose model was written in chive's DSL ({@code defneuron} in
 * the Clojure API). The DSL compiles the model's equations into a class that
 * implements {@link Kernel} over the same struct-of-arrays layout as the
 * built-in models; this group owns the state arrays and parameters, and asks
 * the {@link KernelFactory} for a fresh kernel whenever parameters or dt
 * change.
 */
public final class DslGroup extends NeuronGroup {

  /** The compiled per-step code: update and threshold over a range, and the reset. */
  public interface Kernel {
    /** As {@link NeuronGroup#update}: integrate [from, to), write spiking indices, return their count. */
    int update(int from, int to, long step, int[] spikes);

    /** As {@link NeuronGroup#reset}. */
    void reset(int[] spikes, int count);

    /**
     * Sets the model's initial values from its expressions (the DSL's
     * {@code :init}) for neurons [from, to), except the variables marked in
     * {@code given} (by index; those the network map set explicitly).
     */
    default void initialise(int from, int to, boolean[] given) {}
  }

  /** Builds a kernel bound to the arrays, with coefficients computed from the parameters and dt. */
  public interface KernelFactory {
    /**
     * @param vars state arrays, in the order of the model's variables
     * @param refractory the group's refractory counters
     * @param params parameter values in internal units, in the model's order
     * @param dt the step in ms
     */
    Kernel make(float[][] vars, float[] refractory, double[] params, double dt);

    /** As {@link #make}, over double-precision state. */
    default Kernel makeDouble(double[][] vars, float[] refractory, double[] params, double dt) {
      throw new ChiveException("this model has no double-precision kernel");
    }
  }

  private final String model;
  private final String[] vars;
  private final String[] params;
  private final KernelFactory factory;
  private final double cost;
  private Kernel kernel;

  public DslGroup(String name, int n, String model, String[] vars, double[] varInit,
                  String[] params, double[] paramDefaults, KernelFactory factory, double costNs) {
    this(name, n, model, vars, varInit, params, paramDefaults, new String[0], factory, costNs);
  }

  /** @param held the variables held (and write-protected) while refractory, as the DSL's :hold */
  public DslGroup(String name, int n, String model, String[] vars, double[] varInit,
                  String[] params, double[] paramDefaults, String[] held, KernelFactory factory, double costNs) {
    this(name, n, model, vars, varInit, params, paramDefaults, held, factory, costNs, false);
  }

  /** @param doublePrecision state in double[] arrays, integrated by the model's double-precision kernel */
  public DslGroup(String name, int n, String model, String[] vars, double[] varInit,
                  String[] params, double[] paramDefaults, String[] held, KernelFactory factory, double costNs,
                  boolean doublePrecision) {
    super(name, n, doublePrecision);
    if (vars.length != varInit.length || params.length != paramDefaults.length) {
      throw new ChiveException("model " + model + ": names and values differ in length");
    }
    this.model = model;
    this.vars = vars.clone();
    this.params = params.clone();
    this.factory = factory;
    this.cost = costNs;
    for (int k = 0; k < vars.length; k++) {
      if (doublePrecision) addVarD(vars[k], varInit[k]); else addVar(vars[k], (float) varInit[k]);
    }
    for (int k = 0; k < params.length; k++) addParam(params[k], paramDefaults[k]);
    holdWhileRefractory(held);
  }

  @Override public String model() { return model; }
  @Override public double costPerNeuronNs() { return cost; }

  @Override
  protected void configure() {
    double[] p = new double[params.length];
    for (int k = 0; k < params.length; k++) p[k] = param(params[k]);
    if (doublePrecision()) {
      double[][] arrays = new double[vars.length][];
      for (int k = 0; k < vars.length; k++) arrays[k] = varD(vars[k]);
      kernel = factory.makeDouble(arrays, refractoryCounters(), p, dt);
    } else {
      float[][] arrays = new float[vars.length][];
      for (int k = 0; k < vars.length; k++) arrays[k] = var(vars[k]);
      kernel = factory.make(arrays, refractoryCounters(), p, dt);
    }
  }

  /**
   * Applies the model's initial-value expressions to every neuron, except for
   * the variables named in {@code given} (set explicitly). Needs the group to
   * be in a network (dt known).
   */
  public void initialise(String... given) {
    checkIdle("initialise group '" + name() + "'");
    if (kernel == null) throw new ChiveException("group '" + name() + "': add it to a network before initialising it");
    boolean[] g = new boolean[vars.length];
    for (String v : given) {
      int k = java.util.Arrays.asList(vars).indexOf(v);
      if (k < 0) throw new ChiveException("group '" + name() + "' has no state variable '" + v + "'");
      g[k] = true;
    }
    kernel.initialise(0, size(), g);
  }

  @Override
  protected int update(int from, int to, long step, int[] spikes) {
    return kernel.update(from, to, step, spikes);
  }

  @Override
  protected void reset(int[] spikes, int count) {
    kernel.reset(spikes, count);
  }
}
