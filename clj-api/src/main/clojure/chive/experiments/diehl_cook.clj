(ns chive.experiments.diehl-cook
  "Unsupervised digit recognition with STDP (Diehl & Cook 2015), written with
  chive.script in the shape of WheatNNLeek's Common Lisp training script
  (../shared/seeds/000: create the neurons, network-stdp-connect,
  network-static-connect, loop-run-image-input, export weights and theta).
  The constants are the paper's and its code's (../shared/BENCHMARKS.md).

  `bin/chive train diehl-cook` runs this same code, adding progress,
  checkpoints and evaluation. At the REPL:

      (require '[chive.experiments.diehl-cook :as dc] '[chive.data :as data])
      (def mnist (data/dataset \"mnist\"))
      (def nw (chive.script/new-network {:dt 0.5 :seed 1}))
      (def stdp (dc/create-network! nw {:neurons 100}))
      (dc/train! nw stdp (data/take-first (:train mnist) 500))

  examples/diehl_cook.clj is a script to copy from that uses this namespace."
  (:require [chive.data :as data]
            [chive.io]
            [chive.script :refer [network-clear! create-population! set-initial! network-stdp-connect!
                                  network-static-connect! network-count-spikes! network-reset-counts!
                                  network-spike-counts network-set-static-poisson-freq! network-run!
                                  network-normalize! network-set-learning! network-set-property!
                                  network-get-property network-get-conn-info loop-run-image-input]]
            [chive.units :refer [ms mV]]))

;; Excitatory neurons: conductance LIF with an adaptive threshold theta, the
;; constants of BENCHMARKS.md (refractory 5 ms). The paper's Brian 1 code also
;; blocked spikes for 50 ms (timer > 5 ms with dtimer/dt = 0.1) and integrated
;; with forward Euler; :t_block (ms 50) and :method 1 reproduce those.
(def excitatory
  {:v_rest (mV -65) :v_reset (mV -65) :v_th (mV -52) :t_ref (ms 5) :tau_m (ms 100)
   :tau_e (ms 1) :tau_i (ms 2) :e_e (mV 0) :e_i (mV -100)
   :theta_plus (mV 0.05) :tau_theta (ms 1e7) :theta_offset (mV 20)})

;; Inhibitory neurons: conductance LIF.
(def inhibitory
  {:v_rest (mV -60) :v_reset (mV -45) :v_th (mV -40) :t_ref (ms 2) :tau_m (ms 10)
   :tau_e (ms 1) :tau_i (ms 2) :e_e (mV 0) :e_i (mV -85)})

(def present-ms 350)
(def rest-ms 150)
(def min-spikes 5)
(def max-retries 20)        ; a blank image would otherwise raise the intensity forever
(def weight-total 78.0)     ; each excitatory neuron's incoming weights sum to 78

(defn create-network!
  "Builds the network in script network `nw`; returns the id of the plastic connection."
  [nw {:keys [neurons]}]
  (network-clear! nw)
  (create-population! nw :input :poisson 784)
  (create-population! nw :excitatory :adaptive-lif neurons excitatory)
  (create-population! nw :inhibitory :coba-lif neurons inhibitory)
  (set-initial! nw :excitatory {:v (mV -105) :theta (mV 20)})
  (set-initial! nw :inhibitory {:v (mV -100)})
  (let [[stdp] (network-stdp-connect! nw :input :excitatory
                                      {:weight [:uniform 0.003 0.303] :tau-pre 20 :tau-post1 20 :tau-post2 40
                                       :nu-pre 0.0001 :nu-post 0.01 :w-max 1.0})]
    (network-static-connect! nw :excitatory :inhibitory 10.4 "linear" "Excitatory")
    (network-static-connect! nw :inhibitory :excitatory 17.0 "all_to_all_except_diagonal" "Inhibitory")
    (network-count-spikes! nw :excitatory)
    stdp))

(defn present!
  "Shows image `k` of `part`: input rates pixel/8 · intensity for 350 ms, then
  150 ms of rest. While the excitatory layer answers with fewer than 5 spikes,
  the intensity (from 2) goes up by 1 and the image is shown again. With
  learning on, weights are normalised before each presentation.
  Returns {:counts int[] :retries n}."
  [nw stdp part k learning?]
  (loop [intensity 2 retries 0]
    (when learning? (network-normalize! nw stdp weight-total))
    (network-reset-counts! nw :excitatory)
    (network-set-static-poisson-freq! nw :input (data/image part k (/ intensity 8.0)))
    (network-run! nw present-ms)
    (let [^ints counts (network-spike-counts nw :excitatory)]
      (network-set-static-poisson-freq! nw :input 0)
      (network-run! nw rest-ms)
      (if (and (< (areduce counts i s 0 (+ s (aget counts i))) min-spikes) (< retries max-retries))
        (recur (inc intensity) (inc retries))
        {:counts counts :retries retries}))))

(defn learning!
  "Training mode (STDP on, theta adapting) or test mode (both frozen)."
  [nw stdp on?]
  (network-set-learning! nw stdp on?)
  (network-set-property! nw :excitatory "fix_theta" (if on? 0.0 1.0)))

(defn train!
  "Presents every image of `part` with learning on. `on-sample` (if given) is
  called with k, the label and present!'s result. Stops between images when
  interrupted; returns the number of images shown."
  ([nw stdp part] (train! nw stdp part nil))
  ([nw stdp part on-sample]
   (learning! nw stdp true)
   (loop-run-image-input [k (range (data/size part))]
     (let [r (present! nw stdp part k true)]
       (when on-sample (on-sample k (data/label part k) r))))))

(defn responses
  "Spike counts of every excitatory neuron for every image of `part` (learning off), as a vector of int[].
  `on-progress`, when given, is called with the number of images done after each one."
  ([nw stdp part] (responses nw stdp part nil))
  ([nw stdp part on-progress]
   (learning! nw stdp false)
   (mapv (fn [i] (let [c (:counts (present! nw stdp part i false))]
                   (when on-progress (on-progress (inc i)))
                   c))
         (range (data/size part)))))

(defn assign-labels
  "Each neuron's label: the class for which its average response is highest
  (the first such class); -1 for a neuron that never fired, as in the paper's
  code, so that silent neurons do not dilute any class."
  [counts labels]
  (let [n (alength ^ints (first counts))
        sums (make-array Double/TYPE 10 n)
        seen (double-array 10)]
    (doseq [[^ints c l] (map vector counts labels)]
      (aset seen l (inc (aget seen l)))
      (let [^doubles row (aget ^"[[D" sums l)]
        (dotimes [i n] (aset row i (+ (aget row i) (aget c i))))))
    (vec (for [i (range n)]
           (first (reduce (fn [[best rate] l]
                            (let [r (/ (aget ^doubles (aget ^"[[D" sums l) i) (max 1.0 (aget seen l)))]
                              (if (> r rate) [l r] [best rate])))
                          [-1 0.0] (range 10)))))))

(defn classify
  "The class whose assigned neurons respond most on average (-1: none assigned)."
  [assignments ^ints counts]
  (let [by-label (group-by assignments (range (count assignments)))]
    (apply max-key (fn [l] (if-let [ns (by-label l)]
                             (/ (double (reduce + (map #(aget counts %) ns))) (count ns))
                             -1.0))
           (range 10))))

(defn export-results!
  "Writes the learned weights (source target weight per line) and theta (one per
  line), as the CL script's weight and theta files."
  [nw stdp weight-file theta-file]
  (let [{:keys [^ints source ^ints target ^floats weight]} (network-get-conn-info nw stdp)]
    (chive.io/write-file! weight-file
                          (fn [f] (with-open [w (clojure.java.io/writer f)]
                                    (dotimes [s (alength source)] (.write w (str (aget source s) " " (aget target s) " " (aget weight s) "\n")))))))
  (chive.io/write-file! theta-file
                        (fn [f] (with-open [w (clojure.java.io/writer f)]
                                  (doseq [t (network-get-property nw :excitatory "theta")] (.write w (str t "\n")))))))
