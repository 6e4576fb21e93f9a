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
  (:require [chive.data :as data]
            [chive.learn :as learn]
            [chive.net :as net]
            [chive.nir :as nir]
            [chive.notebook :as nb]
            [chive.plot :as plot]
            [chive.units :as u]))

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

(plot/curves history [:train-loss] {:title "Training loss per epoch"})

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

;; ## A convolutional network on Fashion-MNIST
;;
;; `chive.learn` models are chains of stages, each with its own forward and
;; backward pass, in any order where the shapes fit: convolutions, pooling,
;; flatten, affine maps, and neurons applied element-wise (LIF, IF, leaky or
;; plain integrators), plus delays and dropout (`learn/layer-types` lists
;; them, and the list is open: `chive.registry/register! :layer`). This is
;; the network of `bin/chive bench sg-fmnist-conv`: images as latency codes
;; (each pixel spikes at most once, brighter earlier, 12 steps), two
;; convolution / LIF / max-pool blocks, and a leaky-integrator readout whose
;; maximum over time is the class score. The LIF layers train their decay
;; and threshold per channel. Input and hidden spikes are sparse, so the
;; convolutions run as event scatters (each input spike adds the kernel
;; slice it reaches) rather than dense im2col products; the engine picks per
;; batch. Here it trains on a small part of the data for one epoch; `--full`
;; runs the benchmark's protocol (all 60,000 images, 12 epochs, the learning
;; rate decaying on a cosine).

(def conv-sizes (if (nb/full?) {:train 60000 :test 10000 :epochs 12} {:train 2000 :test 500 :epochs 1}))

(def fmnist (data/dataset "fashion"))

(defn conv-code [part] (learn/latency-code part {:tau 5.0 :thr 0.05 :steps 12}))

(def conv-train (conv-code (data/take-first (:train fmnist) (:train conv-sizes))))

(def conv-test (conv-code (data/take-first (:test fmnist) (:test conv-sizes))))

