(ns chive.impl.builtins
  "chive's built-in extension points, each registered once with
  chive.registry exactly as a user registers their own: neuron models (their
  parameters' and variables' units come from the Java classes), connectors,
  plasticity rules, inputs and monitors. chive.net loads this namespace;
  everything that validates, builds, saves or lists these kinds reads the
  registry."
  (:require [chive.impl.spec :refer [convert fill-var! quantity! init-spec! sequential-value?]]
            [chive.impl.validate :as v]
            [chive.registry :as registry]
            [chive.units :as u])
  (:import (chive.core.plasticity Stdp)
           (chive.core.sim Connectivity NeuronGroup PoissonInput RateMonitor SpikeCountMonitor SpikeMonitor StateMonitor)
           (chive.core.model Lif CobaLif Izhikevich AdEx HodgkinHuxley PoissonGroup SpikeGeneratorGroup NirNeuron)))

(set! *warn-on-reflection* true)

(defn- poisson-rates!
  "Checks the :rate of Poisson group `gk` (a spec as `fill-var!` takes): 0 <= rate <= 1/dt."
  [path gk r n dt]
  (init-spec! path (keyword (name gk) "rate") r :Hz n)
  (let [mx (/ 1000.0 dt)
        hz #(u/check :rate % :Hz)
        vals (cond (or (number? r) (u/quantity? r)) [r]
                   (and (vector? r) (keyword? (first r))) (if (= :uniform (first r)) [(second r) (nth r 2)] [])
                   (sequential? r) r
                   :else [])]
    (when (some #(neg? (hz %)) vals)
      (v/fail! path (str "Poisson rates must be >= 0 Hz, got " (pr-str r)) {:value r}))
    (when (some #(> (hz %) mx) vals)
      (v/fail! path (str "Poisson rates must be at most 1/dt = " mx " Hz (a neuron spikes at most once per step), got "
                         (pr-str r)) {:value r}))))

(defn- spike-schedule!
  "Checks a spike generator's :spikes {:indices [...] :times [...]} for a group of n."
  [path sp n]
  (v/closed! path ":spikes" sp #{:indices :times})
  (v/require-keys! path ":spikes" sp [:indices :times])
  (let [{:keys [indices times]} sp]
    (when-not (and (sequential-value? indices) (sequential-value? times))
      (v/fail! path ":indices and :times must be sequences" {}))
    (when-not (= (count indices) (count times))
      (v/fail! path (str ":spikes has " (count indices) " indices but " (count times) " times") {}))
    (doseq [i indices] (v/int-in! path "a spike's neuron index" i 0 (dec n)))
    (doseq [t times]
      (when (neg? (quantity! path :spike-time t :ms))
        (v/fail! path (str "spike times must be >= 0, got " (pr-str t)) {:value t})))))

;; ---------------------------------------------------------------- built-in extension points
;; One registration each (chive.registry); validation, build, save/load,
;; chive.script and the "valid choices" of every error derive from these.

(def ^:private cuba-aliases
  "The names of Brian2's examples/CUBA.py."
  {:taum :tau_m :taue :tau_e :taui :tau_i :El :v_rest :Vt :v_th :Vr :v_reset :R :r_m :I :i_ext})

(def ^:private coba-aliases
  "The names of Brian2's examples/COBA.py (Brunel/Vogels-Abbott COBA)."
  (assoc cuba-aliases :Ee :e_e :Ei :e_i))

(registry/register! :model :lif
  (registry/java-model #(Lif. %1 %2) #(Lif. %1 %2 true)
    {:doc "LIF with exponential current synapses (CUBA); ge, gi in mV" :aliases cuba-aliases}))

(registry/register! :model :coba-lif
  (registry/java-model #(CobaLif. %1 %2 false) nil
    {:doc "conductance LIF, ge and gi relative to the leak; method 0 exponential Euler, 1 forward Euler" :aliases coba-aliases}))

(registry/register! :model :adaptive-lif
  (registry/java-model #(CobaLif. %1 %2 true) nil
    {:doc "conductance LIF with the Diehl & Cook adaptive threshold theta" :aliases coba-aliases}))

(registry/register! :model :izhikevich
  (registry/java-model #(Izhikevich. %1 %2) #(Izhikevich. %1 %2 true)
    {:doc "Izhikevich 2003, published dimensionless form (a, b, d, i_ext plain numbers; u and the inputs also as (mV-per-ms x))"
     :aliases {:I :i_ext :Vpeak :v_peak}}))

(registry/register! :model :adex
  (registry/java-model #(AdEx. %1 %2) nil
    {:doc "adaptive exponential IF (Brette & Gerstner 2005); ge is a current in nA"
     ;; the names of Brian2's AdEx (Brette & Gerstner) example
     :aliases {:C :c_m :gL :g_l :EL :e_l :VT :v_t :DeltaT :delta_t :tauw :tau_w :Vr :v_reset :Vcut :v_peak :I :i_ext}}))

(registry/register! :model :hh
  (registry/java-model #(HodgkinHuxley. %1 %2) nil
    {:doc "Hodgkin-Huxley, Traub-Miles kinetics, conductance synapses (COBAHH)"
     ;; the names of Brian2's examples/COBAHH.py
     :aliases {:Cm :c_m :gl :g_l :El :e_l :EK :e_k :ENa :e_na :VT :v_t :Ee :e_e :Ei :e_i :taue :tau_e :taui :tau_i :I :i_ext}}))

(registry/register! :model :poisson
  (registry/java-model #(PoissonGroup. %1 %2) nil
    {:doc "Poisson sources; :rate (one value or one per neuron)"
     :keys #{:rate}
     :validate (fn [path gk spec n dt]
                 (when (some? (:rate spec)) (poisson-rates! (conj path :rate) gk (:rate spec) n dt)))
     :init (fn [^NeuronGroup g spec seed-of]
             (when-let [r (:rate spec)]
               (fill-var! (.var g "rate") r :Hz (keyword (.name g) "rate") (seed-of "rate"))))}))

(registry/register! :model :nir
  (registry/java-model #(NirNeuron. %1 %2) nil
                       {:doc "the neurons of a NIR graph (chive.nir/import-net): dimensionless v, per-neuron beta, alpha, thr and bias; params kind (0 LIF, 1 IF, 2 LI, 3 I), current, soft_reset; stepped as chive.learn's neuron stages"}))

(registry/register! :model :spike-generator
  (registry/java-model #(SpikeGeneratorGroup. %1 %2 (int-array 0) (double-array 0)) nil
    {:doc "spikes at given times: :spikes {:indices [...] :times [(ms 1) ...]}"
     :keys #{:spikes}
     :validate (fn [path _ spec n _]
                 (if (contains? spec :spikes)
                   (spike-schedule! (conj path :spikes) (:spikes spec) n)
                   (v/fail! path "a :spike-generator group needs :spikes {:indices [...] :times [...]}" {:missing :spikes})))
     :build (fn [nm n spec]
              (let [{:keys [indices times]} (:spikes spec)]
                (SpikeGeneratorGroup. nm (int n) (int-array indices) (double-array (map #(u/check :times % :ms) times)))))
     ;; rebuilt from the saved schedule
     :load (fn [nm n _ arrays] (SpikeGeneratorGroup. nm (int n) ^ints (arrays "spike_indices") ^doubles (arrays "spike_times_ms")))}))

(registry/register! :connector :all-to-all
  {:doc "every pre neuron to every post neuron" :script-names ["all_to_all"]
   :connect (fn [_ npre npost _] (Connectivity/allToAll npre npost))
   :expected (fn [_ npre npost] (* 1.0 npre npost))})

(registry/register! :connector :all-to-all-except-diagonal
  {:doc "every pre neuron to every post neuron but the one of its own index" :script-names ["all_to_all_except_diagonal"]
   :connect (fn [_ npre npost _] (Connectivity/allToAllExceptDiagonal npre npost))
   :expected (fn [_ npre npost] (* 1.0 npre (dec npost)))})

(registry/register! :connector :one-to-one
  {:doc "pre neuron i to post neuron i" :script-names ["linear" "one_to_one"]
   :connect (fn [_ npre npost _] (Connectivity/oneToOne npre npost))
   :expected (fn [_ npre _] (double npre))})

(registry/register! :connector :fixed-probability
  {:doc "each pair independently with probability :p (:self? false: no i -> i)" :script-names ["fixed_probability"]
   :keys #{:p :self?} :required [:p]
   :validate (fn [path c _ _]
               (v/number-in! path ":p" (:p c) 0 1)
               (when (contains? c :self?) (v/bool! path ":self?" (:self? c))))
   :connect (fn [c npre npost seed] (Connectivity/fixedProbability npre npost (double (:p c)) (not (:self? c true)) seed))
   :expected (fn [c npre npost] (* 1.0 npre npost (double (:p c 0))))})

(registry/register! :connector :fixed-in-degree
  {:doc "each post neuron from :k distinct pre neurons drawn at random (:self? false: no i -> i)" :script-names ["fixed_in_degree"]
   :keys #{:k :self?} :required [:k]
   :validate (fn [path c [plo phi] _]
               (v/int-in! path ":k" (:k c) 0 (- phi plo))
               (when (contains? c :self?) (v/bool! path ":self?" (:self? c))))
   :connect (fn [c npre npost seed] (Connectivity/fixedInDegree npre npost (int (:k c)) (not (:self? c true)) seed))
   :expected (fn [c _ npost] (* 1.0 npost (long (:k c 0))))})

(registry/register! :connector :explicit
  {:doc "the synapses :pre[s] -> :post[s], indices in the groups' numbering"
   :keys #{:pre :post} :required [:pre :post]
   :validate (fn [path {:keys [pre post]} [plo phi] [qlo qhi]]
               (when-not (and (sequential-value? pre) (sequential-value? post) (= (count pre) (count post)))
                 (v/fail! path (str ":explicit needs :pre and :post sequences of equal length, got "
                                    (count pre) " and " (count post)) {}))
               (doseq [i pre] (v/int-in! path "a :pre index (the group's numbering)" i plo (dec phi)))
               (doseq [j post] (v/int-in! path "a :post index (the group's numbering)" j qlo (dec qhi))))
   ;; indices are the groups' numbers: relative to the slices' first neurons
   :relative (fn [c plo qlo] (assoc c :pre (map #(- % plo) (:pre c)) :post (map #(- % qlo) (:post c))))
   :connect (fn [c npre npost _] (Connectivity/fromPairs npre npost (int-array (:pre c)) (int-array (:post c))))
   :expected (fn [c _ _] (double (count (:pre c))))})

(defn- stdp-pair
  "Builds pair STDP (additive or multiplicative) from a :plasticity spec."
  [multiplicative?]
  (fn [proj-key p target-unit]
    (let [t #(u/check (keyword (name proj-key) (name %)) (get p %) :ms)
          w #(convert (keyword (name proj-key) (name %)) (get p %) target-unit)]
      (Stdp/pair (boolean multiplicative?) (t :tau_pre) (t :tau_post) (w :a_plus) (w :a_minus)
                 (if (contains? p :w_min) (w :w_min) 0.0) (w :w_max)))))

(defn- stdp-load [config] (Stdp/fromConfig (java.util.HashMap. ^java.util.Map (update-keys config name))))

(registry/register! :plasticity :stdp
  {:doc "additive pair STDP, all-to-all pairing, weights clipped to [w_min, w_max]"
   :keys #{:tau_pre :tau_post :a_plus :a_minus :w_max :w_min} :required [:tau_pre :tau_post :a_plus :a_minus :w_max]
   :build (stdp-pair false) :load stdp-load})

(registry/register! :plasticity :stdp-multiplicative
  {:doc "pair STDP with soft bounds (changes scaled by the distance to the bound)"
   :keys #{:tau_pre :tau_post :a_plus :a_minus :w_max :w_min} :required [:tau_pre :tau_post :a_plus :a_minus :w_max]
   :build (stdp-pair true) :load stdp-load})

(registry/register! :plasticity :diehl-cook
  {:doc "Diehl & Cook 2015: nearest-spike traces, pre trace depresses, two post traces potentiate"
   :keys #{:tau_pre :tau_post1 :tau_post2 :nu_pre :nu_post :w_max} :required [:tau_pre :tau_post1 :tau_post2 :nu_pre :nu_post :w_max]
   :build (fn [proj-key p target-unit]
            (let [t #(u/check (keyword (name proj-key) (name %)) (get p %) :ms)
                  w #(convert (keyword (name proj-key) (name %)) (get p %) target-unit)]
              (Stdp/diehlCook (t :tau_pre) (t :tau_post1) (t :tau_post2) (w :nu_pre) (w :nu_post) (w :w_max))))
   :load stdp-load})

(registry/register! :input :poisson
  {:doc "each neuron gets the spikes of :n Poisson sources of :rate, each adding :weight (Brian2's PoissonInput; :exact true: exact binomial draws)"
   :keys #{:n :rate :weight :exact} :required [:n :rate :weight]
   :validate (fn [path ik spec unit dt]
               (v/int-in! (conj path :n) ":n (sources per neuron)" (:n spec) 0 Integer/MAX_VALUE)
               (let [r (quantity! (conj path :rate) (keyword (name ik) "rate") (:rate spec) :Hz)]
                 (when-not (<= 0 r (/ 1000.0 dt))
                   (v/fail! (conj path :rate) (str ":rate must be between 0 and 1/dt = " (/ 1000.0 dt) " Hz, got " (pr-str (:rate spec)))
                            {:value (:rate spec)})))
               (quantity! (conj path :weight) (keyword (name ik) "weight") (:weight spec) unit)
               (when (contains? spec :exact) (v/bool! (conj path :exact) ":exact" (:exact spec))))
   :new (fn [k g lo hi {:keys [target n rate weight exact]} unit]
          (doto (PoissonInput. (name k) ^NeuronGroup g (name target) (int lo) (int hi) (int n)
                               (u/check (keyword (name k) "rate") rate :Hz)
                               (convert (keyword (name k) "weight") weight unit))
            (.setExact (boolean exact))))
   :load (fn [nm ^NeuronGroup g lo hi config]
           (let [c (fn [k ok? what]
                     (let [x (get config k)]
                       (when-not (ok? x) (throw (ex-info (str "config \"" k "\" must be " what ", got " (pr-str x)) {:config config})))
                       x))]
             (doto (PoissonInput. ^String nm g ^String (c "target" string? "a variable name") (int lo) (int hi)
                                  (int (c "n" #(and (integer? %) (<= 0 % Integer/MAX_VALUE)) "a number of sources"))
                                  (double (c "rate_hz" #(and (number? %) (Double/isFinite (double %)) (>= % 0)) "a rate >= 0 Hz"))
                                  (double (c "weight" #(and (number? %) (Double/isFinite (double %))) "a finite number")))
               (.setExact (boolean (c "exact" boolean? "true or false"))))))})

(defn- simple-monitor [doc ctor]
  {:doc doc
   :new (fn [g lo hi _ _] (ctor g lo hi))
   :load (fn [g lo hi _] (ctor g lo hi))})

(registry/register! :monitor :spikes
  (simple-monitor "every spike's neuron and time (net/spikes, net/spike-trains)" #(SpikeMonitor. %1 (int %2) (int %3))))

(registry/register! :monitor :rate
  (simple-monitor "population rate every step (net/rates)" #(RateMonitor. %1 (int %2) (int %3))))

(registry/register! :monitor :counts
  (simple-monitor "spike count per neuron since the last reset (net/spike-counts, net/reset-counts!)"
                  #(SpikeCountMonitor. %1 (int %2) (int %3))))

(registry/register! :monitor :state
  {:doc "a state variable of chosen :neurons every :every (a time; default every step) (net/trace)"
   :keys #{:var :neurons :every} :required [:var]
   :validate (fn [path spec m g lo hi dt]
               (v/one-of! (conj path :var) (str "state variable of group " g) (:var spec) (keys (:vars m)))
               (when (contains? spec :neurons)
                 (when-not (sequential-value? (:neurons spec))
                   (v/fail! (conj path :neurons) (str ":neurons must be a sequence of indices, got " (pr-str (:neurons spec))) {}))
                 (doseq [i (:neurons spec)] (v/int-in! (conj path :neurons) "a neuron index (the group's numbering)" i lo (dec hi))))
               (when (contains? spec :every)
                 (let [e (quantity! (conj path :every) :every (:every spec) :ms)
                       k (/ e dt)]
                   (when-not (and (pos? e) (< (Math/abs (- k (Math/rint k))) (* 1e-9 (max 1.0 k))))
                     (v/fail! (conj path :every) (str ":every must be a positive whole number of steps of dt = " dt " ms, got "
                                                      (pr-str (:every spec))) {:value (:every spec)})))))
   :new (fn [^NeuronGroup g lo hi {:keys [var neurons every]} dt]
          (let [every-steps (if every (max 1 (Math/round (/ (u/check :every every :ms) dt))) 1)]
            (StateMonitor. g (name var) (int-array (or neurons (range lo hi))) (int every-steps) (int lo) (int hi))))
   :load (fn [^NeuronGroup g lo hi config]
           (StateMonitor. g ^String (config "var") (int-array (config "neurons")) (int (config "every")) (int lo) (int hi)))})

