package chive.core.sim;

/**
 * A synaptic learning rule attached to a {@link Projection}. Each step the
 * network calls, on the thread that owns each neuron range:
 * <ol>
 *   <li>{@link #preStep} in phase A, after the groups updated, for pre neurons
 *       [from, to): decay presynaptic traces and add this step's pre spikes;
 *   <li>{@link #postStep} in phase B, after delivery, for post neurons [from, to):
 *       weight changes for this step's pre spikes (onto those posts) and post
 *       spikes, then postsynaptic traces.
 * </ol>
 * A rule touches only the state of its own range in each call, so any thread
 * count gives the same weights.
 */
public interface Plasticity {
  /** Called once when attached; allocate per-synapse and per-neuron state here. */
  void attach(Projection p);

  /** Called when the network's dt is known. */
  void bind(double dt);

  /** Phase A, pre neurons [from, to): presynaptic traces for step {@code step}. */
  void preStep(long step, int from, int to);

  /** Phase B, post neurons [from, to): weight updates and postsynaptic traces. */
  void postStep(long step, int from, int to);

  /** Bytes of state the rule holds. */
  long bytes();
}
