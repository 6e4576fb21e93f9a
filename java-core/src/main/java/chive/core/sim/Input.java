package chive.core.sim;

import java.util.Map;

/**
 * Input added straight to a state variable of a slice of a group, without
 * source neurons or synapses, in the synaptic phase of each step (after the
 * projections' deliveries): {@link PoissonInput} (Brian2's PoissonInput), or
 * a user's own kind, registered with {@code chive.registry} (kind :input).
 *
 * <p>A subclass implements {@link #bind} (dt, its random stream and the
 * network's seed are known) and {@link #apply} (one partition of the target
 * group, on the thread that owns it: touch only neurons [lo, hi)), and saves
 * itself through {@link Stateful}. Random numbers should be counter-based
 * ({@link Rng}: seed, stream, neuron, step), so that any thread count gives
 * the same input and a saved network continues it exactly.
 */
public abstract class Input implements Stateful {
  private final String name;
  final NeuronGroup target;
  /** The target variable. */
  protected final String var;
  /** First neuron and one past the last that receive this input (a slice of the target group). */
  protected final int from, to;
  int id = -1;
  RunGuard guard;

  protected Input(String kind, String name, NeuronGroup target, String var, int from, int to) {
    if (name == null || name.isEmpty()) throw new ChiveException("a " + kind + " input needs a non-empty name");
    if (!target.hasVar(var)) target.var(var); // names the valid variables
    if (from < 0 || to > target.size() || from >= to) {
      throw new ChiveException(kind + " input '" + name + "': neurons [" + from + ", " + to + ") are not a slice of group '"
          + target.name() + "' of " + target.size());
    }
    this.name = name;
    this.target = target;
    this.var = var;
    this.from = from;
    this.to = to;
  }

  public final String name() { return name; }
  public final NeuronGroup target() { return target; }
  public final String targetVar() { return var; }
  public final int from() { return from; }
  public final int to() { return to; }

  /** Throws while the input's network runs (for methods that change the input). */
  protected final void checkIdle(String what) {
    if (guard != null) guard.checkIdle(what);
  }

  /**
   * Called once when the input joins a network: the step {@code dt} (ms), the
   * input's index among the network's inputs (its random stream) and the
   * network's seed.
   */
  protected abstract void bind(double dt, int id, long seed);

  /** Adds step {@code step}'s input to neurons [lo, hi) of the target (group numbering; clip to [from, to)). */
  protected abstract void apply(int lo, int hi, long step);

  /**
   * True when applying this input over steps [step, step + n) changes nothing
   * (quiet fast-forward, {@link Network#setFastForward}). Default false: a
   * network with inputs is skipped only where every input says so.
   */
  protected boolean quietFor(long step, long n) { return false; }

  /** {"target", "from", "to"}; subclasses add their own. */
  @Override
  public Map<String, Object> config() { return State.map("target", var, "from", from, "to", to); }
}
