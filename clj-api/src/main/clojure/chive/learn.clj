(ns chive.learn
  "Surrogate-gradient training of spiking networks, live from the REPL.

  A model is data:

    {:inputs 16
     :layers [{:n 32 :recurrent true} {:n 2 :recurrent true}]
     :neuron jax-seed-neuron            ; defaults for every layer; a layer may override keys
     :loss {:type :spike-count :reduction :sum :scale 0.5}
     :init {:type :glorot-uniform}
     :seed 42 :threads 2 :kernels :auto}

  `model` builds it on the Java engine (chive.core.learn: BPTT with
  hand-written backward kernels; addition-only products for spike inputs,
  GEMM through pure Java or OpenBLAS otherwise). `train!` runs epochs with a
  progress line on stderr (loss, accuracy, samples/s), returns the history as
  data, calls :on-epoch after each epoch, stops early on request, writes
  checkpoints, and on an nREPL interrupt keeps the weights of the last
  finished epoch. `evaluate` measures a dataset.

  Neuron keys: :mem :syn :rec (decay factors per step) or :tau-mem :tau-syn
  :tau-rec with :dt, all times as chive.units quantities ((ms 10); factor
  exp(-dt/tau); plain numbers of ms still work, with a deprecation warning); gains :in-gain :rec-gain
  :mem-gain (default 1); :threshold; :reset (:hard, :hard-leak, :soft);
  :detach-reset; :surrogate [kind param] with kind :superspike :fast-sigmoid
  :sigmoid :atan :triangle. A layer with :readout true is a leaky integrator
  (output = membrane), for the :max-membrane loss."
  (:require [chive.impl.log :refer [log] :as clog]
            [cheshire.core :as json]
            [chive.impl.json :as cjson]
            [chive.impl.validate :as v]
            [chive.io :as cio]
            [chive.registry :as registry]
            [chive.units :as u]
            [clojure.java.io :as io]
            [clojure.string :as str])
  (:import [chive.core.learn Dataset Layer Layer$Reset SpikingNet SpikingNet$LossKind SpikingNet$Mode SpikingNet$Stats
            Surrogate Optimizer Optimizer$Sgd Optimizer$Adam Dataset StdpGradient
            Module Weighted Conv2d Pool2d Pool2d$Kind Flatten Affine Neuron Neuron$Kind Neuron$Per Delay Dropout BatchNorm]
           [chive.core.data Randman Encoders Npy Idx$Images NEvents Shd]
           [chive.core.kernel Kernels]
           [java.io File]
           [java.util SplittableRandom]))

;; ---------------------------------------------------------------- neurons

(def jax-seed-neuron
  "The JAX seed's layer: U = 0.95(1-S)U + 0.05(20 I + Ir), I = 0.9 I + 0.1 Wx,
  Ir = 0.85 Ir + 0.15 VS, threshold 1, SuperSpike(10), reset gradient stopped."
  {:mem 0.95 :syn 0.9 :rec 0.85
   :in-gain (* 20 (- 1 0.9)) :rec-gain (- 1 0.85) :mem-gain (- 1 0.95)
   :threshold 1.0 :reset :hard-leak :detach-reset true :surrogate [:superspike 10]})

(def spytorch-neuron
  "SpyTorch's current-based LIF: tau_mem 10 ms, tau_syn 5 ms, dt 1 ms, gains 1,
  U = (beta U + I)(1 - S), threshold 1, SuperSpike(100), reset detached."
  {:tau-mem (u/ms 10) :tau-syn (u/ms 5) :dt (u/ms 1) :threshold 1.0 :reset :hard :detach-reset true :surrogate [:superspike 100]})

(defn- fail [msg data] (throw (ex-info msg data)))

