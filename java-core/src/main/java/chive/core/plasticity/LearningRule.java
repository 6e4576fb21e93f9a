package chive.core.plasticity;

import chive.core.sim.Plasticity;

/** A plasticity rule whose weight changes can be switched off between runs (the traces keep running). */
public interface LearningRule extends Plasticity {
  boolean learning();

  void setLearning(boolean on);
}
