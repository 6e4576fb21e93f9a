(ns chive.net
  "Spiking networks as Clojure maps: describe, build, run, read, change, continue.

  A network is a map; `build` turns it into a live network (Java objects inside),
  `run!` advances it, the readers return Clojure data or primitive arrays.

      (require '[chive.net :as net] '[chive.units :refer [ms mV Hz]])
      (def n (net/build
               {:dt (ms 0.1) :seed 1
                :groups {:in  {:model :poisson :n 100 :rate (Hz 20)}
                         :exc {:model :lif :n 400
                               :params {:tau_m (ms 20) :v_th (mV -50) :v_reset (mV -60)}
                               :init {:v [:uniform (mV -60) (mV -50)]}}}
                :projections {:in->exc {:from :in :to :exc :target :ge
                                        :connect {:rule :fixed-probability :p 0.1}
                                        :weight (mV 2)}}
                :monitors {:spikes {:type :spikes :group :exc}}}))
      (net/run! n (ms 200))
      (net/spikes n :spikes)         ;=> {:indices #ints [...] :times-ms #doubles [...] :count 1234}
      (net/set-param! n :exc :tau_m (ms 25))
      (net/run! n (ms 200))          ; continues at t = 200 ms

  Cheat sheet
  - describe: `models` (what each model integrates, its parameters and units)
  - build:    `build`, `estimate-bytes`
  - run:      `run!` (progress on *err* for long runs; nREPL interrupt stops it at a step boundary)
  - read:     `spikes`, `spike-trains`, `trace`, `rates`, `state`, `param`, `weights`, `summary`, `time-ms`
  - change:   `set-param!`, `set-state!`, `set-rates!`, `set-learning!`, `normalize!`

  Groups are added in the order of their names (sorted), which fixes each
  group's random stream: the same map and seed give the same network, and the
  same spikes with any :threads."
  (:refer-clojure :exclude [run!])
  (:require [chive.impl.validate :as v]
            [chive.model :as model]
            [chive.units :as u])
  (:import (chive.core.plasticity Stdp LearningRule)
           (chive.core.sim Network NeuronGroup Projection Connectivity SpikeMonitor StateMonitor
                           RateMonitor SpikeCountMonitor Fill Network$ProgressListener Network$RunResult ChiveException)
           (chive.core.model Lif CobaLif Izhikevich AdEx HodgkinHuxley PoissonGroup SpikeGeneratorGroup)))

(set! *warn-on-reflection* true)

(def models
  "Built-in neuron models: constructor, parameters and state variables with
  their internal units (a plain number is accepted only where the unit is :1)."
  {:lif {:doc "LIF with exponential current synapses (CUBA); ge, gi in mV"
         :new (fn [nm n] (Lif. nm n))
         :params {:tau_m :ms :tau_e :ms :tau_i :ms :v_rest :mV :v_th :mV :v_reset :mV :t_ref :ms :r_m :Mohm}
         :vars {:v :mV :ge :mV :gi :mV :i_ext :nA}}
   :coba-lif {:doc "conductance LIF, ge and gi relative to the leak; method 0 exponential Euler, 1 forward Euler"
              :new (fn [nm n] (CobaLif. nm n false))
              :params {:tau_m :ms :tau_e :ms :tau_i :ms :v_rest :mV :e_e :mV :e_i :mV :v_th :mV
                       :v_reset :mV :t_ref :ms :r_m :Mohm :method :1 :t_block :ms}
              :vars {:v :mV :ge :1 :gi :1 :i_ext :nA}}
   :adaptive-lif {:doc "conductance LIF with the Diehl & Cook adaptive threshold theta"
                  :new (fn [nm n] (CobaLif. nm n true))
                  :params {:tau_m :ms :tau_e :ms :tau_i :ms :v_rest :mV :e_e :mV :e_i :mV :v_th :mV
                           :v_reset :mV :t_ref :ms :r_m :Mohm :theta_plus :mV :tau_theta :ms
                           :theta_offset :mV :fix_theta :1 :method :1 :t_block :ms}
                  :vars {:v :mV :ge :1 :gi :1 :i_ext :nA :theta :mV}}
   :izhikevich {:doc "Izhikevich 2003, published dimensionless form (a, b, d, i_ext plain numbers)"
                :new (fn [nm n] (Izhikevich. nm n))
                :params {:a :1 :b :1 :c :mV :d :1 :v_peak :mV :tau_e :ms :t_ref :ms :method :1}
                :vars {:v :mV :u :1 :i_ext :1 :ge :1}}
   :adex {:doc "adaptive exponential IF (Brette & Gerstner 2005); ge is a current in nA"
          :new (fn [nm n] (AdEx. nm n))
          :params {:c_m :nF :g_l :uS :e_l :mV :v_t :mV :delta_t :mV :a :uS :tau_w :ms :b :nA
                   :v_reset :mV :v_peak :mV :tau_e :ms :t_ref :ms}
          :vars {:v :mV :w :nA :i_ext :nA :ge :nA}}
   :hh {:doc "Hodgkin-Huxley, Traub-Miles kinetics, conductance synapses (COBAHH)"
        :new (fn [nm n] (HodgkinHuxley. nm n))
        :params {:c_m :nF :g_l :uS :e_l :mV :e_k :mV :e_na :mV :g_na :uS :g_kd :uS :v_t :mV
                 :e_e :mV :e_i :mV :tau_e :ms :tau_i :ms :v_spike :mV :t_ref :ms}
        :vars {:v :mV :m :1 :h :1 :n :1 :ge :uS :gi :uS :i_ext :nA}}
   :poisson {:doc "Poisson sources; :rate (one value or one per neuron)"
             :new (fn [nm n] (PoissonGroup. nm n))
             :params {}
             :vars {:rate :Hz}}
   :spike-generator {:doc "spikes at given times: :spikes {:indices [...] :times [(ms 1) ...]}"
                     :params {}
                     :vars {}}})

(defn- err [msg data] (throw (ex-info msg data)))

(defn- convert
  "`x` in internal units for `unit`: a unit keyword of a built-in model, or a
  dimension vector of a DSL model (chive.model)."
  ^double [what x unit]
  (if (vector? unit) (u/check-dim what x unit) (u/check what x unit)))

(defn- as-quantity [v unit]
  (cond (vector? unit) (u/from-internal v unit)
        (= unit :1) v
        :else (u/q v unit)))

(defn- dsl-model [m]
  {:doc (:doc m)
   :new (fn [nm n] (model/group m nm n))
   :params (:param-dims m)
   :vars (:state-dims m)})

(defn- model-of [group-key spec]
  (or (when (model/model? (:model spec)) (dsl-model (:model spec)))
      (models (:model spec))
      (err (str "group " group-key ": unknown model " (pr-str (:model spec)) "; valid models: "
                (sort (keys models)))
           {:group group-key :model (:model spec) :valid (sort (keys models))})))

(defn- unit-of [kind table group-key k]
  (or (get table (keyword (name k)))
      (err (str "group " group-key ": unknown " (name kind) " " (pr-str k) "; valid: " (sort (keys table)))
           {:group group-key kind k :valid (sort (keys table))})))

(defn- seed-for
  "A seed derived from the network seed and a name, stable across runs."
  ^long [^long seed what]
  (chive.core.sim.Rng/bits seed 0x5EED (long (hash (str what))) 0))

(defn- fill-var!
  "Sets array `a` (a state variable in `unit`) from an init spec:
  a quantity or number, [:uniform lo hi], [:normal mean sd], or a sequence with
  one value per neuron."
  [^floats a spec unit what seed]
  (let [conv #(convert what % unit)]
    (cond
      (or (number? spec) (u/quantity? spec)) (Fill/constant a (conv spec))
      (and (vector? spec) (= :uniform (first spec)))
      (let [[_ lo hi] spec] (Fill/uniform a (conv lo) (conv hi) (long seed)))
      (and (vector? spec) (= :normal (first spec)))
      (let [[_ mean sd & [{:keys [min max]}]] spec]
        (Fill/normal a (conv mean) (conv sd)
                     (if min (conv min) Double/NEGATIVE_INFINITY)
                     (if max (conv max) Double/POSITIVE_INFINITY) (long seed)))
      (sequential? spec)
      (let [vs (double-array (map conv spec))] (Fill/from a vs 1.0 (str what)))
      (instance? (Class/forName "[D") spec)
      (if (or (= unit :1) (= unit [0 0 0 0 0 0 0]))
        (Fill/from a ^doubles spec 1.0 (str what))
        (err (str what ": a raw double array has no unit; give a sequence of quantities or a "
                  "[:uniform lo hi] / [:normal mean sd] spec") {:what what :unit unit}))
      :else (err (str what ": cannot initialise from " (pr-str spec)
                      "; give a value, [:uniform lo hi], [:normal mean sd] or one value per neuron")
                 {:what what :spec spec}))))

(defn new-group
  "A fresh group of `model` (a built-in keyword or a DSL model) with default
  parameters, named after `group-key`; for chive.io."
  ^NeuronGroup [group-key model n]
  ((:new (model-of group-key {:model model})) (name group-key) (int n)))

(defn- build-group ^NeuronGroup [group-key spec ^long seed]
  (let [m (model-of group-key spec)
        n (:n spec)
        nm (name group-key)]
    (when-not (and (integer? n) (pos? n))
      (err (str "group " group-key ": :n must be a positive integer, got " (pr-str n)) {:group group-key :n n}))
    (let [^NeuronGroup g
          (if (= :spike-generator (:model spec))
            (let [{:keys [indices times]} (:spikes spec)]
              (when-not (= (count indices) (count times))
                (err (str "group " group-key ": :spikes has " (count indices) " indices but " (count times) " times")
                     {:group group-key}))
              (SpikeGeneratorGroup. nm (int n) (int-array indices)
                                    (double-array (map #(u/check :times % :ms) times))))
            ((:new m) nm (int n)))]
      (doseq [[k v] (:params spec)]
        (.setParam g (name k) (convert (keyword (name group-key) (name k)) v (unit-of :param (:params m) group-key k))))
      (when (= :poisson (:model spec))
        (when-let [r (:rate spec)]
          (fill-var! (.var g "rate") r :Hz (keyword nm "rate") (seed-for seed [nm "rate"]))))
      g)))

(defn- init-group! [^NeuronGroup g group-key spec ^long seed]
  (let [m (model-of group-key spec)]
    (doseq [[k v] (:init spec)]
      (let [unit (unit-of :var (:vars m) group-key k)]
        (fill-var! (.var g (name k)) v unit (keyword (name group-key) (name k)) (seed-for seed [(name group-key) (name k)]))))))

(defn- connectivity ^Connectivity [proj-key {:keys [rule p k self? pre post] :as c} npre npost seed]
  (let [rule (if (keyword? c) c rule)
        self? (if (nil? self?) true self?)]
    (case rule
      :all-to-all (Connectivity/allToAll npre npost)
      :all-to-all-except-diagonal (Connectivity/allToAllExceptDiagonal npre npost)
      :one-to-one (Connectivity/oneToOne npre npost)
      :fixed-probability (do (when-not (number? p)
                               (err (str "projection " proj-key ": :fixed-probability needs :p, got " (pr-str p))
                                    {:projection proj-key}))
                             (Connectivity/fixedProbability npre npost (double p) (not self?) seed))
      :fixed-in-degree (do (when-not (integer? k)
                             (err (str "projection " proj-key ": :fixed-in-degree needs an integer :k, got " (pr-str k))
                                  {:projection proj-key}))
                           (Connectivity/fixedInDegree npre npost (int k) (not self?) seed))
      :explicit (Connectivity/fromPairs npre npost (int-array pre) (int-array post))
      (err (str "projection " proj-key ": unknown connection rule " (pr-str rule) "; valid: "
                [:all-to-all :all-to-all-except-diagonal :one-to-one :fixed-probability :fixed-in-degree :explicit])
           {:projection proj-key :rule rule}))))

(defn- expected-synapses
  "Synapses a projection spec will create (expected value for random rules)."
  ^double [{:keys [connect]} npre npost]
  (let [rule (if (keyword? connect) connect (:rule connect))]
    (case rule
      :all-to-all (* 1.0 npre npost)
      :all-to-all-except-diagonal (* 1.0 npre (dec npost))
      :one-to-one (double npre)
      :fixed-probability (* 1.0 npre npost (double (:p connect 0)))
      :fixed-in-degree (* 1.0 npost (long (:k connect 0)))
      :explicit (double (count (:pre connect)))
      0.0)))

(def ^:private bytes-per-synapse 10)

(defn estimate-bytes
  "Bytes a network spec will need once built (state arrays and synapses,
  not monitors' recordings)."
  [{:keys [groups projections]}]
  (let [gbytes (reduce + (for [[k s] groups] (* 4 (:n s 0) (+ 2 (count (:vars (model-of k s)))))))
        pbytes (reduce + (for [[_ p] projections
                               :let [a (get-in groups [(:from p) :n] 0) b (get-in groups [(:to p) :n] 0)]]
                           (* bytes-per-synapse (expected-synapses p a b))))]
    (long (+ gbytes pbytes))))

(defn- check-fits! [spec]
  (let [need (estimate-bytes spec)
        rt (Runtime/getRuntime)
        free (- (.maxMemory rt) (- (.totalMemory rt) (.freeMemory rt)))]
    (when (> need (* 0.9 free))
      (err (format "the network needs about %.1f MiB but only %.1f MiB of heap are free (max %.1f MiB); raise -Xmx (CHIVE_JVM_OPTS=-Xmx8g) or shrink it"
                   (/ need 1048576.0) (/ free 1048576.0) (/ (.maxMemory rt) 1048576.0))
           {:need-bytes need :free-bytes free}))))

(defn- build-weights ^floats [proj-key spec ^Connectivity conn unit seed]
  (let [w (:weight spec)
        n (.size conn)
        a (float-array n)
        what (keyword (name proj-key) "weight")]
    (fill-var! a w unit what seed)
    (if-let [order (and (sequential? w) (.order conn))]
      (Fill/permuted a order)
      a)))

(defn- delays [proj-key {:keys [delay]} ^Connectivity conn]
  (cond
    (nil? delay) nil
    (or (u/quantity? delay) (number? delay)) (double-array [(u/check (keyword (name proj-key) "delay") delay :ms)])
    (sequential? delay)
    (let [ds (double-array (map #(u/check (keyword (name proj-key) "delay") % :ms) delay))]
      (if-let [order (.order conn)]
        (let [out (double-array (alength order))]
          (dotimes [k (alength order)] (aset out k (aget ds (aget ^ints order k))))
          out)
        ds))
    :else (err (str "projection " proj-key ": :delay must be a time or one time per synapse, got " (pr-str delay))
               {:projection proj-key})))

(declare builtin-rule)

(defn- unit-dim [unit]
  (if (vector? unit) unit (u/dim-vector (u/q 1 unit))))

(defn- plasticity-rule
  "A learning rule from a projection's :plasticity spec (see `build`)."
  ^chive.core.sim.Plasticity [proj-key p target-unit]
  (let [[m overrides] (cond (model/synapse-model? p) [p {}]
                            (and (map? p) (model/synapse-model? (:model p))) [(:model p) (:params p {})]
                            :else nil)]
    (if m
      (do (when-not (= (:weight-dim m) (unit-dim target-unit))
            (err (str "projection " proj-key ": synapse " (:name m) " has weights of dimension "
                      (u/dim-str (:weight-dim m)) " but its target is a " (u/dim-str (unit-dim target-unit)))
                 {:projection proj-key}))
          (model/synapse-rule m overrides))
      (builtin-rule proj-key p target-unit))))

(defn- builtin-rule
  ^Stdp [proj-key {:keys [rule] :as p} target-unit]
  (let [t #(u/check (keyword (name proj-key) (name %)) (get p %) :ms)
        w #(convert (keyword (name proj-key) (name %)) (get p % %2) target-unit)
        num #(u/check (keyword (name proj-key) (name %)) (get p %) :1)
        need (fn [ks] (doseq [k ks] (when-not (contains? p k)
                                      (err (str "projection " proj-key ": plasticity " rule " needs " k)
                                           {:projection proj-key :missing k}))))]
    (case rule
      (:stdp :stdp-multiplicative)
      (do (need [:tau_pre :tau_post :a_plus :a_minus :w_max])
          (Stdp/pair (= rule :stdp-multiplicative) (t :tau_pre) (t :tau_post)
                     (w :a_plus nil) (w :a_minus nil) (if (contains? p :w_min) (w :w_min nil) 0.0) (w :w_max nil)))
      :diehl-cook
      (do (need [:tau_pre :tau_post1 :tau_post2 :nu_pre :nu_post :w_max])
          (Stdp/diehlCook (t :tau_pre) (t :tau_post1) (t :tau_post2)
                          (w :nu_pre nil) (w :nu_post nil) (w :w_max nil)))
      (err (str "projection " proj-key ": unknown plasticity rule " (pr-str rule)
                "; valid: [:stdp :stdp-multiplicative :diehl-cook]")
           {:projection proj-key :rule rule}))))


;; ---------------------------------------------------------------- validation

(def ^:private top-keys #{:dt :seed :groups :projections :monitors})
(def ^:private group-keys #{:model :n :params :init :rate :spikes})
(def ^:private projection-keys #{:from :to :target :connect :weight :delay :plasticity})
(def ^:private connect-rules {:all-to-all #{:rule} :all-to-all-except-diagonal #{:rule} :one-to-one #{:rule}
                              :fixed-probability #{:rule :p :self?} :fixed-in-degree #{:rule :k :self?}
                              :explicit #{:rule :pre :post}})
(def ^:private builtin-rules
  {:stdp #{:rule :tau_pre :tau_post :a_plus :a_minus :w_max :w_min}
   :stdp-multiplicative #{:rule :tau_pre :tau_post :a_plus :a_minus :w_max :w_min}
   :diehl-cook #{:rule :tau_pre :tau_post1 :tau_post2 :nu_pre :nu_post :w_max}})
(def ^:private monitor-types {:spikes #{:type :group} :rate #{:type :group} :counts #{:type :group}
                              :state #{:type :group :var :neurons :every}})

(defn- names! [path what m]
  (when-not (or (nil? m) (map? m))
    (v/fail! path (str what " must be a map of name -> spec, got " (pr-str m)) {:value m}))
  (doseq [k (keys m)]
    (when-not (keyword? k)
      (v/fail! path (str what " names must be keywords, got " (pr-str k) (when (string? k) (str "; write " (keyword k))))
               {:key k}))))

(defn- quantity! [path what x unit]
  (try (let [d (convert what x unit)]
         (when-not (Double/isFinite d) (v/fail! path (str (name what) " must be finite, got " (pr-str x)) {:value x}))
         d)
       (catch clojure.lang.ExceptionInfo e
         ;; The unit checker's message already names the parameter (group/name).
         (if (:path (ex-data e)) (throw e) (throw (ex-info (ex-message e) (assoc (ex-data e) :path path) e))))))

(defn- sequential-value? [x] (or (sequential? x) (instance? (Class/forName "[D") x)))

(defn- init-spec! [path what spec unit n]
  (cond
    (or (number? spec) (u/quantity? spec)) (quantity! path what spec unit)
    (and (vector? spec) (keyword? (first spec)))
    (let [[kind a b opts] spec]
      (v/one-of! path "distribution" kind [:uniform :normal])
      (when-not (<= 3 (count spec) (if (= kind :normal) 4 3))
        (v/fail! path (str what ": " (pr-str kind) " takes " (if (= kind :normal) "mean, sd and optionally {:min :max}" "lo and hi")
                           ", got " (pr-str spec)) {:value spec}))
      (let [x (quantity! path what a unit) y (quantity! path what b unit)]
        (when (and (= kind :uniform) (> x y))
          (v/fail! path (str what ": [:uniform lo hi] needs lo <= hi, got " (pr-str spec)) {:value spec}))
        (when (and (= kind :normal) (neg? y))
          (v/fail! path (str what ": [:normal mean sd] needs sd >= 0, got " (pr-str spec)) {:value spec}))
        (when opts
          (v/closed! path (str what " bounds") opts #{:min :max})
          (doseq [[_ x] opts] (quantity! path what x unit)))))
    (sequential-value? spec)
    (let [c (count spec)]
      (when (and n (not= c n) (not= c 1))
        (v/fail! path (str what ": " c " values for " n " elements (give one value or " n ")") {:count c}))
      (when (instance? (Class/forName "[D") spec)
        (when-not (or (= unit :1) (= unit [0 0 0 0 0 0 0]))
          (v/fail! path (str what ": a raw double array has no unit; give a sequence of quantities or a "
                             "[:uniform lo hi] / [:normal mean sd] spec") {:unit unit})))
      (when-not (instance? (Class/forName "[D") spec)
        (doseq [x spec] (quantity! path what x unit))))
    :else (v/fail! path (str what ": cannot initialise from " (pr-str spec)
                             "; give a value, [:uniform lo hi], [:normal mean sd] or one value per element")
                   {:value spec})))

(defn- validate-group! [gk spec]
  (let [path [:groups gk]]
    (v/closed! path "a group" spec group-keys)
    (v/require-keys! path "a group" spec [:model :n])
    (let [mdl (:model spec)
          _ (when-not (model/model? mdl) (v/one-of! (conj path :model) "model" mdl (keys models)))
          m (model-of gk spec)
          n (v/int-in! (conj path :n) ":n" (:n spec) 1 (- Integer/MAX_VALUE 8))]
      (when-let [ps (:params spec)]
        (v/closed! (conj path :params) (str "the parameters of model " (pr-str (if (keyword? mdl) mdl (:name mdl)))) ps (keys (:params m)))
        (doseq [[k x] ps] (quantity! (conj path :params k) (keyword (name gk) (name k)) x (get (:params m) k))))
      (when-let [init (:init spec)]
        (v/closed! (conj path :init) "the state variables" init (keys (:vars m)))
        (doseq [[k x] init] (init-spec! (conj path :init k) (keyword (name gk) (name k)) x (get (:vars m) k) n)))
      (when (some? (:rate spec))
        (when-not (= :poisson mdl)
          (v/fail! path (str ":rate applies to :poisson groups; this is a " (pr-str mdl) " group") {:key :rate}))
        (init-spec! (conj path :rate) (keyword (name gk) "rate") (:rate spec) :Hz n)
        (let [r (:rate spec)
              neg? (fn [x] (neg? (u/internal x)))]
          (when (or (and (or (number? r) (u/quantity? r)) (neg? r))
                    (and (sequential? r) (some neg? r))
                    (and (vector? r) (keyword? (first r)) (neg? (second r))))
            (v/fail! (conj path :rate) (str "Poisson rates must be >= 0 Hz, got " (pr-str r)) {:value r}))))
      (when (some? (:spikes spec))
        (when-not (= :spike-generator mdl)
          (v/fail! path (str ":spikes applies to :spike-generator groups; this is a " (pr-str mdl) " group") {:key :spikes}))
        (let [{:keys [indices times] :as sp} (:spikes spec)
              p (conj path :spikes)]
          (v/closed! p ":spikes" sp #{:indices :times})
          (v/require-keys! p ":spikes" sp [:indices :times])
          (when-not (and (sequential-value? indices) (sequential-value? times))
            (v/fail! p ":indices and :times must be sequences" {}))
          (when-not (= (count indices) (count times))
            (v/fail! p (str ":spikes has " (count indices) " indices but " (count times) " times") {}))
          (doseq [i indices] (v/int-in! p "a spike's neuron index" i 0 (dec n)))
          (doseq [t times]
            (when (neg? (quantity! p :spike-time t :ms))
              (v/fail! p (str "spike times must be >= 0, got " (pr-str t)) {:value t})))))
      (when (and (= :spike-generator mdl) (not (contains? spec :spikes)))
        (v/fail! path "a :spike-generator group needs :spikes {:indices [...] :times [...]}" {:missing :spikes})))))

(defn- validate-connect! [path c npre npost]
  (let [rule (if (keyword? c) c (when (map? c) (:rule c)))]
    (when-not (or (keyword? c) (map? c))
      (v/fail! path (str ":connect must be a rule keyword or a map with :rule, got " (pr-str c)) {:value c}))
    (v/one-of! path "connection rule" rule (keys connect-rules))
    (when (map? c)
      (v/closed! path (str "connection rule " rule) c (connect-rules rule))
      (when (contains? c :self?) (v/bool! path ":self?" (:self? c)))
      (case rule
        :fixed-probability (do (v/require-keys! path ":fixed-probability" c [:p])
                               (v/number-in! path ":p" (:p c) 0 1))
        :fixed-in-degree (do (v/require-keys! path ":fixed-in-degree" c [:k])
                             (v/int-in! path ":k" (:k c) 0 npre))
        :explicit (let [{:keys [pre post]} c]
                    (v/require-keys! path ":explicit" c [:pre :post])
                    (when-not (and (sequential-value? pre) (sequential-value? post) (= (count pre) (count post)))
                      (v/fail! path (str ":explicit needs :pre and :post sequences of equal length, got "
                                         (count pre) " and " (count post)) {}))
                    (doseq [i pre] (v/int-in! path "a :pre index" i 0 (dec npre)))
                    (doseq [j post] (v/int-in! path "a :post index" j 0 (dec npost))))
        nil))))

(defn- validate-plasticity! [path p unit]
  (cond
    (model/synapse-model? p) nil
    (and (map? p) (contains? p :model))
    (do (v/closed! path "a defsynapse rule" p #{:model :params})
        (when-not (model/synapse-model? (:model p))
          (v/fail! path (str ":model must be a rule made by defsynapse, got " (pr-str (:model p))) {:value (:model p)}))
        (when-let [ps (:params p)]
          (v/closed! (conj path :params) (str "the parameters of synapse " (:name (:model p))) ps
                     (map first (:params (:model p))))))
    (map? p)
    (let [rule (:rule p)]
      (v/one-of! path "plasticity rule" rule (keys builtin-rules))
      (v/closed! path (str "plasticity rule " rule) p (builtin-rules rule)))
    :else (v/fail! path (str ":plasticity must be a rule map {:rule ...} or a defsynapse rule, got " (pr-str p)) {:value p})))

(defn- validate-projection! [pk spec gspecs]
  (let [path [:projections pk]]
    (v/closed! path "a projection" spec projection-keys)
    (v/require-keys! path "a projection" spec [:from :to :target :connect :weight])
    (doseq [end [:from :to]]
      (v/one-of! (conj path end) "group" (get spec end) (keys gspecs)))
    (let [pre (gspecs (:from spec)) post (gspecs (:to spec))
          tm (model-of (:to spec) post)
          _ (v/one-of! (conj path :target) (str "target variable of group " (:to spec)) (:target spec) (keys (:vars tm)))
          unit (get (:vars tm) (:target spec))
          w (:weight spec)]
      (validate-connect! (conj path :connect) (:connect spec) (:n pre) (:n post))
      (init-spec! (conj path :weight) (keyword (name pk) "weight") w unit nil)
      (when (some? (:delay spec))
        (let [d (:delay spec)]
          (if (sequential-value? d)
            (doseq [x d] (when (neg? (quantity! (conj path :delay) (keyword (name pk) "delay") x :ms))
                           (v/fail! (conj path :delay) (str "delays must be >= 0, got " (pr-str x)) {:value x})))
            (when (neg? (quantity! (conj path :delay) (keyword (name pk) "delay") d :ms))
              (v/fail! (conj path :delay) (str "delays must be >= 0, got " (pr-str d)) {:value d})))))
      (when-let [p (:plasticity spec)] (validate-plasticity! (conj path :plasticity) p unit)))))

(defn- validate-monitor! [mk spec gspecs dt]
  (let [path [:monitors mk]]
    (when-not (map? spec) (v/fail! path (str "a monitor must be a map, got " (pr-str spec)) {:value spec}))
    (v/require-keys! path "a monitor" spec [:type :group])
    (v/one-of! (conj path :type) "monitor type" (:type spec) (keys monitor-types))
    (v/closed! path (str "a " (pr-str (:type spec)) " monitor") spec (monitor-types (:type spec)))
    (v/one-of! (conj path :group) "group" (:group spec) (keys gspecs))
    (when (= :state (:type spec))
      (let [g (gspecs (:group spec)) m (model-of (:group spec) g)]
        (v/require-keys! path "a :state monitor" spec [:var])
        (v/one-of! (conj path :var) (str "state variable of group " (:group spec)) (:var spec) (keys (:vars m)))
        (when (contains? spec :neurons)
          (when-not (sequential-value? (:neurons spec))
            (v/fail! (conj path :neurons) (str ":neurons must be a sequence of indices, got " (pr-str (:neurons spec))) {}))
          (doseq [i (:neurons spec)] (v/int-in! (conj path :neurons) "a neuron index" i 0 (dec (:n g)))))
        (when (contains? spec :every)
          (let [e (quantity! (conj path :every) :every (:every spec) :ms)
                k (/ e dt)]
            (when-not (and (pos? e) (< (Math/abs (- k (Math/rint k))) (* 1e-9 (max 1.0 k))))
              (v/fail! (conj path :every) (str ":every must be a positive whole number of steps of dt = " dt " ms, got "
                                               (pr-str (:every spec))) {:value (:every spec)}))))))))

(defn validate
  "Checks a network map before anything is built: every key at every level
  (an unknown key is an error naming it and the nearest valid one), every
  value's type, unit and range, and every reference to a group or variable.
  Returns the map; throws ex-info with :path otherwise."
  [spec]
  (v/closed! [] "a network map" spec top-keys)
  (let [dt (if (contains? spec :dt) (quantity! [:dt] :dt (:dt spec) :ms) 0.1)]
    (when-not (pos? dt) (v/fail! [:dt] (str ":dt must be > 0, got " (pr-str (:dt spec))) {:value (:dt spec)}))
    (when (contains? spec :seed) (v/int-in! [:seed] ":seed" (:seed spec) Long/MIN_VALUE Long/MAX_VALUE))
    (names! [:groups] ":groups" (:groups spec))
    (names! [:projections] ":projections" (:projections spec))
    (names! [:monitors] ":monitors" (:monitors spec))
    (when (empty? (:groups spec)) (v/fail! [:groups] "a network needs at least one group under :groups" {}))
    (doseq [[k g] (:groups spec)]
      (when-not (map? g) (v/fail! [:groups k] (str "a group must be a map, got " (pr-str g)) {:value g}))
      (validate-group! k g))
    (doseq [[k p] (:projections spec)]
      (when-not (map? p) (v/fail! [:projections k] (str "a projection must be a map, got " (pr-str p)) {:value p}))
      (validate-projection! k p (:groups spec)))
    (doseq [[k m] (:monitors spec)] (validate-monitor! k m (:groups spec) dt)))
  spec)

(defrecord Net [^Network java groups projections monitors spec])

(defn- idle!
  "Throws when `net` is running: readers and writers of its state wait for the run to return."
  [^Net net what]
  (.checkIdle ^Network (:java net) what))

(defn- get-group ^NeuronGroup [^Net net k]
  (or (get (:groups net) k)
      (err (str "no group " (pr-str k) "; the network has " (sort (keys (:groups net))))
           {:group k :valid (sort (keys (:groups net)))})))

(defn- get-monitor [^Net net k]
  (or (get (:monitors net) k)
      (err (str "no monitor " (pr-str k) "; the network has " (sort (keys (:monitors net))))
           {:monitor k :valid (sort (keys (:monitors net)))})))

(defn- monitor-of
  "Monitor `k`, checked to be a `cls` (described as `kind` in the error)."
  [^Net net k ^Class cls kind]
  (let [m (get-monitor net k)]
    (when-not (instance? cls m) (err (str "monitor " k " is not a " kind " monitor") {:monitor k}))
    m))

(defn- get-projection ^Projection [^Net net k]
  (or (get (:projections net) k)
      (err (str "no projection " (pr-str k) "; the network has " (sort (keys (:projections net))))
           {:projection k :valid (sort (keys (:projections net)))})))

(defn build
  "Builds a live network from a spec map:
  - :dt      time step (default (ms 0.1))
  - :seed    random seed (default 0)
  - :groups  {name {:model m :n size :params {...} :init {var init} :rate r}}; models in `models`;
             init: a value, [:uniform lo hi], [:normal mean sd {:min :max}], or one value per neuron
  - :projections {name {:from g :to g :target var :connect rule :weight w :delay d :plasticity p}};
             rule: :all-to-all, :one-to-one, :all-to-all-except-diagonal, or a map
             {:rule :fixed-probability :p 0.02 :self? true}, {:rule :fixed-in-degree :k 80},
             {:rule :explicit :pre [...] :post [...]}; weight in the target variable's unit;
             plasticity (weights and amplitudes in the weight's unit, times as times):
             {:rule :stdp :tau_pre :tau_post :a_plus :a_minus :w_max [:w_min]} (additive pair STDP),
             {:rule :stdp-multiplicative ...} (soft bounds), or
             {:rule :diehl-cook :tau_pre :tau_post1 :tau_post2 :nu_pre :nu_post :w_max}
  - :monitors {name {:type :spikes|:state|:rate|:counts :group g, for :state :var v :neurons [i ...] :every dt}}
  Checks every key, unit, name and size first (`validate`), and the memory it
  will need against the heap."
  [spec]
  (validate spec)
  (let [dt (u/check :dt (:dt spec (u/ms 0.1)) :ms)
        seed (long (:seed spec 0))
        gspecs (into (sorted-map) (:groups spec))
        _ (when (empty? gspecs) (err "a network needs at least one group under :groups" {:spec spec}))
        _ (doseq [[k p] (:projections spec)
                  end [:from :to]]
            (when-not (contains? gspecs (get p end))
              (err (str "projection " k ": " end " names no group: " (pr-str (get p end)) "; groups: " (keys gspecs))
                   {:projection k end (get p end)})))
        _ (check-fits! spec)
        net (Network. dt seed)
        groups (into {} (for [[k gs] gspecs] [k (.add net ^NeuronGroup (build-group k gs seed))]))
        _ (doseq [[k gs] gspecs] (init-group! (groups k) k gs seed))
        projections
        (into {}
              (for [[k ps] (sort-by key (:projections spec))]
                (let [^NeuronGroup pre (groups (:from ps))
                      ^NeuronGroup post (groups (:to ps))
                      tmodel (model-of (:to ps) (gspecs (:to ps)))
                      target (:target ps)
                      unit (or (get (:vars tmodel) (keyword (name (or target :none))))
                               (err (str "projection " k ": target " (pr-str target) " is not a variable of group "
                                         (:to ps) "; valid: " (sort (keys (:vars tmodel))))
                                    {:projection k :target target}))
                      conn (connectivity k (:connect ps) (.size pre) (.size post) (seed-for seed [(name k) "connect"]))
                      w (build-weights k ps conn unit (seed-for seed [(name k) "weight"]))
                      proj (.add net ^Projection (Projection. (name k) pre post (name target) conn w (delays k ps conn)))]
                  (when-let [pl (:plasticity ps)]
                    (.setPlasticity proj (plasticity-rule k pl unit)))
                  [k proj])))
        monitors
        (into {}
              (for [[k {:keys [type group var neurons every] :as ms}] (:monitors spec)]
                (let [^NeuronGroup g (or (groups group) (err (str "monitor " k ": no group " (pr-str group)) {:monitor k}))]
                  [k (case type
                       :spikes (.add net (SpikeMonitor. g))
                       :rate (.add net (RateMonitor. g))
                       :counts (.add net (SpikeCountMonitor. g))
                       :state (let [every-steps (if every (max 1 (Math/round (/ (u/check :every every :ms) dt))) 1)]
                                (.add net (StateMonitor. g (name var) (int-array (or neurons (range (.size ^NeuronGroup g))))
                                                         (int every-steps))))
                       (err (str "monitor " k ": unknown :type " (pr-str type) "; valid: [:spikes :state :rate :counts]")
                            {:monitor k :type type}))])))]
    (->Net net groups projections monitors spec)))

(defn default-threads
  "Threads a run of `net` uses when not told: the available processors when a
  step holds enough work to pay for cross-core synchronisation, else 1 (see
  chive.core.sim.Network/suggestedThreads). Results do not depend on it."
  ([] (.availableProcessors (Runtime/getRuntime)))
  ([^Net net] (.suggestedThreads ^Network (:java net))))

(defn- progress-printer
  "A listener that prints progress to *err* once a run has taken 2 s, every second."
  ^Network$ProgressListener []
  (let [err-out *err*
        last-print (volatile! 0.0)]
    (reify Network$ProgressListener
      (progress [_ done total sim-ms wall]
        (when (and (> wall 2.0) (>= (- wall @last-print) 1.0) (< done total))
          (vreset! last-print wall)
          (let [frac (/ (double done) (max 1 total))
                bar (apply str (concat (repeat (int (* 20 frac)) "#") (repeat (- 20 (int (* 20 frac))) ".")))]
            (binding [*out* err-out]
              (println (format "[%s] %3.0f%%  t = %.1f ms  %.1f s wall  %.3g x real time"
                               bar (* 100 frac) sim-ms wall (/ (/ sim-ms 1000.0) (max wall 1e-9))))
              (flush))))))))

(defn run!
  "Advances the network by `duration` (a time). Options:
  - :interruptible  false runs to the end even when interrupted (the flag stays
               set; check it between such runs). Default true.
  - :threads   threads (default `(default-threads net)`); results do not depend on it
  - :progress  true (default: prints to *err* when the run takes over 2 s), false,
               or (fn [{:keys [done total sim-ms wall-s]}]) called about twice a second
  Returns {:steps n :t-ms clock-after :wall-s s :interrupted bool}. An nREPL
  interrupt (or Thread.interrupt) stops the run at a step boundary; the network
  stays consistent and `run!` can continue it.

  One run at a time: `run!` on a network that is running (from another
  thread or a :progress callback) throws at once, as do the readers and
  writers of its state (`set-param!`, `state`, `spikes`, `chive.io/save!`,
  ...) until the run returns. The steps run on chive's own threads; if the
  calling thread is killed (nREPL falls back on Thread.stop five seconds
  after an interrupt, honoured up to JDK 19), the run ends at the next step
  boundary even when :interruptible is false, and no thread is left running."
  [^Net net duration & {:keys [threads progress interruptible] :or {progress true interruptible true} :as opts}]
  (v/kwargs! "run!" opts [:threads :progress :interruptible])
  (when (some? threads) (v/int-in! [] ":threads" threads 1 1024))
  (v/bool! [] ":interruptible" interruptible)
  (when-not (or (boolean? progress) (fn? progress))
    (v/fail! [] (str ":progress must be true, false or a function, got " (pr-str progress)) {:value progress}))
  (let [^Network jn (:java net)
        dur (u/check :duration duration :ms)
        _ (when (neg? dur) (v/fail! [] (str "run!: the duration must be >= 0, got " (pr-str duration)) {:value duration}))
        threads (int (or threads (default-threads net)))
        listener (cond
                   (fn? progress) (reify Network$ProgressListener
                                    (progress [_ done total sim-ms wall]
                                      (progress {:done done :total total :sim-ms sim-ms :wall-s wall})))
                   progress (progress-printer)
                   :else nil)
        ^Network$RunResult r (.runSteps jn (Math/round (/ dur (.dt jn))) threads listener (boolean interruptible))]
    (when (.interrupted r)
      (binding [*out* *err*]
        (println (format "run interrupted at t = %.1f ms after %d of %d steps; the network is consistent, run! continues it"
                         (.timeMs jn) (.stepsRun r) (.stepsRequested r)))))
    {:steps (.stepsRun r) :t-ms (.timeMs jn) :wall-s (.wallSeconds r)
     :interrupted (.interrupted r) :threads (.threads r)}))

(defn time-ms "The network's clock in ms." ^double [^Net net] (.timeMs ^Network (:java net)))

(defn spikes
  "Spikes recorded by spike monitor `k`: {:indices int[] :times-ms double[] :count n},
  in time order."
  [^Net net k]
  (idle! net "read a spike monitor")
  (let [^SpikeMonitor m (monitor-of net k SpikeMonitor "spike")]
    {:indices (.indices m) :times-ms (.times m) :count (.count m)}))

(defn spike-counts
  "Spike counts per neuron from count monitor `k` (:type :counts) since its last reset, as an int[]."
  ^ints [^Net net k]
  (idle! net "read a count monitor")
  (.counts ^SpikeCountMonitor (monitor-of net k SpikeCountMonitor ":counts")))

(defn reset-counts!
  "Zeroes count monitor `k`."
  [^Net net k]
  (idle! net "reset a count monitor")
  (.reset ^SpikeCountMonitor (monitor-of net k SpikeCountMonitor ":counts"))
  net)

(defn spike-trains
  "Spike times per neuron from spike monitor `k`: {neuron [t-ms ...]}."
  [^Net net k]
  (let [{:keys [^ints indices ^doubles times-ms]} (spikes net k)]
    (persistent!
     (reduce (fn [acc i] (let [n (aget indices (int i))]
                           (assoc! acc n (conj (get acc n []) (aget times-ms (int i))))))
             (transient {}) (range (alength indices))))))

(defn trace
  "State recorded by state monitor `k`: {:var v :neurons [...] :times-ms double[] :values float[record][neuron]}."
  [^Net net k]
  (idle! net "read a state monitor")
  (let [^StateMonitor m (monitor-of net k StateMonitor "state")
        dt (.dt ^Network (:java net))]
    {:var (keyword (.var m)) :neurons (vec (.indices m))
     :times-ms (double-array (map #(* dt %) (.steps m))) :values (.values m)}))

(defn rates
  "Population rate per step from rate monitor `k`: {:times-ms double[] :rates-hz double[]}."
  [^Net net k]
  (idle! net "read a rate monitor")
  (let [^RateMonitor m (monitor-of net k RateMonitor "rate")
        dt (.dt ^Network (:java net))]
    (let [r (.rates m)
          first-step (.firstStep m)]
      {:times-ms (double-array (map #(* dt (+ first-step %)) (range (alength r)))) :rates-hz r})))

(defn state
  "The live array of state variable `var` of group `g` (internal units: see `models`)."
  ^floats [^Net net g var]
  (idle! net "read or write a state variable")
  (.var (get-group net g) (name var)))

(defn set-state!
  "Sets state variable `var` of group `g` from an init spec (as in `build`'s :init)."
  [^Net net g var spec]
  (idle! net "set a state variable")
  (let [gs (get-in net [:spec :groups g])
        unit (unit-of :var (:vars (model-of g gs)) g var)]
    (fill-var! (state net g var) spec unit (keyword (name g) (name var))
               (seed-for (.seed ^Network (:java net)) [(name g) (name var) (time-ms net)]))
    net))

(defn set-rates!
  "Sets the rates of Poisson group `g`: one rate (a frequency), one per neuron
  (a sequence of frequencies), or a double[] of rates in Hz (one Java call, no
  per-neuron work here: the fast path for training loops)."
  [^Net net g rates]
  (idle! net "set Poisson rates")
  (if (instance? (Class/forName "[D") rates)
    (let [grp (get-group net g)]
      (when-not (instance? PoissonGroup grp)
        (err (str "group " g " is not a Poisson group") {:group g}))
      (.setRates ^PoissonGroup grp ^doubles rates)
      net)
    (set-state! net g :rate rates)))

(defn param
  "Parameter `p` of group `g`, as a quantity in its unit."
  [^Net net g p]
  (let [m (model-of g (get-in net [:spec :groups g]))
        unit (unit-of :param (:params m) g p)
        v (.param (get-group net g) (name p))]
    (as-quantity v unit)))

(defn set-param!
  "Sets parameter `p` of group `g` (a quantity of the right dimension); takes
  effect at the next step. Returns the network."
  [^Net net g p value]
  (idle! net "set a parameter")
  (let [m (model-of g (get-in net [:spec :groups g]))
        unit (unit-of :param (:params m) g p)]
    (.setParam (get-group net g) (name p) (convert (keyword (name g) (name p)) value unit))
    net))

(defn weights
  "The live weight array of projection `k` (CSR order, target variable's unit)."
  ^floats [^Net net k]
  (idle! net "read or write weights")
  (.weights (get-projection net k)))

(defn set-learning!
  "Switches the plasticity of projection `k` on or off (takes effect at the next step)."
  [^Net net k on?]
  (idle! net "switch learning")
  (let [p (get-projection net k)]
    (if-let [^chive.core.plasticity.LearningRule rule (.plasticity p)]
      (.setLearning rule (boolean on?))
      (err (str "projection " k " has no plasticity") {:projection k}))
    net))

(defn normalize!
  "Scales each post neuron's incoming weights on projection `k` to sum to `total`
  (in the weight's unit; Diehl & Cook use 78)."
  [^Net net k total]
  (idle! net "normalise weights")
  (let [p (get-projection net k)
        g (keyword (.name (.post p)))
        unit (get-in (model-of g (get-in net [:spec :groups g])) [:vars (keyword (.target p))])]
    (.normalizeIncoming p (convert (keyword (name k) "total") total unit))
    net))

(defn connections
  "Projection `k` as {:pre int[] :post int[] :weight float[]} (one entry per synapse)."
  [^Net net k]
  (idle! net "read connections")
  (let [p (get-projection net k)
        c (.connectivity p)]
    {:pre (.pre c) :post (aclone (.post c)) :weight (aclone (.weights p))}))

(defn summary
  "Sizes and memory of the network, as data."
  [^Net net]
  (let [^Network jn (:java net)]
    {:t-ms (.timeMs jn) :dt-ms (.dt jn) :seed (.seed jn)
     :groups (into (sorted-map) (for [[k ^NeuronGroup g] (:groups net)] [k {:model (.model g) :n (.size g)}]))
     :projections (into (sorted-map) (for [[k ^Projection p] (:projections net)]
                                       [k {:from (keyword (.name (.pre p))) :to (keyword (.name (.post p)))
                                           :target (keyword (.target p)) :synapses (.size p) :bytes (.bytes p)}]))
     :synapses (reduce + (map #(.size ^Projection %) (vals (:projections net))))
     :bytes (.bytes jn)}))
