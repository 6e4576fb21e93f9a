;; # Training spiking networks with surrogate gradients
;;
;; A spike is a step function of the membrane potential, so its derivative is
;; zero almost everywhere and gradient descent gets no signal. Surrogate
;; gradient learning keeps the step in the forward pass and replaces its
;; derivative in the backward pass by a smooth bump, here SuperSpike's
;; 1/(β|U - θ| + 1)² (Zenke & Ganguli 2018). With that, a spiking network is a
;; recurrent network trained by backpropagation through time.
;;
;; We train the JAX tutorial's network on Randman (Zenke & Vogels 2021):
;; every input unit fires exactly once per sample, so all information is in
;; spike timing. This is small enough to run in full on every render: the
;; benchmark's 1,000 samples per class and 20 epochs take a few seconds
;; (`bin/chive bench sg-randman` runs the same and prints one JSON line per
;; epoch). `--full` trains a wider hidden layer (128) as well, for comparison.

(ns notebooks.surrogate-gradients
  (:require [chive.learn :as learn]
            [chive.notebook :as nb]
            [chive.plot :as plot]))

(def sizes {:samples 1000 :epochs 20})

(def data (learn/randman {:classes 2 :units 16 :steps 100 :samples (:samples sizes) :seed 42}))

(def parts (learn/split-at-fraction data 0.8))

;; One sample of each class: 16 units, one spike each; the classes differ
;; only in the relative timing.

(defn sample-raster [d k]
  (let [rows (learn/sample-events d k)]
    {:indices (int-array (map second rows)) :times-ms (double-array (map first rows))}))

(let [[train] parts
      first-of (fn [c] (first (filter #(= c (aget (.labels train) %)) (range (.samples train)))))]
  [(plot/raster (sample-raster train (first-of 0)) {:title "class 0" :t-max-ms 100 :n-max 16 :width 280 :height 160})
   (plot/raster (sample-raster train (first-of 1)) {:title "class 1" :t-max-ms 100 :n-max 16 :width 280 :height 160})])

;; The network: 16 inputs, 32 recurrent LIF neurons, 2 recurrent LIF outputs;
;; the class is the output neuron that spikes most. Equations and constants
;; are the JAX seed's (`learn/jax-seed-neuron`):

learn/jax-seed-neuron

(def m (learn/model {:inputs 16 :layers [{:n 32 :recurrent true} {:n 2 :recurrent true}]
                     :neuron learn/jax-seed-neuron
                     :loss {:type :spike-count :reduction :sum :scale 0.5}
                     :seed 42 :threads 2}))

(def history
  (learn/train! m (first parts) {:epochs (:epochs sizes) :batch 48 :optimizer {:type :sgd :lr 2e-2 :momentum 0.9}
                                 :shuffle-seed 42 :test (second parts) :progress false}))

(plot/curves history [:train-acc :test-acc] {:title "Accuracy"})

(plot/curves history [:train-loss] {:title "Training loss (per batch)"})

(map #(select-keys % [:epoch :train-loss :train-acc :test-acc :train-s]) history)

;; What the trained network does with one test sample: the hidden layer's
;; spikes (32 neurons) and the two output neurons.

(let [[hidden out] (learn/record m (second parts) [0])
      raster (fn [^floats s n]
               (let [ev (for [t (range 100) j (range n) :when (pos? (aget s (+ (* t n) j)))] [t j])]
                 {:indices (int-array (map second ev)) :times-ms (double-array (map first ev))}))]
  [(plot/raster (raster hidden 32) {:title "hidden layer" :t-max-ms 100 :n-max 32 :width 280 :height 180})
   (plot/raster (raster out 2) {:title "output layer" :t-max-ms 100 :n-max 2 :width 280 :height 180})])

{:test-accuracy (:accuracy (learn/evaluate m (second parts)))
 :true-label (aget (.labels (second parts)) 0)}

;; With `--full`, the same training with 128 hidden neurons:

(when (nb/full?)
  (let [wide (learn/model {:inputs 16 :layers [{:n 128 :recurrent true} {:n 2 :recurrent true}]
                           :neuron learn/jax-seed-neuron
                           :loss {:type :spike-count :reduction :sum :scale 0.5}
                           :seed 42 :threads 2})]
    (plot/curves (learn/train! wide (first parts) {:epochs (:epochs sizes) :batch 48
                                                   :optimizer {:type :sgd :lr 2e-2 :momentum 0.9}
                                                   :shuffle-seed 42 :test (second parts) :progress false})
                 [:train-acc :test-acc] {:title "Accuracy, 128 hidden neurons"})))
