package chive.core.sim;

import java.util.Map;

/**
 * A part of a network that can describe, save and restore itself: neuron
 * groups of any model (built-in, {@code defneuron}, or a user's own subclass),
 * projections with their delay rings, learning rules with their traces and
 * per-synapse state, monitors with what they recorded, and inputs. Saving a
 * network ({@code chive.io/save!}) writes {@link #config} as JSON and each of
 * {@link #arrays} as an NPY file, through this interface alone; loading
 * rebuilds the part from its registered kind and config, then calls
 * {@link #restore}. Random numbers are counter-based (seed, stream, neuron,
 * step: {@link Rng}), so the network's seed and clock are the generators'
 * whole state.
 */
public interface Stateful {
  /**
   * What rebuilds the part besides its kind: sizes, options, parameters.
   * Values are JSON data: Number, String, Boolean, null, List or Map with
   * String keys. A fresh map each call.
   */
  Map<String, Object> config();

  /**
   * The part's state as named arrays (float[], double[], int[] or long[]),
   * in a fixed order; live arrays or copies. Names are plain
   * ({@code [A-Za-z0-9_]+}); they become file names.
   */
  Map<String, Object> arrays();

  /**
   * Puts back arrays saved from {@link #arrays} of a part built from the same
   * kind and config. Every array must be present, with the saved type and
   * length ({@link State#restoreLive}); refuses while the network runs.
   */
  void restore(Map<String, Object> arrays);
}
