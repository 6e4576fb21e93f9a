package chive.core.sim;

/**
 * A synaptic learning rule attached to a {@link Projection}. Each step the
 * network calls, on the thread that owns each neuron range:
 * <ol>
 *   <li>{@link #preStep} in phase A, after the groups updated, for one partition
 *       of the pre group: decay presynaptic traces and add this step's pre spikes;
 *   <li>{@link #postStep} in phase B, after delivery, for one partition of the
 *       post group: weight changes for this step's pre spikes (onto those posts)
 *       and post spikes, then postsynaptic traces.
 * </ol>
 * A rule touches only the state of its own range in each call, so any thread
 * count gives the same weights. Its traces and any per-synapse state are
 * saved and restored through {@link Stateful} (after {@link #attach}).
 */
public interface Plasticity extends Stateful {
  /** Called once when attached; allocate per-synapse and per-neuron state here. */
  void attach(Projection p);

  /** Called when the network's dt is known. */
  void bind(double dt);

  /** Phase A, partition {@code part} of the pre group: presynaptic traces for step {@code step}. */
  void preStep(long step, int part);

  /** Phase B, partition {@code part} of the post group: weight updates and postsynaptic traces. */
  void postStep(long step, int part);

  /**
   * True when steps [step, step + n) without any pre or post spike have a
   * closed form that {@link #advanceQuiet} computes (quiet fast-forward,
   * {@link Network#setFastForward}). Default false: the projection is stepped.
   */
  default boolean quietFor(long step, long n) { return false; }

  /** Advances steps [step, step + n) without spikes in closed form; called only after {@link #quietFor} said true. */
  default void advanceQuiet(long step, long n) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " has no closed-form quiet advance");
  }

  /** Bytes of state the rule holds. */
  long bytes();
}
