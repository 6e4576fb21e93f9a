(ns chive.experiments.randman
  "The `bin/chive bench sg-randman` task as a sweep experiment: one
  surrogate-gradient training run per parameter map, on exactly the task,
  model and protocol of the benchmark (chive.impl.cmd.sgbench/randman-setup:
  Randman 2 classes x 16 units x 100 steps, 1,000 samples split 80/20,
  [16, 32 recurrent, 2] LIF, spike-count loss, SGD with momentum, batch 48),
  with the learning rate, momentum, epochs and seed as parameters.

      (chive.sweep/run! 'chive.experiments.randman/point
                        {:grid {:lr [5e-3 2e-2 5e-2]} :seeds [1 2 3 7] :fixed {:validate 160}}
                        {:out \"target/sweeps/randman\"})

  Parameters: :lr (default 2e-2, the benchmark's), :momentum (default 0.9),
  :epochs (default 20), :seed (data and weights, default 1), :variant
  (\"chive\" or \"jax-seed\", as the bench's --variant), :validate (hold out
  the last that many of the 800 training samples and report accuracy on
  them; the 200 test samples are then not read: choose hyper-parameters
  this way, then run the chosen point without :validate), :batch
  (default 48, the benchmark's), :threads (default 1: a sweep runs points
  side by side).

  Results:
    :acc            accuracy after the last epoch, on :acc-on
    :acc-on         \"validation\" or \"test\"
    :acc-per-epoch  vector, one accuracy per epoch
    :train-loss     last epoch's mean training loss (NaN if it diverged)
    :train-acc      last epoch's training accuracy
    :train-s        wall seconds of all epochs' training loops"
  (:require [chive.impl.cmd.sgbench :as sgbench]
            [chive.learn :as learn]))

(set! *warn-on-reflection* true)

(defn point
  "One sg-randman training run for the parameter map (see the namespace doc);
  its accuracies as plain data."
  [{:keys [lr momentum epochs seed variant validate threads batch]
    :or {lr 2e-2 momentum 0.9 epochs 20 seed 1 variant "chive" threads 1 batch 48}}]
  (when-not (and (number? lr) (pos? (double lr)) (Double/isFinite (double lr)))
    (throw (ex-info (str "randman/point: :lr must be a positive number, got " (pr-str lr)) {:lr lr})))
  (when-not (and (integer? epochs) (pos? epochs))
    (throw (ex-info (str "randman/point: :epochs must be a positive integer, got " (pr-str epochs)) {:epochs epochs})))
  (doseq [[k v lo] [[:seed seed 0] [:threads threads 1] [:batch batch 1]]]
    (when-not (and (integer? v) (>= v lo))
      (throw (ex-info (str "randman/point: " k " must be a whole number >= " lo ", got " (pr-str v)) {k v}))))
  (when-not (and (number? momentum) (<= 0.0 (double momentum) 1.0))
    (throw (ex-info (str "randman/point: :momentum must be a number in [0, 1], got " (pr-str momentum)) {:momentum momentum})))
  (when-not (or (nil? validate) (and (integer? validate) (< 0 validate 800)))
    (throw (ex-info (str "randman/point: :validate must be a whole number of the 800 training samples to hold out (1..799), got " (pr-str validate)) {:validate validate})))
  (let [setup (sgbench/randman-setup {:seed (long seed) :threads (long threads) :kernels "auto"
                                      :variant variant :validate validate})
        m (learn/model (:model setup))]
    (try
      (let [h (learn/train! m (:train setup)
                            {:epochs epochs :batch batch :shuffle-seed (long seed) :drop-last true
                             :test (:test setup) :progress false
                             :optimizer (assoc (:optimizer setup) :lr (double lr) :momentum (double momentum))})
            last-e (last h)]
        {:acc (:test-acc last-e)
         :acc-on (if validate "validation" "test")
         :acc-per-epoch (mapv :test-acc h)
         :train-loss (:train-loss last-e)
         :train-acc (:train-acc last-e)
         :train-s (reduce + (map :train-s h))})
      (finally (.close ^java.lang.AutoCloseable (:net m))))))