(def conv
  (learn/model {:inputs [1 28 28]
                :layers [{:type :conv2d :channels 16 :kernel 5}
                         {:type :lif :per :channel :learn #{:mem :threshold}}
                         {:type :maxpool2d :kernel 2}
                         {:type :conv2d :channels 32 :kernel 5}
                         {:type :lif :per :channel :learn #{:mem :threshold}}
                         {:type :maxpool2d :kernel 2}
                         {:type :flatten}
                         {:type :affine :n 10}
                         {:type :li :learn #{:mem}}]
                :neuron {:mem 0.9 :threshold 1.0 :reset :soft :surrogate [:superspike 10]}
                :loss {:type :max-membrane :reduction :mean}
                :init {:type :kaiming-uniform} :seed 42 :threads 2}))

;; Every stage with the shape it takes and gives (one sample, one step):

(learn/shapes conv)

(def conv-history
  (learn/train! conv conv-train {:epochs (:epochs conv-sizes) :batch 32 :optimizer {:type :adam :lr 2e-3}
                                 :shuffle-seed 42 :test conv-test :progress false
                                 :lr-schedule {:type :cosine :epochs (:epochs conv-sizes) :min 1e-5}}))

(map #(select-keys % [:epoch :train-loss :train-acc :test-acc :train-s :samples-per-s]) conv-history)

(plot/curves conv-history [:train-acc :test-acc] {:title "Accuracy per epoch"})

;; Spikes per neuron and sample in each spiking stage, on the test images:

(let [spikes (:spikes-per-neuron (learn/evaluate conv conv-test))
      stages (learn/shapes conv)]
  (plot/bars (into (array-map) (for [[i s] (map-indexed vector spikes) :when (#{"LIF"} (:type (nth stages i)))]
                                 [(str "layer " i " (LIF, " (reduce * (:out (nth stages i))) " neurons)") s]))
             {:title "Spikes per neuron and sample" :x-title "spiking stage" :y-title "spikes per neuron per sample"}))

;; One test image as the network sees it (its input spikes per pixel; a
;; latency code gives each pixel at most one), and the spike counts of the
;; two LIF layers' feature maps for it:

(let [events (learn/sample-events conv-test 0)
      counts (float-array 784)]
  (doseq [[_ u] events] (aset counts (int u) (inc (aget counts (int u)))))
  (plot/feature-maps counts [1 28 28] {:title (str "Input spikes, test image 0 (label " (aget (.labels conv-test) 0) ")") :px 6}))

(let [{:keys [values shape]} (learn/feature-maps conv conv-test 0 1)]
  (plot/feature-maps values shape {:title "First LIF layer: spikes per neuron over 12 steps" :px 4}))

(let [{:keys [values shape]} (learn/feature-maps conv conv-test 0 4)]
  (plot/feature-maps values shape {:title "Second LIF layer: spikes per neuron over 12 steps" :max-channels 32 :px 8}))

;; ## From the trainer to the simulator, through NIR
;;
;; A network trained here can leave chive as a NIR file (the format snnTorch,
;; Norse, Sinabs, Lava and the neuromorphic back ends exchange) and come back
;; into chive's simulator, where it has monitors, plots and plasticity like
;; any other network. A feed-forward network on the same Randman task, with
;; the reset NIR describes (to 0 after a spike, before the next input):

(def ff (learn/model {:inputs 16 :layers [{:type :affine :n 32}
                                         {:type :lif :mem 0.95 :threshold 1.0 :reset :hard-leak}
                                         {:type :affine :n 2}
                                         {:type :lif :mem 0.95 :threshold 1.0 :reset :hard-leak}]
                      :loss {:type :spike-count :reduction :sum :scale 0.5}
                      :init {:type :normal :scale 3.0} :seed 42 :threads 2}))

(def ff-history
  (learn/train! ff (first parts) {:epochs 10 :batch 48 :optimizer {:type :sgd :lr 2e-2 :momentum 0.9}
                                  :shuffle-seed 42 :test (second parts) :progress false}))

(map #(select-keys % [:epoch :train-acc :test-acc]) ff-history)

;; Exported at 1 ms per step (tau = dt/(1 - beta), r = tau/dt: snnTorch's
;; convention), written, read back and checked:

(def nir-file (let [f (java.io.File/createTempFile "randman" ".nir")]
                (nir/write! f (nir/export-learn ff {:dt 1e-3}))
                f))

(nir/info (nir/read nir-file))

;; In the simulator every neuron node is a group and the Affine maps are
;; projections; the input sample plays through a spike generator:

(def sim-spec
  (let [[_ test] parts
        raster (double-array (* 100 16))]
    (doseq [[t u] (learn/sample-events test 0)] (aset raster (+ (* t 16) u) 1.0))
    (nir/import-net (nir/read nir-file) {:dt 1e-3 :input {:raster raster :shape [100 16]}})))

(def sim (doto (net/build sim-spec) (net/run! (u/ms 101) :progress false)))

;; The hidden layer's spikes for test sample 0, in the trainer (`learn/record`)
;; and in the simulator: the same spikes, the simulator's one step (1 ms) later,
;; since a projection delivers a spike in the step after it, where the trainer
;; passes it on within the step.

(def hidden-trainer
  (let [[_ test] parts
        ^floats hidden (nth (learn/record ff test [0]) 1)]
    (vec (for [t (range 100) j (range 32) :when (pos? (aget hidden (+ (* t 32) j)))] [j t]))))

(def hidden-sim (let [{:keys [indices times-ms]} (net/spikes sim :lif_1-spikes)]
                  (mapv (fn [i t] [i (Math/round (double t))]) indices times-ms)))

{:trainer-spikes (count hidden-trainer) :simulator-spikes (count hidden-sim)
 :the-same-one-step-later (= (set (map (fn [[j t]] [j (inc t)]) hidden-trainer)) (set hidden-sim))}

[(plot/raster {:indices (int-array (map first hidden-trainer)) :times-ms (double-array (map second hidden-trainer))}
              {:title "trainer (chive.learn), hidden layer" :t-max-ms 101 :n-max 32 :width 300 :height 200})
 (plot/raster (net/spikes sim :lif_1-spikes)
              {:title "simulator (chive.net), hidden layer" :t-max-ms 101 :n-max 32 :width 300 :height 200})]