(defonce ^:private warned (atom #{}))

(defn- ms-of
  "A time given as a quantity (chive.units), or, deprecated, as a plain number
  of ms (warns once per key)."
  [k x]
  (if (number? x)
    (do (when-not (@warned k)
          (swap! warned conj k)
          (log (str "chive.learn: " k " " x " as a plain number is deprecated; write (chive.units/ms " x ")")))
        (u/check k (u/ms x) :ms))
    (u/check k x :ms)))

(defn- decay [nrn k tau-k]
  (cond (contains? nrn k) (double (nrn k))
        (contains? nrn tau-k) (let [tau (ms-of tau-k (nrn tau-k))
                                    dt (ms-of :dt (or (:dt nrn) (fail (str tau-k " needs :dt (a time, e.g. (ms 1))") {:neuron nrn})))]
                                (when-not (pos? tau) (fail (str tau-k " must be > 0 ms, got " tau) {:neuron nrn}))
                                (when-not (pos? dt) (fail (str ":dt must be > 0 ms, got " dt) {:neuron nrn}))
                                (Math/exp (- (/ dt tau))))
        :else 0.0))

(def ^:private resets {:hard Layer$Reset/HARD :hard-leak Layer$Reset/HARD_LEAK :soft Layer$Reset/SOFT})

(def ^:private neuron-keys #{:mem :syn :rec :tau-mem :tau-syn :tau-rec :dt :in-gain :rec-gain :mem-gain
                             :threshold :reset :detach-reset :surrogate})

(doseq [[k doc] [[:superspike "1/(beta|x| + 1)^2 (Zenke & Ganguli 2018; snnTorch's fast_sigmoid); parameter beta"]
                [:fast-sigmoid "(k/2)/(1 + k|x|)^2, the derivative of 0.5(1 + kx/(1 + k|x|)); parameter k"]
                [:sigmoid "k s(kx)(1 - s(kx)), s the logistic function; parameter k"]
                [:atan "(a/2)/(1 + (pi/2 a x)^2); parameter a"]
                [:triangle "max(0, 1 - |x|/w)/w (unit area); parameter w"]]]
  (registry/register! :surrogate k {:doc doc :new (fn [p] (Surrogate/of (name k) (double p)))}))

(defn- surrogate ^Surrogate [[kind p :as s]]
  (when-not (and kind (number? p)) (fail (str "surrogate must be [kind parameter], e.g. [:superspike 10], got " (pr-str s)) {:surrogate s}))
  ((:new (registry/lookup :surrogate (keyword (name kind)) "surrogate")) (double p)))

(defn- make-layer ^Layer [n-in {:keys [n readout recurrent] :as spec} nrn]
  (when-not (and (integer? n) (pos? n)) (fail (str "layer :n must be a positive integer, got " (pr-str n)) {:layer spec}))
  (when-let [bad (seq (remove (into neuron-keys #{:n :readout :recurrent :type}) (keys spec)))]
    (fail (str "unknown layer keys " (pr-str bad) "; neuron keys are " (sort neuron-keys)) {:layer spec}))
  (let [nrn (merge nrn (select-keys spec neuron-keys))
        reset (or (resets (:reset nrn :hard)) (fail (str "unknown :reset " (pr-str (:reset nrn)) "; one of " (keys resets)) {:neuron nrn}))]
    (Layer. (int n-in) (int n) (not readout) (boolean recurrent)
            (decay nrn :mem :tau-mem) (decay nrn :syn :tau-syn) (decay nrn :rec :tau-rec)
            (double (:in-gain nrn 1.0)) (double (:rec-gain nrn 1.0)) (double (:mem-gain nrn 1.0))
            (double (:threshold nrn 1.0)) reset (boolean (:detach-reset nrn true))
            (when-not readout (surrogate (:surrogate nrn [:superspike 10]))))))

;; ---------------------------------------------------------------- layer kinds

(defn- pair
  "An int or [a b] as [a b] (kernel, stride, padding, dilation), each checked."
  [path what x lo]
  (let [[a b :as p] (if (integer? x) [x x] x)]
    (when-not (and (vector? p) (= 2 (count p)) (every? integer? p))
      (v/fail! path (str what " must be an integer or [h w], got " (pr-str x)) {:value x}))
    [(v/int-in! path what a lo nil) (v/int-in! path what b lo nil)]))

(def ^:private elementwise-neuron-keys #{:mem :tau-mem :syn :tau-syn :dt :threshold :reset :detach-reset :surrogate})

(defn- neuron-module
  "An element-wise Neuron stage (chive.core.learn.Neuron) of `kind` from the
  layer spec merged over the model's :neuron defaults (only the keys that
  apply: decays, threshold, reset, surrogate; gains and :rec are ignored)."
  [kind path spec nrn]
  (let [nrn (merge (select-keys nrn elementwise-neuron-keys) (select-keys spec elementwise-neuron-keys))
        spiking? (#{:lif :if} kind)
        leaky? (#{:lif :li} kind)
        current? (or (contains? nrn :syn) (contains? nrn :tau-syn))
        learn (set (:learn spec #{}))
        per ({:neuron Neuron$Per/NEURON :channel Neuron$Per/CHANNEL :layer Neuron$Per/LAYER}
             (v/one-of! path ":per" (:per spec :neuron) [:neuron :channel :layer]))
        reset (resets (v/one-of! path ":reset" (:reset nrn :soft) (keys resets)))]
    (when-not (set? (set learn)) (v/fail! path (str ":learn must be a set, got " (pr-str (:learn spec))) {}))
    (doseq [k learn] (v/one-of! path ":learn entry" k [:mem :syn :threshold]))
    (when (and (contains? learn :mem) (not leaky?))
      (v/fail! path (str (name kind) " neurons do not leak (beta = 1); :learn :mem needs :lif or :li") {:learn learn}))
    (when (and (contains? learn :syn) (not current?))
      (v/fail! path ":learn :syn needs a current-based neuron (give :syn or :tau-syn)" {:learn learn}))
    (when (and (contains? learn :threshold) (not spiking?))
      (v/fail! path (str (name kind) " is a readout without a threshold; :learn :threshold needs :lif or :if") {:learn learn}))
    (when (and leaky? (not (or (contains? nrn :mem) (contains? nrn :tau-mem))))
      (v/fail! path (str (name kind) " needs :mem (the decay per step) or :tau-mem with :dt, here or in the model's :neuron") {}))
    (when (and (:recurrent spec) (not spiking?))
      (v/fail! path (str (name kind) " is a readout; :recurrent needs :lif or :if") {}))
    (Neuron. ({:lif Neuron$Kind/LIF :if Neuron$Kind/IF :li Neuron$Kind/LI :integrator Neuron$Kind/I} kind)
             (if leaky? (decay nrn :mem :tau-mem) 1.0) (boolean current?) (if current? (decay nrn :syn :tau-syn) 0.0)
             (double (:threshold nrn 1.0)) reset (boolean (:detach-reset nrn true))
             (when spiking? (surrogate (:surrogate nrn [:superspike 10]))) per
             (contains? learn :mem) (contains? learn :syn) (contains? learn :threshold)
             (boolean (v/bool! path ":recurrent" (:recurrent spec false))))))

(defn- pool-entry [kind k doc]
  (registry/register!
   :layer k
   {:doc doc :keys #{:kernel :stride :padding}
    :new (fn [path spec _nrn _shape _seed]
           (let [[kh kw] (pair path ":kernel" (or (:kernel spec) (v/fail! path (str (name k) " needs :kernel") {})) 1)
                 [sh sw] (pair path ":stride" (:stride spec [kh kw]) 1)
                 [ph pw] (pair path ":padding" (:padding spec 0) 0)]
             (Pool2d. kind (int kh) (int kw) (int sh) (int sw) (int ph) (int pw))))}))

(registry/register!
 :layer :dense
 {:doc "LIF neurons with their own feed-forward (and, with :recurrent true, recurrent) weights: the layer of the JAX seed and SpyTorch (chive.core.learn.Layer; :readout true makes it a leaky integrator); the default when a layer has no :type"
  :keys (into neuron-keys #{:n :readout :recurrent})
  :new (fn [_path spec nrn shape _seed] (make-layer (reduce * shape) spec nrn))})

(registry/register!
 :layer :conv2d
 {:doc "2-D convolution over [C H W] maps per time step: :channels (out), :kernel, :stride 1, :padding 0, :dilation 1, :groups 1, :bias true; im2col + GEMM, or an event scatter for sparse spike input (chosen per batch)"
  :keys #{:channels :kernel :stride :padding :dilation :groups :bias}
  :new (fn [path spec _nrn shape _seed]
         (let [cout (v/int-in! path ":channels" (:channels spec) 1 nil)
               [kh kw] (pair path ":kernel" (or (:kernel spec) (v/fail! path "conv2d needs :kernel" {})) 1)
               [sh sw] (pair path ":stride" (:stride spec 1) 1)
               [ph pw] (pair path ":padding" (:padding spec 0) 0)
               [dh dw] (pair path ":dilation" (:dilation spec 1) 1)
               groups (v/int-in! path ":groups" (:groups spec 1) 1 nil)
               bias (v/bool! path ":bias" (:bias spec true))]
           (when-not (= 3 (count shape))
             (v/fail! path (str "conv2d takes [C H W] maps, got shape " (pr-str shape) " (give the model's :inputs as [C H W])") {:shape shape}))
           (Conv2d. (int (first shape)) (int cout) (int kh) (int kw) (int sh) (int sw) (int ph) (int pw) (int dh) (int dw) (int groups) (boolean bias))))})

(pool-entry Pool2d$Kind/MAX :maxpool2d "max over each :kernel window per channel (:stride = kernel, :padding 0); spikes stay spikes")
(pool-entry Pool2d$Kind/AVG :avgpool2d "mean over each :kernel window per channel (:stride = kernel, :padding 0, counted as zeros)")
(pool-entry Pool2d$Kind/SUM :sumpool2d "sum over each :kernel window per channel (:stride = kernel, :padding 0): NIR's SumPool2d")

(registry/register!
 :layer :flatten
 {:doc "[C H W] maps to one vector of C·H·W units (no copy)" :keys #{}
  :new (fn [_ _ _ _ _] (Flatten.))})

(registry/register!
 :layer :affine
 {:doc "x·w + b per time step: :n outputs, :bias true (false: NIR's Linear)" :keys #{:n :bias}
  :new (fn [path spec _nrn shape _seed]
         (Affine. (int (reduce * shape)) (int (v/int-in! path ":n" (:n spec) 1 nil)) (boolean (v/bool! path ":bias" (:bias spec true)))))})

(doseq [[k doc] [[:lif "leaky integrate-and-fire neurons, one per input unit: U = beta U + J - reset, J the input or, with :syn/:tau-syn, a synaptic current; :reset :soft (default), :hard, :hard-leak; :recurrent true adds the previous step's spikes through trained weights v (n x n, uniform in ±1/sqrt(n) at first; vector input)"]
                 [:if "integrate-and-fire (no leak: beta = 1), one per input unit"]
                 [:li "leaky integrator readout, one per input unit: output U = beta U + J (for the :max-membrane loss)"]
                 [:integrator "integrator readout (beta = 1): output U = U + J"]]]
  (registry/register!
   :layer k
   {:doc (str doc ". Options: the neuron keys (:mem/:tau-mem, :syn/:tau-syn, :dt, :threshold, :reset, :detach-reset, :surrogate; defaults from the model's :neuron), :per :neuron|:channel|:layer (how many values of each), :learn a set of #{:mem :syn :threshold} to train")
    :keys (into elementwise-neuron-keys #{:per :learn :recurrent})
    :new (fn [path spec nrn _shape _seed] (neuron-module k path spec nrn))}))

(registry/register!
 :layer :batchnorm
 {:doc "batch normalisation per channel (per unit for vectors), statistics over each sample group's samples, steps and positions in training (ghost batch norm, shared over time as tdBN), running estimates (:momentum 0.1) in evaluation; trains a scale (:weight) and a shift (:bias); :eps 1e-5"
  :keys #{:momentum :eps}
  :new (fn [path spec _ _ _]
         (BatchNorm. (double (v/number-in! path ":momentum" (:momentum spec 0.1) 0 1))
                     (double (v/number-in! path ":eps" (:eps spec 1e-5) 0 nil))))})

(registry/register!
 :layer :delay
 {:doc "delays every unit by :steps whole time steps (0 before)" :keys #{:steps}
  :new (fn [path spec _ _ _] (Delay. (int (v/int-in! path ":steps" (:steps spec) 0 nil))))})

(registry/register!
 :layer :dropout
 {:doc "drops each unit with probability :p for a whole sample (one mask over time) in training, scales the rest by 1/(1 - p); passes through in evaluation"
  :keys #{:p}
  :new (fn [path spec _ _ seed] (Dropout. (v/number-in! path ":p" (:p spec) 0 0.999) (long seed)))})

(defn- make-stage
  "The Module for layer spec `spec` (index i) taking one sample's step of `shape`."
  [i spec nrn shape seed]
  (let [path [:layers i]]
    (when-not (map? spec) (v/fail! path (str "a layer is a map, got " (pr-str spec)) {:value spec}))
    (let [k (:type spec :dense)
          entry (try (registry/lookup :layer k "layer type")
                     (catch clojure.lang.ExceptionInfo e (v/fail! path (ex-message e) (ex-data e))))]
      (v/closed! path (str (name k) " layer") spec (conj (set (:keys entry)) :type))
      ((:new entry) path spec nrn shape seed))))

(def ^:private losses {:spike-count SpikingNet$LossKind/COUNT_CE :max-membrane SpikingNet$LossKind/MAX_CE})

(def ^:private init-types [:glorot-uniform :normal :kaiming-uniform :lsuv])

(defn- init! [m {:keys [type scale] :or {type :glorot-uniform}} ^SplittableRandom rng]
  ;; recurrent neuron stages: v uniform in ±1/sqrt(n) (PyTorch's RNN default), whatever the :init type
  (when (instance? Neuron m) (.initRecurrent ^Neuron m rng))
  (when (instance? Weighted m)
    (let [^Weighted w m
          scale (if (= scale :spytorch)
                  (if (instance? Layer m)
                    (* 7 (- 1 (.mem ^Layer m)))
                    (fail (str ":init :scale :spytorch (7(1 - mem)) is defined for dense layers only; give a number for " (.kind w)) {}))
                  scale)]
      (case type
        :glorot-uniform (.initGlorotUniform w rng)
        :normal (.initNormal w (double (or scale 1.0)) rng)
        :kaiming-uniform (.initKaimingUniform w rng)
        (fail (str "unknown :init type " (pr-str type) " " (pr-str init-types)) {:init type})))))

(def ^:private lsuv-keys #{:type :data :batch :target-std :tol :max-iter :base})

(defn- lsuv-targets
  "[stage index, weights to scale, threshold] for every stage with a
  membrane: a dense layer scales its own w; element-wise neurons scale the
  nearest weighted stage before them (none between: skipped)."
  [^SpikingNet net]
  (let [ms (vec (.modules net))]
    (vec (keep (fn [l]
                 (let [m (ms l)]
                   (cond
                     (instance? Layer m) [l (.w ^Layer m) (double (.threshold ^Layer m))]
                     (instance? Neuron m)
                     (let [^Neuron nm m
                           th (if (.spiking nm) (let [^floats t (.threshold nm)] (/ (areduce t i s 0.0 (+ s (aget t i))) (alength t))) 1.0)
                           w (some (fn [j] (let [p (ms j)]
                                             (cond (or (instance? Neuron p) (instance? Layer p)) ::none
                                                   (instance? Weighted p) (.weights ^Weighted p)
                                                   :else nil)))
                                   (range (dec l) -1 -1))]
                       (when (and w (not= w ::none)) [l w th])))))
               (range (count ms))))))

(defn- lsuv!
  "Layer-sequential unit variance (Mishkin & Matas 2016, as the JAX seed
  suggests for spiking networks): for each stage with a membrane in order,
  the weights feeding it (a dense layer's own w; for element-wise neurons,
  the convolution or affine map before them) are multiplied by target/std(U)
  until the standard deviation of its membrane potential U over the first
  :batch samples of :data, all steps and neurons, is within :tol (relative)
  of :target-std thresholds, at most :max-iter times (U depends on the
  spikes and resets, so one scaling is not exact). Recurrent weights and
  biases keep their base initialisation. Returns one {:layer :std
  :iterations} per such stage (std in thresholds)."
  [^SpikingNet net {:keys [data batch target-std tol max-iter] :or {batch 256 target-std 1.0 tol 0.05 max-iter 10} :as init}]
  (when-not (instance? Dataset data)
    (fail (str ":init :lsuv needs :data, a dataset (for example the training set), got " (pr-str (type data))) {:init (dissoc init :data)}))
  (when-not (and (number? target-std) (pos? target-std) (number? tol) (pos? tol) (integer? max-iter) (pos? max-iter) (integer? batch) (pos? batch))
    (fail (str ":init :lsuv needs positive :target-std and :tol, and positive integers :max-iter and :batch, got "
               (pr-str (select-keys init [:target-std :tol :max-iter :batch]))) {:init (dissoc init :data)}))
  (let [^Dataset d data
        x (.batch d (int-array (range (min (long batch) (.samples d)))))]
    (vec (for [[l ^floats w th] (lsuv-targets net)
               :let [std-of (fn [] (let [^floats u (aget (.recordMembrane net x) l)
                                         n (alength u)
                                         mean (/ (areduce u i s 0.0 (+ s (aget u i))) n)]
                                     (/ (Math/sqrt (/ (areduce u i s 0.0 (+ s (let [dv (- (aget u i) mean)] (* dv dv)))) n)) (double th))))]]
           (loop [k 0 std (std-of)]
             (cond
               (not (pos? std))
               (fail (str ":init :lsuv: layer " l "'s membrane potential does not vary on the data batch (no input reaches it); "
                          "LSUV cannot scale it") {:layer l})
               (or (<= (Math/abs (- (/ std target-std) 1.0)) tol) (= k max-iter))
               {:layer l :std std :iterations k}
               :else
               (let [f (float (/ target-std std))]
                 (dotimes [i (alength w)] (aset w i (* f (aget w i))))
                 (recur (inc k) (std-of)))))))))

(defrecord Model [spec ^SpikingNet net state])

(defn- input-shape [inputs spec]
  (cond
    (and (integer? inputs) (pos? inputs)) [inputs]
    (and (vector? inputs) (#{1 3} (count inputs)) (every? #(and (integer? %) (pos? %)) inputs)) inputs
    :else (fail (str ":inputs must be a positive integer or a shape [C H W] of positive integers, got " (pr-str inputs)) {:spec spec})))

(defn model
  "Builds a model from its spec (see the namespace doc). Weights are
  initialised from :seed; :init {:type :normal :scale s} draws N(0, s/sqrt(fan_in))
  (SpyTorch, with s = 7(1 - mem) as :scale :spytorch); :kaiming-uniform draws
  weights and biases uniform in ±1/sqrt(fan_in) (PyTorch's default for
  Linear and Conv2d); :init {:type :lsuv :data d} starts from :base (default
  {:type :glorot-uniform}) and scales each layer's feed-forward weights until
  its membrane potential has :target-std (default 1) thresholds of standard
  deviation on the first :batch (256) samples of d, within :tol (0.05), at
  most :max-iter (10) times per layer; (:lsuv @(:state m)) reports each
  layer's std and iterations."
  [{:keys [inputs layers neuron loss init seed threads kernels] :or {seed 0 threads 1 kernels :auto} :as spec}]
  (let [shape0 (input-shape inputs spec)]
    (when (empty? layers) (fail "a model needs :layers" {:spec spec}))
    (let [nrn (merge {} neuron)
          stages (loop [shape shape0 i 0 [l & more] layers acc []]
                   (if l
                     (let [^Module m (make-stage i l nrn shape (+ (* 1000003 (long seed)) i))
                           out (vec (.bind m (int-array shape) (str "layer " i)))]
                       (recur out (inc i) more (conj acc m)))
                     acc))
          rng (SplittableRandom. (long seed))
          {:keys [type reduction scale] :or {type :spike-count reduction :sum scale 1.0}} loss
          lk (or (losses type) (fail (str "unknown loss " (pr-str type) "; one of " (keys losses)) {:loss loss}))]
      (when (= :lsuv (:type init))
        (v/closed! [:init] ":init :lsuv" init lsuv-keys))
      (let [base (if (= :lsuv (:type init)) (:base init {:type :glorot-uniform}) init)]
        (doseq [m stages] (init! m (or base {}) rng)))
      (let [net (if (every? #(instance? Layer %) stages)
                  (SpikingNet. ^"[Lchive.core.learn.Layer;" (into-array Layer stages) lk
                               (case reduction :mean true :sum false
                                     (fail (str "loss :reduction must be :sum or :mean, got " (pr-str reduction)) {:loss loss}))
                               (double scale) (Kernels/named (name kernels)) (int threads))
                  (SpikingNet. ^"[Lchive.core.learn.Module;" (into-array Module stages) (int-array shape0) lk
                               (case reduction :mean true :sum false
                                     (fail (str "loss :reduction must be :sum or :mean, got " (pr-str reduction)) {:loss loss}))
                               (double scale) (Kernels/named (name kernels)) (int threads)))
            report (when (= :lsuv (:type init))
                     (try (lsuv! net init) (catch Throwable t (.close net) (throw t))))]
        (->Model (cond-> spec (:data init) (update :init assoc :data (.description ^Dataset (:data init))))
                 net
                 (atom (cond-> {:history [] :optimizer nil :epoch 0} report (assoc :lsuv report))))))))

(defn layer-types
  "The registered layer types with their docs (an open list: register more
  with (chive.registry/register! :layer k {:doc :keys :new})), as {type doc}."
  []
  (into (sorted-map) (for [[k e] (registry/entries-of :layer)] [k (:doc e)])))

(defn shapes
  "Each layer's type, input and output shape (one sample's step), in order."
  [^Model m]
  (vec (for [[i ^Module s] (map-indexed vector (.modules ^SpikingNet (:net m)))]
         {:layer i :type (.kind s) :in (vec (.inShape s)) :out (vec (.outShape s))})))

(defn weights
  "The trainable arrays as {:layer i :name :w|:v|:bias|:mem|:syn|:threshold :shape [...] :values float[]} (live arrays)."
  [^Model m]
  (vec (for [[i ^Module s] (map-indexed vector (.modules ^SpikingNet (:net m)))
             [nm a shape] (map vector (.paramNames s) (.params s) (.paramShapes s))]
         {:layer i :name ({"beta" :mem "alpha" :syn} nm (keyword nm)) :shape (vec shape) :values a})))

;; ---------------------------------------------------------------- data

(defn randman
  "A Randman dataset (Zenke & Vogels 2021), arguments as the reference
  make_spike_raster_dataset: :classes :units :steps :step-frac :dim-manifold
  :spikes :samples (per class) :alpha :seed :shuffle."
  [{:keys [classes units steps step-frac dim-manifold spikes samples alpha seed shuffle]
    :or {classes 2 units 16 steps 100 step-frac 1.0 dim-manifold 2 spikes 1 samples 1000 alpha 2.0 seed 42 shuffle true}}]
  (Randman/dataset (long seed) (int classes) (int units) (int steps) (double step-frac) (int dim-manifold)
                   (int spikes) (int samples) (double alpha) (boolean shuffle)))

(defn event-folder
  "A dataset of binary spikes from event-camera recordings in the N-MNIST /
  N-Caltech101 binary format (chive.core.data.NEvents: 40-bit events, x, y,
  polarity, timestamp in us), laid out as published: `dir` holds one folder
  per class (N-MNIST: Train/0 ... Train/9, so pass .../Train or .../Test),
  each with one .bin file per sample. Classes whose folder names are all
  whole numbers get those numbers as labels, otherwise labels follow the
  sorted names; samples are read class by class, files in name order.
  Options: :dt bin width (a time, default (ms 1)), :steps (default 300),
  :width :height sensor size (default 34 x 34, N-MNIST's), :polarity (true:
  ON and OFF events on separate units, 2·width·height of them). Several
  events of one unit in one step make one spike; events after :steps·:dt are
  dropped.
  :augment {:copies k :shift s :jitter dt-jitter :seed n} adds k augmented
  copies of every sample (after it, same label): all its events moved by a
  random whole number of pixels in [-s, s] in x and in y (events leaving the
  sensor dropped), and every timestamp by Gaussian noise of standard
  deviation dt-jitter (a time); reproducible from :seed."
  [dir {:keys [dt steps width height polarity augment] :or {steps 300 width 34 height 34 polarity true}}]
  (let [root (io/file dir)
        _ (when-not (.isDirectory root) (fail (str "event folder " root " does not exist or is not a folder") {:dir (str root)}))
        class-dirs (sort-by #(.getName ^File %) (filter #(.isDirectory ^File %) (.listFiles root)))
        _ (when (empty? class-dirs) (fail (str "event folder " root " has no class folders (N-MNIST: Train/0 ... Train/9)") {:dir (str root)}))
        names (map #(.getName ^File %) class-dirs)
        numeric? (every? #(re-matches #"\d+" %) names)
        label-of (if numeric? (zipmap names (map #(Long/parseLong %) names)) (zipmap names (range)))
        classes (if numeric? (inc (apply max (vals label-of))) (count names))
        files (for [^File cd (if numeric? (sort-by #(label-of (.getName ^File %)) class-dirs) class-dirs)
                    ^File f (sort-by #(.getName ^File %) (filter #(and (.isFile ^File %) (.endsWith (.getName ^File %) ".bin")) (.listFiles cd)))]
                [f (label-of (.getName cd))])
        _ (when (empty? files) (fail (str "event folder " root ": no .bin files in its class folders") {:dir (str root)}))
        dt-ms (if dt (ms-of :dt dt) 1.0)
        {:keys [copies shift jitter seed] :or {copies 0 shift 0 seed 0}} augment
        _ (when augment
            (v/closed! [:augment] "event-folder :augment" augment [:copies :shift :jitter :seed])
            (when-not (and (nat-int? copies) (nat-int? shift) (integer? seed))
              (fail (str ":augment needs whole numbers :copies >= 0, :shift >= 0 and :seed, got " (pr-str augment)) {:augment augment})))
        jitter-us (if jitter (* 1000.0 (ms-of :jitter jitter)) 0.0)
        rng (java.util.SplittableRandom. (long seed))
        samples (vec (for [[^File f label] files
                           :let [^NEvents e (NEvents/read (.toPath f))]
                           x (cons e (for [_ (range copies)]
                                       (let [dx (- (.nextInt rng (int (inc (* 2 shift)))) shift)
                                             dy (- (.nextInt rng (int (inc (* 2 shift)))) shift)]
                                         (.jittered (.shifted e (int dx) (int dy) (int width) (int height))
                                                    (double jitter-us) rng))))]
                       [x label]))
        events (mapv first samples)]
    (NEvents/bin ^java.util.List events (int-array (map second samples)) (int classes) (int width) (int height) (boolean polarity)
                 (double dt-ms) (int steps)
                 (format "events %s: %d samples%s, %d classes, %dx%d%s, dt %s ms, %d steps" root (count samples)
                         (if augment (format " (%d files, %d augmented copies each)" (count files) copies) "")
                         classes width height (if polarity " x 2 polarities" "") dt-ms steps))))

(defn shd
  "A dataset of binary spikes from a file in the HDF5 layout of the Heidelberg
  spiking data sets (SHD: 20 spoken-digit classes; SSC: 35 speech commands):
  spikes/times (seconds) and spikes/units (channels 0..699) per sample, and
  labels (chive.core.data.Shd). Options: :dt bin width (a time, default
  (ms 10)), :steps (default 100: the first second at 10 ms), :channels
  (default 700), :classes (default: the largest label + 1). Several spikes of
  a channel in one step make one spike; spikes after :steps·:dt are dropped."
  [file {:keys [dt steps channels classes] :or {steps 100 channels Shd/CHANNELS}}]
  (let [f (io/file file)
        data (Shd/read (.toPath f))
        dt-ms (if dt (ms-of :dt dt) 10.0)
        labels (.labels data)
        classes (or classes (inc (reduce max -1 labels)))]
    (when (zero? (alength labels)) (fail (str f ": no samples") {:file (str f)}))
    (.bin data (int channels) (int classes) (double dt-ms) (int steps)
          (format "SHD layout %s: %d samples, %d classes, %d channels, dt %s ms, %d steps"
                  f (alength labels) classes channels dt-ms steps))))

(defn split-at-fraction
  "[first second]: the first floor(f·N) samples, and the rest (the JAX seed's 80/20 split)."
  [^Dataset d f]
  (let [k (int (* (double f) (.samples d)))]
    [(.range d 0 k) (.range d k (.samples d))]))

(defn images->floats
  "A chive.data part's images as float[] in [0,1], images × pixels, and its labels as int[]."
  [{:keys [^Idx$Images images ^bytes labels]}]
  (let [n (.count images) px (* (.rows images) (.cols images))
        out (float-array (* n px)) buf (double-array px)]
    (dotimes [k n]
      (.image images (int k) (/ 1.0 255) buf)
      (dotimes [i px] (aset out (+ (* k px) i) (float (aget buf i)))))
    [out (int-array (map #(bit-and 0xFF %) labels)) px]))

(defn- classes-of
  "The class count of labels `y` (int[]): the largest label + 1."
  ^long [^ints y]
  (inc (long (reduce max -1 y))))

(defn latency-code
  "Latency code of a chive.data part (SpyTorch): first-spike step
  floor(tau·ln(x/(x - thr))) for pixel x > thr, tau 20 steps (20 ms at 1 ms), thr 0.2, 100 steps.
  With :linear true (snnTorch's linear, normalised latency), step
  round((1 - x)/(1 - thr)·(steps - 1)), default thr 0: intensities spread
  evenly over the window (the logarithmic code fires every bright pixel in
  its first steps); :tau does not apply."
  ([part] (latency-code part {}))
  ([part {:keys [tau thr steps linear] :as opts}]
   (v/closed! [] "latency-code" opts [:tau :thr :steps :linear])
   (let [[x y px] (images->floats part)]
     (if linear
       (do (when (contains? opts :tau) (fail ":tau does not apply to the linear latency code (:linear true)" {:tau tau}))
           (Encoders/linearLatency x (int px) y (classes-of y) (double (or thr 0.0)) (int (or steps 100))))
       (Encoders/latency x (int px) y (classes-of y) (double (or tau 20.0)) (double (or thr 0.2)) (int (or steps 100)))))))

(defn sample-events
  "Sample `k` of dataset `d` as [step unit] pairs (its input spikes)."
  [^Dataset d k]
  (let [^chive.core.kernel.SpikeRows ev (.events d) T (.steps d)]
    (vec (for [t (range T) :let [r (+ (* (long k) T) t)] e (range (aget (.rowPtr ev) r) (aget (.rowPtr ev) (inc r)))]
           [t (aget (.idx ev) e)]))))

(defn rate-code
  "Rate code of a chive.data part: pixel x in [0,1] spikes in each step with
  probability x·max-rate·dt (defaults 100 Hz, 1 ms, 100 steps), from a
  counter-based random stream (seed, sample, unit, step).
  With :regular true, the same rate without the noise (an integrate-and-fire
  encoder): each pixel accumulates x·max-rate·dt per step from 0 and spikes
  whenever the sum reaches 1 (then minus 1), so it fires floor(x·max-rate·dt·steps)
  times, evenly spaced; :seed does not apply."
  ([part] (rate-code part {}))
  ([part {:keys [max-rate-hz dt-ms steps seed regular] :or {max-rate-hz 100.0 dt-ms 1.0 steps 100 seed 1} :as opts}]
   (v/closed! [] "rate-code" opts [:max-rate-hz :dt-ms :steps :seed :regular])
   (let [[x y px] (images->floats part)]
     (if regular
       (do (when (contains? opts :seed) (fail ":seed does not apply to the regular rate code (:regular true)" {:seed seed}))
           (Encoders/regular x (int px) y (classes-of y) (double max-rate-hz) (double dt-ms) (int steps)))
       (Encoders/rate x (int px) y (classes-of y) (double max-rate-hz) (double dt-ms) (int steps) (long seed))))))

;; ---------------------------------------------------------------- your own data

(defn- array-of
  "The data array of `x`: a primitive array, or {:data :shape} as chive.io/read-npy gives."
  [x]
  (if (map? x) (:data x) x))

(defn- shape-of [x]
  (if (map? x) (vec (:shape x)) [(java.lang.reflect.Array/getLength x)]))

(defn- dataset-labels ^ints [what y classes]
  (let [y (array-of y)]
    (when-not (and y (.isArray (class y)))
      (fail (str what ": labels must be an array of whole numbers (or {:data ...} from chive.io/read-npy), got " (pr-str (type y))) {}))
    (when (and classes (not (pos-int? classes))) (fail (str what ": :classes must be a positive whole number, got " (pr-str classes)) {:classes classes}))
    (Dataset/labels y (int (or classes 0)) what)))

(defn- encode-dense
  "Dataset from values in [0,1], samples x features, by `code`."
  [what ^floats x features ^ints y classes {:keys [type max-rate-hz dt-ms steps seed tau thr] :or {type :rate} :as code}]
  (v/closed! [:code] "a :code" code [:type :max-rate-hz :dt-ms :steps :seed :tau :thr])
  (let [steps (int (or steps 100)) c (int classes)]
    (case type
      :rate (Encoders/rate x (int features) y c (double (or max-rate-hz 100.0)) (double (or dt-ms 1.0)) steps (long (or seed 1)))
      :regular (Encoders/regular x (int features) y c (double (or max-rate-hz 100.0)) (double (or dt-ms 1.0)) steps)
      :latency (Encoders/latency x (int features) y c (double (or tau 20.0)) (double (or thr 0.2)) steps)
      :linear-latency (Encoders/linearLatency x (int features) y c (double (or thr 0.0)) steps)
      (fail (str what ": unknown :code :type " (pr-str type) "; one of :rate :regular :latency :linear-latency") {:type type}))))

(defn array-dataset
  "A dataset from arrays, as numpy holds them (chive.io/read-npy's
  {:shape :data}, or a plain primitive array with :shape in opts):
  - shape [samples steps units]: a spike raster (bool, or any numeric dtype:
    nonzero is a spike), used as is;
  - shape [samples features]: values in [0, 1] (rates, intensities), turned
    into spikes by :code {:type :rate|:regular|:latency|:linear-latency
    :steps :max-rate-hz :dt-ms :seed :tau :thr} (default :rate, 100 steps,
    100 Hz at 1 ms, as `rate-code`).
  `y`: one whole-number label per sample, any integer or float dtype.
  :classes (default the largest label + 1) when a split lacks the last
  class. Any number of classes."
  ([x y] (array-dataset x y {}))
  ([x y {:keys [classes code shape description] :as opts}]
   (v/closed! [] "array-dataset" opts [:classes :code :shape :description])
   (let [what (or description "array-dataset")
         data (array-of x)
         shape (or shape (shape-of x))
         labels (dataset-labels what y classes)
         classes (or classes (classes-of labels))
         n (first shape)]
     (when-not (and data (.isArray (class data)) (.isPrimitive (.getComponentType (class data))))
       (fail (str what ": x must be a primitive array or {:data :shape}, got " (pr-str (type data))) {}))
     (when-not (= (count labels) n)
       (fail (str what ": " (count labels) " labels for " n " samples (x has shape " shape ")") {:shape shape :labels (count labels)}))
     (case (count shape)
       3 (do (when code (fail (str what ": x is a spike raster [samples steps units] " shape "; :code applies to [samples features] values") {:shape shape}))
             (Dataset/fromRaster data (int n) (int (shape 1)) (int (shape 2)) labels (int classes)
                                 (format "%s: %d samples, %d steps, %d units, %d classes (spike raster)" what n (shape 1) (shape 2) classes)))
       2 (encode-dense what (Dataset/fractions data (int (shape 1)) what) (shape 1) labels classes (or code {}))
       (fail (str what ": x has shape " shape "; expected [samples features] or [samples steps units]") {:shape shape})))))

(defn event-dataset
  "A dataset from an event list: arrays :sample, :t and :unit, one entry per
  spike (any order), and `y`, one label per sample. :t counts steps, or,
  with :dt (a time), is a time in ms binned into steps of :dt. Options:
  :units (default the largest unit + 1), :steps (default the last step +
  1; later spikes are dropped), :classes (default the largest label + 1).
  Several spikes of one unit in one step make one."
  ([events y] (event-dataset events y {}))
  ([{:keys [sample t unit] :as events} y {:keys [units steps dt classes description] :as opts}]
   (v/closed! [] "event-dataset" opts [:units :steps :dt :classes :description])
   (let [what (or description "event-dataset")
         _ (doseq [k [:sample :t :unit]] (when-not (get events k) (fail (str what ": the events need " k " (arrays :sample :t :unit)") {:keys (keys events)})))
         labels (dataset-labels what y classes)
         classes (or classes (classes-of labels))
         dt-ms (when dt (ms-of :dt dt))
         s (Dataset/wholeNumbers (array-of sample) what "sample" "event")
         u (Dataset/wholeNumbers (array-of unit) what "unit" "event")
         tt (if dt-ms
              (Dataset/steps (array-of t) (double dt-ms) what)
              (Dataset/wholeNumbers (array-of t) what "t" "event"))
         units (or units (inc (reduce max -1 u)))
         steps (or steps (inc (reduce max -1 tt)))]
     (when-not (pos-int? steps) (fail (str what ": no events and no :steps") {}))
     (Dataset/fromEventList s tt u (int units) (int steps) labels (int classes)
                            (format "%s: %d samples, %d events, %d steps, %d units, %d classes" what (count labels) (alength s) steps units classes)))))

(defn- read-csv-table
  "[header rows] of a CSV file with a header line; values parsed as numbers (errors name the line and column)."
  [file]
  (with-open [r (io/reader file)]
    (let [[head & lines] (line-seq r)
          header (mapv str/trim (str/split (or head "") #","))]
      (when (or (nil? head) (some parse-double header))
        (fail (str file ": the first line must be a header naming the columns, got " (pr-str head)) {:file (str file)}))
      [header
       (vec (keep-indexed
             (fn [i ^String line]
               (when-not (str/blank? line)
                 (let [cells (str/split line #",")]
                   (when-not (= (count cells) (count header))
                     (fail (str file ": line " (+ i 2) " has " (count cells) " values, the header " (count header)) {:file (str file) :line (+ i 2)}))
                   (mapv (fn [c col] (or (parse-double (str/trim c))
                                         (fail (str file ": line " (+ i 2) ", column " col ": " (pr-str c) " is not a number") {:file (str file) :line (+ i 2)})))
                         cells header))))
             lines))])))

(defn read-dataset
  "A dataset from files of your own, any number of classes:
  - {:x \"x.npy\" :y \"y.npy\"}: NPY arrays, as `array-dataset` takes them
    ([samples steps units] spike rasters, or [samples features] values in
    [0,1] encoded by :code);
  - {:npz \"d.npz\"}: arrays x and y (or X/data/spikes and labels/label/
    targets), or an event list sample, t, unit with y (or labels);
  - {:csv \"d.csv\"}: with a header line. Columns sample, t (or step, or
    time_ms with :dt) and unit make an event list, with a label column (the
    same on every row of a sample); otherwise a label column (:label-column,
    default \"label\") and feature columns in [0,1].
  Other options go to `array-dataset` / `event-dataset`."
  [{:keys [x y npz csv label-column] :as source} & [opts]]
  (let [opts (or opts {})
        pick (fn [m names what]
               (or (some #(get m %) names)
                   (fail (str what ": no array named " (str/join " or " names) "; the file has " (vec (keys m))) {:keys (vec (keys m))})))]
    (cond
      (and x y) (array-dataset (cio/read-npy x) (cio/read-npy y) (merge {:description (str x)} opts))
      npz (let [m (cio/read-npz npz)]
            (if (and (contains? m "sample") (contains? m "unit"))
              (event-dataset {:sample (get m "sample") :t (pick m ["t" "step" "time_ms"] (str npz)) :unit (get m "unit")}
                             (pick m ["y" "labels" "label"] (str npz)) (merge {:description (str npz)} opts))
              (array-dataset (pick m ["x" "X" "data" "spikes"] (str npz)) (pick m ["y" "labels" "label" "targets"] (str npz))
                             (merge {:description (str npz)} opts))))
      csv (let [[header rows] (read-csv-table csv)
                col (fn [nm] (let [i (.indexOf ^java.util.List header nm)] (when (>= i 0) i)))
                lc (or (col (or label-column "label"))
                       (fail (str csv ": no label column " (pr-str (or label-column "label")) "; the columns are " header) {:header header}))]
            (if (and (col "sample") (col "unit") (or (col "t") (col "step") (col "time_ms")))
              (let [si (col "sample") ui (col "unit") ti (or (col "t") (col "step") (col "time_ms"))
                    labels (reduce (fn [m r] (let [s (long (r si)) l (r lc)]
                                               (when (and (contains? m s) (not= (m s) l))
                                                 (fail (str csv ": sample " s " has labels " (m s) " and " l) {:sample s}))
                                               (assoc m s l)))
                                   {} rows)
                    n (inc (reduce max -1 (keys labels)))]
                (when-let [missing (first (remove labels (range n)))]
                  (fail (str csv ": sample " missing " has no events, so no label") {:sample missing}))
                (event-dataset {:sample (double-array (map #(% si) rows)) :t (double-array (map #(% ti) rows)) :unit (double-array (map #(% ui) rows))}
                               (double-array (map labels (range n)))
                               (merge {:description (str csv)} (dissoc opts :label-column))))
              (let [fcols (vec (remove #{lc} (range (count header))))]
                (array-dataset {:shape [(count rows) (count fcols)] :data (double-array (for [r rows c fcols] (r c)))}
                               (double-array (map #(% lc) rows))
                               (merge {:description (str csv)} (dissoc opts :label-column))))))
      :else (fail (str "read-dataset: give {:x npy :y npy}, {:npz file} or {:csv file}, got " (pr-str source)) {:source source}))))

;; ---------------------------------------------------------------- training


(defn- make-optimizer ^Optimizer [^Model m {:keys [type lr momentum beta1 beta2 eps] :or {type :sgd momentum 0.0 beta1 0.9 beta2 0.999 eps 1e-8} :as o}]
  (let [ps (.params ^SpikingNet (:net m))
        lr (double (or lr (fail "optimizer needs :lr" {:optimizer o})))]
    (case type
      :sgd (Optimizer$Sgd. ps lr (double momentum))
      :adam (Optimizer$Adam. ps lr (double beta1) (double beta2) (double eps))
      (fail (str "unknown optimizer " (pr-str type) " (:sgd, :adam)") {:optimizer o}))))

(defn- batches
  "Index vectors of full batches (a last partial batch is dropped when drop-last)."
  [n batch shuffle-rng drop-last]
  (let [idx (int-array (range n))]
    (when shuffle-rng
      (let [^SplittableRandom r shuffle-rng]
        (loop [i (dec n)] (when (pos? i) (let [j (.nextInt r (inc i)) t (aget idx i)] (aset idx i (aget idx j)) (aset idx j t) (recur (dec i)))))))
    (let [parts (partition-all batch (seq idx))]
      (mapv int-array (if drop-last (filter #(= batch (count %)) parts) parts)))))

(defn evaluate
  "Accuracy and summed loss of model `m` on dataset `d` (batches of :batch,
  all samples used). Returns {:accuracy :loss :n :spikes-per-neuron}."
  ([m d] (evaluate m d {}))
  ([^Model m ^Dataset d {:keys [batch] :or {batch 256}}]
   (let [^SpikingNet net (:net m)]
     (loop [[b & more] (batches (.samples d) batch nil false) correct 0 loss 0.0 spikes nil]
       (if b
         (let [^SpikingNet$Stats s (.evaluate net (.batch d b) (.labelsOf d b))]
           (recur more (+ correct (.correct s)) (+ loss (.loss s))
                  (mapv + (or spikes (repeat 0.0)) (map #(* % (alength ^ints b)) (.spikesPerNeuron s)))))
         {:accuracy (/ (double correct) (.samples d)) :loss loss :n (.samples d)
          :spikes-per-neuron (mapv #(/ % (.samples d)) spikes)})))))

(defn record
  "Every layer's output for samples `idx` of `d`: a vector per layer of
  float[] (sample-major rows b·steps + t; spikes, or membrane for a readout)."
  [^Model m ^Dataset d idx]
  (let [idx (int-array idx)]
    (vec (.record ^SpikingNet (:net m) (.batch d idx)))))

(defn feature-maps
  "Layer `layer`'s output for sample `k` of `d`, summed over the time steps
  (spike counts for a spiking layer), with its shape: {:values float[]
  :shape [C H W] (or [n])} for chive.plot/feature-maps."
  [^Model m ^Dataset d k layer]
  (let [^SpikingNet net (:net m)
        ms (.modules net)
        _ (when-not (< -1 layer (alength ms))
            (fail (str "feature-maps: layer " layer " is outside 0.." (dec (alength ms))) {:layer layer}))
        ^Module s (aget ms layer)
        ^floats out (nth (record m d [k]) layer)
        n (.outSize s)
        acc (float-array n)]
    (dotimes [t (quot (alength out) n)]
      (dotimes [j n] (aset acc j (+ (aget acc j) (aget out (+ (* t n) j))))))
    {:values acc :shape (vec (.outShape s))}))

(defn- state-arrays
  "The model's parameters followed by its buffers (BatchNorm's running statistics): what a roll-back restores."
  [^Model m]
  (let [^SpikingNet net (:net m)] (concat (.params net) (.buffers net))))
(defn- snapshot [^Model m] (mapv #(aclone ^floats %) (state-arrays m)))
(defn- restore! [^Model m snap] (doseq [[^floats dst ^floats src] (map vector (state-arrays m) snap)] (System/arraycopy src 0 dst 0 (alength src))))

(def ^:private checkpoint-kind "chive-learn-checkpoint")

(defn save-checkpoint!
  "Writes weights (NPY), optimizer state, history, the position of the
  shuffle stream and the state of an unfinished `train!` call (JSON) to
  folder `dir`, as one unit (see chive.io/write-atomically!: a crash leaves
  the previous checkpoint or this one; every file is covered by a manifest)."
  [^Model m dir]
  (let [{:keys [history ^Optimizer optimizer epoch shuffle plan]} @(:state m)]
    (cio/write-atomically!
     dir
     (fn [^File tmp]
       (doseq [[k ^floats a] (map-indexed vector (.params ^SpikingNet (:net m)))]
         (Npy/write (.toPath (io/file tmp (str "param-" k ".npy"))) a))
       (doseq [[k ^floats a] (map-indexed vector (.buffers ^SpikingNet (:net m)))]
         (Npy/write (.toPath (io/file tmp (str "buffer-" k ".npy"))) a))
       (when optimizer
         (doseq [[k ^floats a] (map-indexed vector (.state optimizer))]
           (Npy/write (.toPath (io/file tmp (str "opt-" k ".npy"))) a)))
       (spit (io/file tmp "checkpoint.json")
             (json/generate-string {:epoch epoch :history history :optimizer_steps (if optimizer (.steps optimizer) 0)
                                    :optimizer_arrays (if optimizer (count (.state optimizer)) 0)
                                    :training_steps (.trainingSteps ^SpikingNet (:net m))
                                    :shuffle shuffle :plan plan
                                    :spec (pr-str (:spec m))} {:pretty true})))
     {:kind checkpoint-kind :legacy? #(.isFile (io/file (.toFile ^java.nio.file.Path %) "checkpoint.json"))})))

(defn- nat? [x] (and (integer? x) (<= 0 x Integer/MAX_VALUE)))

(defn load-checkpoint!
  "Restores weights, history, the shuffle stream's position and (when the
  next `train!` uses the same :optimizer, or none) the optimizer state saved
  by save-checkpoint!. If the checkpoint was written by a `train!` call that
  had epochs left, calling `train!` again with the same options finishes
  that call, as an uninterrupted one would have. Every file is checked
  against the checkpoint's manifest and every field against its type."
  [^Model m dir]
  (let [f (io/file dir "checkpoint.json")
        _ (cio/verify-folder! dir checkpoint-kind "a chive.learn checkpoint")
        _ (when-not (.isFile f) (fail (str "no checkpoint at " dir ": " f " is missing") {:dir (str dir)}))
        meta (cjson/read-file f)
        field (fn [k ok? expected] (cjson/field f "the top level" meta k ok? expected))
        epoch (field :epoch nat? "an epoch count")
        history (field :history #(and (sequential? %) (every? map? %)) "a list of epoch entries")
        opt-steps (field :optimizer_steps #(and (integer? %) (<= 0 %)) "a step count")
        shuffle (when (contains? meta :shuffle)
                  (field :shuffle #(or (nil? %) (and (map? %) (integer? (:seed %)) (nat? (:n %)) (nat? (:draws %))))
                         "null or {seed, n, draws}"))
        plan (when (contains? meta :plan)
               (field :plan #(or (nil? %) (and (map? %) (string? (:key %)) (nat? (:remaining %)))) "null or {key, remaining, ...}"))
        training-steps (if (contains? meta :training_steps) (field :training_steps #(and (integer? %) (<= 0 %)) "a step count") opt-steps)
        ps (.params ^SpikingNet (:net m))]
    (.setTrainingSteps ^SpikingNet (:net m) (long training-steps))
    (doseq [[prefix arrays] [["param-" ps] ["buffer-" (.buffers ^SpikingNet (:net m))]]
            [k ^floats dst] (map-indexed vector arrays)]
      (let [file (io/file dir (str prefix k ".npy"))
            f (.toPath file)
            _ (when-not (.isFile file)
                (fail (str "checkpoint " dir " lacks " (.getName file) ": it was saved from a model without this "
                           (if (= prefix "buffer-") "buffer (batch norm running statistics)" "parameter array"))
                      {:dir (str dir) :file (str file)}))
            ^floats src (.floats (.expectShape (Npy/read f) f (int-array [(alength dst)])) f)]
        (System/arraycopy src 0 dst 0 (alength dst))))
    (swap! (:state m) assoc :history (vec history) :epoch epoch
           :shuffle shuffle :pending (when (and plan (pos? (:remaining plan))) plan) :plan plan
           :restored-optimizer {:dir (str dir) :steps opt-steps :arrays (:optimizer_arrays meta)})
    m))

(defn- restore-optimizer! [^Optimizer o {:keys [dir steps arrays]}]
  (let [k (count (.state o))]
    (when (and arrays (not= arrays k))
      (fail (str dir ": the checkpoint holds " arrays " optimizer arrays, this optimizer has " k
                 " (another optimizer type? give the checkpoint's :optimizer)") {:dir dir}))
    (.restore o (into-array (for [i (range k)]
                              (let [f (.toPath (io/file dir (str "opt-" i ".npy")))
                                    a (Npy/read f)]
                                (.floats (.expectShape a f (int-array [(.length a)])) f))))
              (long steps))))

;; ---- train!, step by step

(def ^:private train-options
  [:epochs :batch :optimizer :shuffle-seed :drop-last :test :on-epoch :on-batch :early-stopping :checkpoint :progress :lr-schedule])

(defn- scheduled-lr
  "The learning rate of (1-based, counted over the model's life) `epoch`
  under `schedule` from base rate `lr0`: {:type :step :every k :factor f}
  multiplies by f every k epochs; {:type :cosine :epochs E :min m} follows
  m + (lr0 - m)(1 + cos(pi (epoch - 1)/E))/2 over E epochs, then m."
  [{:keys [type every factor epochs min] :as schedule} lr0 epoch]
  (case type
    :step (* lr0 (Math/pow factor (quot (dec epoch) every)))
    :cosine (if (> epoch epochs)
              min
              (+ min (* (- lr0 min) 0.5 (+ 1 (Math/cos (/ (* Math/PI (dec epoch)) epochs))))))))

(defn- check-lr-schedule! [{:keys [type] :as schedule}]
  (v/one-of! [:lr-schedule] ":type" type [:step :cosine])
  (case type
    :step (do (v/closed! [:lr-schedule] ":lr-schedule :step" schedule [:type :every :factor])
              (v/int-in! [:lr-schedule] ":every" (:every schedule) 1 nil)
              (v/number-in! [:lr-schedule] ":factor" (:factor schedule) 0 nil)
              (when-not (pos? (:factor schedule)) (v/fail! [:lr-schedule] (str ":factor must be > 0, got " (:factor schedule)) {})))
    :cosine (do (v/closed! [:lr-schedule] ":lr-schedule :cosine" schedule [:type :epochs :min])
                (v/int-in! [:lr-schedule] ":epochs" (:epochs schedule) 1 nil)
                (v/number-in! [:lr-schedule] ":min" (:min schedule) 0 nil)
                (when-not (pos? (:min schedule)) (v/fail! [:lr-schedule] (str ":min must be > 0 (a learning rate), got " (:min schedule)) {})))))

(defn- check-train-options! [opts]
  (v/kwargs! "train!" opts train-options)
  (let [{:keys [epochs batch shuffle-seed early-stopping]} opts]
    (v/int-in! [] "train! :epochs" epochs 1 nil)
    (v/int-in! [] "train! :batch" batch 1 nil)
    (when (some? shuffle-seed) (v/int-in! [] "train! :shuffle-seed" shuffle-seed Long/MIN_VALUE Long/MAX_VALUE))
    (when early-stopping
      (v/closed! [:early-stopping] "train! :early-stopping" early-stopping [:patience :metric :min-delta])
      (v/int-in! [:early-stopping] ":patience" (:patience early-stopping) 1 nil)
      (when-let [mt (:metric early-stopping)] (v/one-of! [:early-stopping] "metric" mt [:test-acc :train-loss :train-acc]))
      (when (and (= :test-acc (:metric early-stopping :test-acc)) (nil? (:test opts)))
        (fail "train! :early-stopping on :test-acc needs a :test dataset" {})))
    (when-let [sch (:lr-schedule opts)] (check-lr-schedule! sch))))

(defn- optimizer-for!
  "The optimizer this call uses: the model's (its momentum or Adam state
  carries over) unless a different :optimizer spec is given, which starts a
  fresh one (or one restored from a loaded checkpoint)."
  ^Optimizer [^Model m optimizer]
  (let [st (:state m)]
    (if (and (:optimizer @st) (or (nil? optimizer) (= optimizer (:optimizer-spec @st))))
      (:optimizer @st)
      (let [o (make-optimizer m (or optimizer (fail "train! needs :optimizer" {})))]
        (when-let [r (:restored-optimizer @st)] (restore-optimizer! o r))
        (swap! st #(-> % (assoc :optimizer o :optimizer-spec optimizer) (dissoc :restored-optimizer)))
        o))))

(defn- shuffle-permutation!
  "One Fisher-Yates draw of n from `rng` into `idx` (int[] 0..n-1 before the call)."
  [^SplittableRandom r ^ints idx]
  (loop [i (dec (alength idx))]
    (when (pos? i)
      (let [j (.nextInt r (inc i)) t (aget idx i)] (aset idx i (aget idx j)) (aset idx j t) (recur (dec i))))))

(defn- shuffle-stream
  "The shuffle generator for this call, positioned after the epochs the model
  already trained on this stream: same seed and sample count continue it (so
  that calls split by an interrupt, or by hand, draw what one call would)."
  [st seed n]
  (when (some? seed)
    (let [{s :seed sn :n draws :draws} (:shuffle @st)
          r (SplittableRandom. (long seed))]
      (if (and (= s seed) (= sn n))
        (dotimes [_ draws] (shuffle-permutation! r (int-array (range n))))
        (swap! st assoc :shuffle {:seed seed :n n :draws 0}))
      r)))

(defn- run-epoch
  "Trains one epoch over `bs`; returns {:loss :correct :seen} or :interrupted."
  [^Model m ^Dataset train ^Optimizer opt bs epoch on-batch progress left]
  (let [^SpikingNet net (:net m)
        t0 (System/nanoTime)]
    (loop [[b & more] bs k 0 loss 0.0 correct 0 seen 0]
      (cond
        (Thread/interrupted) :interrupted
        (nil? b) {:loss loss :correct correct :seen seen}
        :else
        (let [^SpikingNet$Stats s (.step net (.batch train b) (.labelsOf train b))
              _ (.step opt (.grads net))
              k (inc k) seen (+ seen (alength ^ints b)) loss (+ loss (.loss s)) correct (+ correct (.correct s))]
          (when on-batch
            (on-batch {:epoch epoch :batch k :batches (count bs) :loss (.loss s)
                       :accuracy (/ (double (.correct s)) (alength ^ints b))}))
          (when (and progress (or (= k (count bs)) (zero? (mod k (max 1 (quot (count bs) 10))))))
            (let [secs (/ (- (System/nanoTime) t0) 1e9)
                  nb (count bs)
                  epochs-left (max 0 (dec (long (or left 1))))]
              (log (format "epoch %d  batch %d/%d  loss %.4f  acc %.3f  %.0f samples/s  %s this epoch%s" epoch k nb
                           (/ loss k) (/ (double correct) seen) (/ seen secs)
                           (clog/eta k (- nb k) secs)
                           (if (pos? epochs-left)
                             (str ", " (clog/eta k (+ (- nb k) (* epochs-left nb)) secs) " for all " (inc epochs-left) " remaining epochs (training only)")
                             "")))))
          (recur more k loss correct seen))))))

(defn- epoch-entry [^Model m result nbatches train-s test batch]
  (let [ev (when test (evaluate m test {:batch (max batch 256)}))]
    (cond-> {:epoch nil :train-loss (/ (:loss result) (max 1 nbatches))
             :train-acc (/ (double (:correct result)) (max 1 (:seen result)))
             :train-s train-s :samples-per-s (/ (:seen result) train-s)}
      ev (assoc :test-acc (:accuracy ev) :test-loss (:loss ev)))))

(defn- early-stop-state
  "[best since] after `entry` under `early-stopping`."
  [{:keys [metric min-delta] :or {metric :test-acc min-delta 0.0}} entry best since]
  (let [v (get entry metric)
        better? (fn [a b] (if (= metric :train-loss) (< a (- b min-delta)) (> a (+ b min-delta))))]
    (if (or (nil? best) (and v (better? v best))) [v 0] [best (inc since)])))

(defn- epoch-start
  "What an epoch rolls back to: weights, optimizer state and shuffle position."
  [^Model m ^Optimizer opt]
  {:snap (snapshot m) :opt (mapv #(aclone ^floats %) (.state opt)) :steps (.steps opt)
   :shuffle (:shuffle @(:state m))})

(defn- roll-back! [^Model m ^Optimizer opt {:keys [snap steps shuffle] :as start}]
  (restore! m snap)
  (.restore opt (into-array (:opt start)) (long steps))
  (swap! (:state m) assoc :shuffle shuffle))

(defn- mark-interrupted!
  "Records the unfinished call so that train! with the same options continues it."
  [^Model m {:keys [key progress]} left best since message]
  (swap! (:state m) assoc :interrupted true :pending {:key key :remaining left :best best :since since})
  (when progress (log message)))

(defn- train-epoch
  "Runs one epoch; on an interrupt or a failure the model and optimizer are
  rolled back to the start of the epoch. Returns the epoch's sums or :interrupted."
  [^Model m ^Dataset train ^Optimizer opt bs epoch {:keys [on-batch progress] :as call} left best since]
  (let [start (epoch-start m opt)
        interrupted! (fn []
                       (roll-back! m opt start)
                       (mark-interrupted! m call left best since
                                          (str "interrupted in epoch " epoch "; weights of epoch " (dec epoch)
                                               " kept; train! with the same options continues")))]
    (try
      (let [r (run-epoch m train opt bs epoch on-batch progress left)]
        (when (= r :interrupted) (interrupted!))
        r)
      (catch chive.core.sim.ChiveException e
        ;; NaN/inf gradients or weights: keep the last finished epoch
        (roll-back! m opt start)
        (throw (ex-info (str (.getMessage e) "; the weights and optimizer of epoch " (dec epoch) " are kept")
                        {:epoch epoch} e)))
      (catch Throwable t
        ;; A callback that threw, or the thread being stopped: keep the last finished epoch.
        (interrupted!)
        (throw t)))))

(defn- finish-epoch!
  "Books a finished epoch: history, shuffle position, the call's plan, log,
  checkpoint, :on-epoch. Returns [epochs-left best since]."
  [^Model m result nbatches train-s epoch shuffled? left best since
   {:keys [key test batch early-stopping checkpoint on-epoch progress]}]
  (let [st (:state m)
        entry (assoc (epoch-entry m result nbatches train-s test batch) :epoch epoch)
        [best since] (if early-stopping (early-stop-state early-stopping entry best since) [best since])
        stop? (and early-stopping (>= since (:patience early-stopping)))
        left (if stop? 0 (dec left))]
    (swap! st (fn [s] (cond-> (-> s (update :history conj entry) (assoc :epoch epoch))
                        shuffled? (update-in [:shuffle :draws] inc))))
    (swap! st assoc :plan {:key key :remaining left :best best :since since})
    (when progress
      (log (format "epoch %d done: train loss %.4f  train acc %.3f%s  %.1f s" epoch (:train-loss entry) (:train-acc entry)
                   (if (:test-acc entry) (format "  held-out acc %.4f" (:test-acc entry)) "") train-s)))
    (when checkpoint (save-checkpoint! m checkpoint))
    (when on-epoch (on-epoch entry))
    (when (and stop? progress)
      (log (str "early stop after epoch " epoch ": no " (name (:metric early-stopping :test-acc))
                " improvement in " (:patience early-stopping) " epochs")))
    [left best since]))

(defn train!
  "Trains `m` on dataset `train` for :epochs. Options: :batch, :optimizer
  {:type :sgd|:adam :lr ...}, :shuffle-seed (a seeded shuffle per epoch;
  nil = no shuffle), :drop-last (default true), :test (a dataset evaluated
  after each epoch), :on-epoch (fn [entry]), :on-batch (fn [{:keys [epoch
  batch loss accuracy]}]) after every batch (for live curves), :early-stopping {:patience k
  :metric :test-acc|:train-loss|:train-acc :min-delta d}, :checkpoint dir (written after
  every epoch), :progress (default true), :lr-schedule (the optimizer's :lr
  is the base rate: {:type :step :every k :factor f} or {:type :cosine
  :epochs E :min lr-min}, by the model's epoch count, so an interrupted or
  resumed call follows the same rates). Unknown options are errors.

  Returns the history: one map per epoch {:epoch :train-loss :train-acc
  :test-acc :train-s :samples-per-s ...}. Interrupting the thread (nREPL's
  interrupt) stops between batches and restores the weights and optimizer of
  the last finished epoch; the history then ends with that epoch and the
  model's state has :interrupted true. Calling train! again with the same
  options finishes the interrupted call: the remaining epochs, the same
  shuffled orders (the shuffle stream's position is part of the model's
  state and of checkpoints) and the same early-stopping count, so the
  result is bit for bit that of an uninterrupted call; other options start
  a new call (the optimizer carries over unless a different :optimizer is
  given). NaN or infinite gradients or weights stop training with an error
  naming them, and the weights and optimizer of the last finished epoch are
  kept."
  [^Model m ^Dataset train {:keys [epochs batch optimizer shuffle-seed drop-last test on-epoch on-batch early-stopping checkpoint progress]
                            :or {batch 32 drop-last true progress true} :as opts}]
  (check-train-options! (assoc opts :batch batch))
  (let [st (:state m)
        n (.samples train)
        call-key (pr-str [n (select-keys opts [:epochs :batch :optimizer :shuffle-seed :drop-last :early-stopping :lr-schedule])])
        call {:key call-key :test test :batch batch :early-stopping early-stopping :checkpoint checkpoint
              :on-epoch on-epoch :on-batch on-batch :progress progress}
        pending (let [p (:pending @st)] (when (= (:key p) call-key) p))
        ^Optimizer opt (optimizer-for! m optimizer)
        lr0 (double (:lr (:optimizer-spec @st)))
        rng (shuffle-stream st shuffle-seed n)]
    (when (and pending progress)
      (log (str "continuing the interrupted train! call: " (:remaining pending) " of " epochs " epochs left")))
    (swap! st dissoc :interrupted :pending)
    ;; Without a schedule the optimizer runs at its spec's rate (a scheduled call before may have left another).
    (when (and (nil? (:lr-schedule opts)) (not= lr0 (.learningRate opt))) (.setLearningRate opt lr0))
    (loop [left (if pending (:remaining pending) epochs)
           best (:best pending) since (:since pending 0)]
      (if (zero? left)
        (:history @st)
        (let [epoch (inc (:epoch @st))
              bs (batches n batch rng drop-last)
              _ (when-let [sch (:lr-schedule opts)]
                  (let [lr (scheduled-lr sch lr0 epoch)]
                    (.setLearningRate opt (double lr))
                    (when progress (log (format "epoch %d: learning rate %.4g" epoch lr)))))
              t0 (System/nanoTime)
              result (train-epoch m train opt bs epoch call left best since)]
          (if (= result :interrupted)
            (:history @st)
            (let [[left best since] (finish-epoch! m result (count bs) (/ (- (System/nanoTime) t0) 1e9)
                                                   epoch (some? rng) left best since call)]
              (if (and (pos? left) (Thread/interrupted))
                ;; Interrupted during evaluation or a callback: this epoch is finished and kept.
                ;; (After the last epoch the call is complete and the flag stays set for the caller.)
                (do (mark-interrupted! m call left best since
                                       (str "interrupted after epoch " epoch "; train! with the same options continues"))
                    (:history @st))
                (recur left best since)))))))))

(defn history "The model's training history (a vector of per-epoch maps)." [^Model m] (:history @(:state m)))

;; ---------------------------------------------------------------- STDP as a pseudo-gradient

(defn stdp-pseudo-gradient
  "Pair-based additive STDP over spike trains (float[] steps × n, 0/1) as a
  pseudo-gradient -ΔW (n-pre × n-post), for any optimizer: plain SGD at
  learning rate 1 reproduces the direct rule's weights."
  [^floats pre n-pre ^floats post n-post steps {:keys [tau-pre tau-post a-plus a-minus dt]}]
  (StdpGradient/pseudoGradient pre (int n-pre) post (int n-post) (int steps)
                               (double tau-pre) (double tau-post) (double a-plus) (double a-minus) (double dt)))
