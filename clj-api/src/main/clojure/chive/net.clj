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
  - describe: `models` (what each model integrates, its parameters and units),
              `chive.registry/describe` (every model, connector, rule, monitor, surrogate, plot)
  - build:    `build`, `estimate-bytes`
  - run:      `run!` (progress on *err* for long runs; nREPL interrupt stops it at a step boundary)
  - read:     `spikes`, `spike-trains`, `trace`, `rates`, `state`, `param`, `weights`, `recorded`, `summary`, `time-ms`
  - change:   `set-param!`, `set-state!`, `set-rates!`, `set-learning!`, `normalize!`

  Groups are added in the order of their names (sorted), which fixes each
  group's random stream: the same map and seed give the same network, and the
  same spikes with any :threads."
  (:refer-clojure :exclude [run!])
  (:require [chive.impl.builtins]
            [chive.impl.spec :refer [convert doubles? err fill-var! quantity! init-spec! sequential-value?]]
            [chive.impl.validate :as v]
            [chive.model :as model]
            [chive.registry :as registry]
            [chive.units :as u]
            [clojure.string :as str])
  (:import (chive.core.plasticity LearningRule)
           (chive.core.sim Network NeuronGroup Projection Connectivity SpikeMonitor StateMonitor PoissonInput
                           RateMonitor SpikeCountMonitor Fill Network$ProgressListener Network$RunResult ChiveException)
           (chive.core.model PoissonGroup)))

(set! *warn-on-reflection* true)

(defn models
  "Registered neuron models (chive.registry, kind :model): {name {:doc
  :params {name unit} :vars {name unit} :aliases {...} :double? bool}}, units
  internal (a plain number is accepted only where the unit is :1). :double?
  marks the models that have a double-precision kernel (:precision :double).
  Register a new one with `chive.registry/register!`."
  []
  (into (sorted-map) (for [[k e] (registry/entries-of :model)]
                       [k (select-keys e [:doc :params :vars :aliases :double? :keys])])))

(defn- as-quantity [v unit]
  (cond (vector? unit) (u/from-internal v unit)
        (or (= unit :1) (set? unit)) v
        :else (u/q v unit)))

(defn- dsl-model [m]
  {:doc (:doc m)
   :new (fn [nm n precision] (model/group m nm n precision))
   :double? true
   :params (:param-dims m)
   :vars (:state-dims m)})

(defn- model-of [group-key spec]
  (or (when (model/model? (:model spec)) (dsl-model (:model spec)))
      (registry/entry :model (:model spec))
      (err (str "group " group-key ": unknown model " (pr-str (:model spec)) "; valid models: "
                (vec (registry/names :model)))
           {:group group-key :model (:model spec) :valid (vec (registry/names :model))})))

(defn- canonical
  "The model's own name for parameter or variable `k`, which may be a Brian2-style alias."
  [m k]
  (let [k (keyword (name k))] (get (:aliases m) k k)))

(defn- unit-of [kind table group-key k]
  (or (get table (keyword (name k)))
      (let [s (v/nearest k (keys table))]
        (err (str "group " group-key ": unknown " (name kind) " " (pr-str k) (when s (str "; did you mean " (pr-str s) "?"))
                  " Valid: " (sort (keys table)))
             {:group group-key kind k :suggestion s :valid (sort (keys table))}))))

(defn- seed-for
  "A seed derived from the network seed and a name, stable across runs."
  ^long [^long seed what]
  (chive.core.sim.Rng/bits seed 0x5EED (long (hash (str what))) 0))

(defn- var-array
  "The live array of state variable `v` of `g`: float[] or, in a double-precision group, double[]."
  [^NeuronGroup g v]
  (if (.isDouble g (name v)) (.varD g (name v)) (.var g (name v))))

(defn new-group
  "A fresh group of `model` (a built-in keyword or a DSL model) with default
  parameters, named after `group-key`, in :single (default) or :double
  precision; for chive.io."
  (^NeuronGroup [group-key model n] (new-group group-key model n :single))
  (^NeuronGroup [group-key model n precision]
   (let [m (model-of group-key {:model model})]
     (when (and (= precision :double) (not (:double? m)))
       (err (str "model " model " has no double-precision kernel") {:model model}))
     ((:new m) (name group-key) (int n) precision))))

(defn- build-group ^NeuronGroup [group-key spec ^long seed]
  (let [m (model-of group-key spec)
        n (:n spec)
        nm (name group-key)]
    (when-not (and (integer? n) (pos? n))
      (err (str "group " group-key ": :n must be a positive integer, got " (pr-str n)) {:group group-key :n n}))
    (let [^NeuronGroup g (if-let [b (:build m)]
                           (b nm (int n) spec)
                           ((:new m) nm (int n) (:precision spec :single)))]
      (doseq [[k v] (:params spec)
              :let [k (canonical m k)]]
        (.setParam g (name k) (convert (keyword (name group-key) (name k)) v (unit-of :param (:params m) group-key k))))
      (when-let [init (:init m)] (init g spec (fn [what] (seed-for seed [nm what]))))
      g)))

(defn- initialise-dsl!
  "Applies a DSL model's :init expressions, except for the variables the map's :init gave."
  [^NeuronGroup g spec]
  (when (and (instance? chive.core.model.DslGroup g) (seq (:init-vars (:model spec))))
    (.initialise ^chive.core.model.DslGroup g (into-array String (map name (keys (:init spec)))))))

(declare model-of)

(defn- init-group! [^NeuronGroup g group-key spec ^long seed]
  (let [m (model-of group-key spec)]
    (doseq [[k v] (:init spec)
            :let [k (canonical m k)]]
      (let [unit (unit-of :var (:vars m) group-key k)]
        (fill-var! (var-array g k) v unit (keyword (name group-key) (name k)) (seed-for seed [(name group-key) (name k)]))))
    (initialise-dsl! g spec)))

(defn- connect-map
  "A :connect spec as a map {:rule r ...} (a bare keyword is the rule alone)."
  [c]
  (if (keyword? c) {:rule c} c))

(defn- connectivity
  "The connectivity of connect spec `c` between slices of npre and npost
  neurons starting at plo and qlo (a connector whose spec holds neuron
  indices in the groups' numbering declares :relative to shift them)."
  ^Connectivity [proj-key c npre npost plo qlo seed]
  (let [c (connect-map c)
        e (or (registry/entry :connector (:rule c))
              (err (str "projection " proj-key ": unknown connection rule " (pr-str (:rule c)) "; valid: "
                        (vec (registry/names :connector)))
                   {:projection proj-key :rule (:rule c)}))
        c (if-let [rel (:relative e)] (rel c plo qlo) c)]
    ((:connect e) c (int npre) (int npost) (long seed))))

(defn- fill-slice!
  "Sets neurons [lo, hi) of array `a` from an init spec (see `fill-var!`)."
  [a lo hi spec unit what seed]
  (let [n (if (doubles? a) (alength ^doubles a) (alength ^floats a))]
    (if (and (zero? lo) (= hi n))
      (fill-var! a spec unit what seed)
      (let [part (if (doubles? a)
                   (java.util.Arrays/copyOfRange ^doubles a (int lo) (int hi))
                   (java.util.Arrays/copyOfRange ^floats a (int lo) (int hi)))]
        (fill-var! part spec unit what seed)
        (System/arraycopy part 0 a (int lo) (int (- hi lo)))))))

(defn- expected-synapses
  "Synapses a projection spec will create (expected value for random rules)."
  ^double [{:keys [connect]} npre npost]
  (let [c (connect-map connect)]
    (if-let [f (:expected (registry/entry :connector (:rule c)))]
      (double (f c npre npost))
      0.0)))

(def ^:private bytes-per-synapse 10)

(declare slice-ref)

(defn estimate-bytes
  "Bytes a network spec will need once built (state arrays and synapses,
  not monitors' recordings)."
  [{:keys [groups subgroups projections]}]
  (let [size (fn [ref] (if-let [[_ lo hi] (slice-ref groups (or subgroups {}) ref)] (- hi lo) 0))
        gbytes (reduce + (for [[k s] groups] (* 4 (:n s 0) (+ 2 (count (:vars (model-of k s)))))))
        pbytes (reduce + (for [[_ p] projections]
                           (* bytes-per-synapse (expected-synapses p (size (:from p)) (size (:to p))))))]
    (long (+ gbytes pbytes))))

(defn- check-fits! [spec]
  (let [need (estimate-bytes spec)
        rt (Runtime/getRuntime)
        free (- (.maxMemory rt) (- (.totalMemory rt) (.freeMemory rt)))]
    (when (> need (* 0.9 free))
      (err (format "the network needs about %.1f MiB but only %.1f MiB of heap are free (max %.1f MiB); raise -Xmx (CHIVE_JVM_OPTS=-Xmx8g) or shrink it"
                   (/ need 1048576.0) (/ free 1048576.0) (/ (.maxMemory rt) 1048576.0))
           {:need-bytes need :free-bytes free}))))

(defn- build-weights
  "Weights in CSR order: float[] or, for a double-precision target, double[]."
  [proj-key spec ^Connectivity conn unit seed dbl?]
  (let [w (:weight spec)
        n (.size conn)
        a (if dbl? (double-array n) (float-array n))
        what (keyword (name proj-key) "weight")]
    (fill-var! a w unit what seed)
    (if-let [order (and (sequential? w) (.order conn))]
      (if dbl? (Fill/permuted ^doubles a ^ints order) (Fill/permuted ^floats a ^ints order))
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
      (let [e (or (registry/entry :plasticity (:rule p))
                  (err (str "projection " proj-key ": unknown plasticity rule " (pr-str (:rule p)) "; valid: "
                            (vec (registry/names :plasticity)))
                       {:projection proj-key :rule (:rule p)}))]
        (doseq [k (:required e)]
          (when-not (contains? p k)
            (err (str "projection " proj-key ": plasticity " (:rule p) " needs " k) {:projection proj-key :missing k})))
        ((:build e) proj-key p target-unit)))))


;; ---------------------------------------------------------------- validation

(def ^:private top-keys #{:dt :seed :fast-forward :groups :subgroups :projections :inputs :monitors})
(def ^:private input-keys
  "Keys every input spec may have; its kind's entry (:type, default :poisson) adds its own."
  #{:type :to :target})
(def ^:private group-keys
  "Keys every group spec may have; a model's entry adds its own (:keys, e.g. :rate of :poisson)."
  #{:model :n :params :init :precision})
(def ^:private projection-keys #{:from :to :target :connect :weight :delay :plasticity})
(defn- names! [path what m]
  (when-not (or (nil? m) (map? m))
    (v/fail! path (str what " must be a map of name -> spec, got " (pr-str m)) {:value m}))
  (doseq [k (keys m)]
    (when-not (keyword? k)
      (v/fail! path (str what " names must be keywords, got " (pr-str k) (when (string? k) (str "; write " (keyword k))))
               {:key k}))))

(defn- subgroup-spec
  "A subgroup spec in its map form {:group g :from lo :to hi :init {...}}."
  [s]
  (if (vector? s) (let [[g lo hi] s] {:group g :from lo :to hi}) s))

(defn- slice-ref
  "[group lo hi] for a group reference: a group's name, a subgroup's name, or a
  slice [group lo hi] (neurons lo..hi-1 of group). nil when it names nothing."
  [gspecs subgroups ref]
  (cond
    (and (keyword? ref) (contains? gspecs ref)) [ref 0 (:n (gspecs ref))]
    (and (keyword? ref) (contains? subgroups ref)) (let [{:keys [group from to]} (subgroup-spec (subgroups ref))] [group from to])
    (and (vector? ref) (= 3 (count ref)) (contains? gspecs (first ref))) ref
    :else nil))

(defn- ref!
  "Checks a group reference at `path` (a group, a subgroup or a slice [g lo hi]); returns [g lo hi]."
  [path gspecs subgroups ref]
  (if (vector? ref)
    (let [[g lo hi] ref]
      (when-not (= 3 (count ref))
        (v/fail! path (str "a slice is [group from to], got " (pr-str ref)) {:value ref}))
      (v/one-of! path "group" g (keys gspecs))
      (let [n (:n (gspecs g))]
        (v/int-in! path "a slice's first neuron" lo 0 (dec n))
        (v/int-in! path "a slice's end (one past its last neuron)" hi (inc lo) n))
      ref)
    (do (v/one-of! path "group or subgroup" ref (concat (keys gspecs) (keys subgroups)))
        (slice-ref gspecs subgroups ref))))

(defn- validate-subgroup! [sk s gspecs]
  (let [path [:subgroups sk]
        m (subgroup-spec s)]
    (when (contains? gspecs sk)
      (v/fail! path (str "subgroup " sk " has the name of a group") {:key sk}))
    (v/closed! path "a subgroup (or [group from to])" m #{:group :from :to :init})
    (v/require-keys! path "a subgroup" m [:group :from :to])
    (let [[g lo hi] (ref! path gspecs {} [(:group m) (:from m) (:to m)])
          mdl (model-of g (gspecs g))]
      (when-let [init (:init m)]
        (v/closed! (conj path :init) "the state variables" init (keys (:vars mdl)))
        (doseq [[k x] init] (init-spec! (conj path :init k) (keyword (name sk) (name k)) x (get (:vars mdl) k) (- hi lo)))))))

(defn- validate-input! [ik spec gspecs subgroups dt]
  (let [path [:inputs ik]
        kind (v/one-of! (conj path :type) "input type" (:type spec :poisson) (registry/names :input))
        e (registry/entry :input kind)]
    (v/closed! path (str "a " (pr-str kind) " input") spec (into input-keys (:keys e)))
    (v/require-keys! path (str "a " (pr-str kind) " input") spec (into [:to :target] (:required e)))
    (let [[g lo hi] (ref! (conj path :to) gspecs subgroups (:to spec))
          m (model-of g (gspecs g))
          unit (get (:vars m) (v/one-of! (conj path :target) (str "target variable of group " g) (:target spec) (keys (:vars m))))]
      (when-let [f (:validate e)] (f path ik spec unit dt)))))

(defn- validate-group! [gk spec dt]
  (let [path [:groups gk]
        mdl (:model spec)
        m (when (map? spec) (if (model/model? mdl) (dsl-model mdl) (registry/entry :model mdl)))]
    (when (and (map? spec) (contains? spec :model) (not (model/model? mdl)))
      (v/one-of! (conj path :model) "model" mdl (registry/names :model)))
    (let [own (set (:keys m))]
      ;; A key of another model (:rate of :poisson on a :lif group) is named as such.
      (doseq [k (keys spec)
              :when (not (or (group-keys k) (own k)))
              :let [owners (for [[mk e] (registry/entries-of :model) :when (contains? (set (:keys e)) k)] mk)]
              :when (seq owners)]
        (v/fail! path (str k " applies to " (str/join ", " (map pr-str owners)) " groups; this is a "
                           (pr-str (if (keyword? mdl) mdl (:name mdl))) " group") {:key k}))
      (v/closed! path "a group" spec (into group-keys own)))
    (v/require-keys! path "a group" spec [:model :n])
    (let [n (v/int-in! (conj path :n) ":n" (:n spec) 1 (- Integer/MAX_VALUE 8))]
      (when (contains? spec :precision)
        (v/one-of! (conj path :precision) "precision" (:precision spec) [:single :double])
        (when (and (= :double (:precision spec)) (not (:double? m)))
          (v/fail! (conj path :precision)
                   (str "model " (pr-str mdl) " has no double-precision kernel; "
                        (vec (for [[k e] (registry/entries-of :model) :when (:double? e)] k))
                        " and defneuron models do (chive.models has adex and hh written with defneuron)")
                   {:model mdl})))
      (doseq [[what table k] [["parameters" (:params m) :params] ["state variables" (:vars m) :init]]
              :let [given (get spec k)
                    aliases (for [[a c] (:aliases m) :when (contains? table c)] a)]
              :when given]
        (v/closed! (conj path k) (str "the " what " of model " (pr-str (if (keyword? mdl) mdl (:name mdl)))) given
                   (keys table) aliases)
        (doseq [[c ks] (group-by #(canonical m %) (keys given)) :when (> (count ks) 1)]
          (v/fail! (conj path k) (str (pr-str (vec ks)) " name the same " (pr-str c) " (a Brian2-style alias and chive's name); give one")
                   {:keys (vec ks)})))
      (doseq [[k x] (:params spec)]
        (quantity! (conj path :params k) (keyword (name gk) (name k)) x (get (:params m) (canonical m k))))
      (doseq [[k x] (:init spec)]
        (init-spec! (conj path :init k) (keyword (name gk) (name k)) x (get (:vars m) (canonical m k)) n))
      (when-let [f (:validate m)] (f path gk spec n dt)))))

(defn- validate-connect! [path c [plo phi] [qlo qhi]]
  (when-not (or (keyword? c) (map? c))
    (v/fail! path (str ":connect must be a rule keyword or a map with :rule, got " (pr-str c)) {:value c}))
  (let [c (connect-map c)
        rule (v/one-of! path "connection rule" (:rule c) (registry/names :connector))
        e (registry/entry :connector rule)]
    (v/closed! path (str "connection rule " rule) c (conj (set (:keys e)) :rule))
    (doseq [k (:required e)] (v/require-keys! path (str rule) c [k]))
    (when-let [f (:validate e)] (f path c [plo phi] [qlo qhi]))))

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
    (let [rule (v/one-of! path "plasticity rule" (:rule p) (registry/names :plasticity))
          e (registry/entry :plasticity rule)]
      (v/closed! path (str "plasticity rule " rule) p (conj (set (:keys e)) :rule))
      (doseq [k (:required e)] (v/require-keys! path (str "plasticity " rule) p [k]))
      (when-let [f (:validate e)] (f path p unit)))
    :else (v/fail! path (str ":plasticity must be a rule map {:rule ...} or a defsynapse rule, got " (pr-str p)) {:value p})))

(defn- validate-projection! [pk spec gspecs subgroups]
  (let [path [:projections pk]]
    (v/closed! path "a projection" spec projection-keys)
    (v/require-keys! path "a projection" spec [:from :to :target :connect :weight])
    (let [[pg plo phi] (ref! (conj path :from) gspecs subgroups (:from spec))
          [qg qlo qhi] (ref! (conj path :to) gspecs subgroups (:to spec))
          tm (model-of qg (gspecs qg))
          _ (v/one-of! (conj path :target) (str "target variable of group " qg) (:target spec) (keys (:vars tm)))
          unit (get (:vars tm) (:target spec))
          w (:weight spec)]
      (validate-connect! (conj path :connect) (:connect spec) [plo phi] [qlo qhi])
      (init-spec! (conj path :weight) (keyword (name pk) "weight") w unit nil)
      (when (some? (:delay spec))
        (let [d (:delay spec)]
          (if (sequential-value? d)
            (doseq [x d] (when (neg? (quantity! (conj path :delay) (keyword (name pk) "delay") x :ms))
                           (v/fail! (conj path :delay) (str "delays must be >= 0, got " (pr-str x)) {:value x})))
            (when (neg? (quantity! (conj path :delay) (keyword (name pk) "delay") d :ms))
              (v/fail! (conj path :delay) (str "delays must be >= 0, got " (pr-str d)) {:value d})))))
      (when-let [p (:plasticity spec)] (validate-plasticity! (conj path :plasticity) p unit)))))

(defn- validate-monitor! [mk spec gspecs subgroups dt]
  (let [path [:monitors mk]]
    (when-not (map? spec) (v/fail! path (str "a monitor must be a map, got " (pr-str spec)) {:value spec}))
    (v/require-keys! path "a monitor" spec [:type :group])
    (let [type (v/one-of! (conj path :type) "monitor type" (:type spec) (registry/names :monitor))
          e (registry/entry :monitor type)]
      (v/closed! path (str "a " (pr-str type) " monitor") spec (into #{:type :group} (:keys e)))
      (v/require-keys! path (str "a " (pr-str type) " monitor") spec (vec (:required e)))
      (let [[g lo hi] (ref! (conj path :group) gspecs subgroups (:group spec))]
        (when-let [f (:validate e)] (f path spec (model-of g (gspecs g)) g lo hi dt))))))

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
    (when (and (contains? spec :fast-forward) (not (boolean? (:fast-forward spec))))
      (v/fail! [:fast-forward] (str ":fast-forward must be true or false, got " (pr-str (:fast-forward spec)))
               {:value (:fast-forward spec)}))
    (names! [:groups] ":groups" (:groups spec))
    (names! [:subgroups] ":subgroups" (:subgroups spec))
    (names! [:projections] ":projections" (:projections spec))
    (names! [:inputs] ":inputs" (:inputs spec))
    (names! [:monitors] ":monitors" (:monitors spec))
    (when (empty? (:groups spec)) (v/fail! [:groups] "a network needs at least one group under :groups" {}))
    (doseq [[k g] (:groups spec)]
      (when-not (map? g) (v/fail! [:groups k] (str "a group must be a map, got " (pr-str g)) {:value g}))
      (validate-group! k g dt))
    (doseq [[k sg] (:subgroups spec)] (validate-subgroup! k sg (:groups spec)))
    (doseq [[k p] (:projections spec)]
      (when-not (map? p) (v/fail! [:projections k] (str "a projection must be a map, got " (pr-str p)) {:value p}))
      (validate-projection! k p (:groups spec) (:subgroups spec)))
    (doseq [[k i] (:inputs spec)]
      (when-not (map? i) (v/fail! [:inputs k] (str "an input must be a map, got " (pr-str i)) {:value i}))
      (validate-input! k i (:groups spec) (:subgroups spec) dt))
    (doseq [[k m] (:monitors spec)] (validate-monitor! k m (:groups spec) (:subgroups spec) dt)))
  spec)

(defrecord Net [^Network java groups projections monitors spec])

(defn- idle!
  "Throws when `net` is running: readers and writers of its state wait for the run to return."
  [^Net net what]
  (.checkIdle ^Network (:java net) what))

(defn- ref-of
  "[group-key lo hi] of a group reference in a built network: a group, a
  subgroup of the map, or a slice [group lo hi]."
  [^Net net ref]
  (cond
    (and (keyword? ref) (contains? (:groups net) ref)) [ref 0 (.size ^NeuronGroup (get (:groups net) ref))]
    (and (keyword? ref) (contains? (:subgroups net) ref)) (get (:subgroups net) ref)
    (and (vector? ref) (= 3 (count ref)) (contains? (:groups net) (first ref)))
    (let [[g lo hi] ref n (.size ^NeuronGroup (get (:groups net) g))]
      (when-not (and (integer? lo) (integer? hi) (<= 0 lo) (< lo hi) (<= hi n))
        (err (str "slice " (pr-str ref) ": neurons " lo ".." hi " are not within group " g " of " n) {:slice ref}))
      ref)
    :else (let [valid (sort (concat (keys (:groups net)) (keys (:subgroups net))))
                s (v/nearest ref valid)]
            (err (str "no group " (pr-str ref) (when s (str "; did you mean " (pr-str s) "?")) "; the network has groups and subgroups " valid)
                 {:group ref :valid valid}))))

(defn- whole? [^Net net [g lo hi]] (and (zero? lo) (= hi (.size ^NeuronGroup (get (:groups net) g)))))

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
  - :fast-forward  quiet fast-forward (default true): once nothing can spike
             before the end of a run without input (every rate 0, conductances decayed,
             nothing in flight, nothing recorded per step), the rest of the run is advanced
             in closed form; see chive.core.sim.Network#setFastForward. `summary` reports
             :quiet-steps
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
  - :subgroups {name [group from to]} (or {:group :from :to :init}): slices usable wherever a group is
  - :inputs  {name {:type :poisson :to g :target var :n sources :rate r :weight w [:exact bool]}}
  - :monitors {name {:type :spikes|:state|:rate|:counts :group g, for :state :var v :neurons [i ...] :every dt}}
  Models, connection rules, plasticity rules, input types and monitor types
  are the ones registered in chive.registry (the built-ins above, and any a
  user registers; `chive.registry/describe` lists them). Checks every key,
  unit, name and size first (`validate`), and the memory it will need
  against the heap."
  [spec]
  (validate spec)
  (let [dt (u/check :dt (:dt spec (u/ms 0.1)) :ms)
        seed (long (:seed spec 0))
        gspecs (into (sorted-map) (:groups spec))
        subgroups (into (sorted-map) (:subgroups spec))
        slice (fn [ref] (slice-ref gspecs subgroups ref))
        _ (check-fits! spec)
        net (doto (Network. dt seed) (.setFastForward (boolean (:fast-forward spec true))))
        groups (into {} (for [[k gs] gspecs] [k (.add net ^NeuronGroup (build-group k gs seed))]))
        _ (doseq [[k gs] gspecs] (init-group! (groups k) k gs seed))
        _ (doseq [[k sg] subgroups
                  :let [{:keys [group from to init]} (subgroup-spec sg)
                        m (model-of group (gspecs group))]
                  [v x] init]
            (fill-slice! (var-array (groups group) v) from to x (get (:vars m) v)
                         (keyword (name k) (name v)) (seed-for seed [(name k) (name v)])))
        projections
        (into {}
              (for [[k ps] (sort-by key (:projections spec))]
                (let [[pg plo phi] (slice (:from ps))
                      [qg qlo qhi] (slice (:to ps))
                      ^NeuronGroup pre (groups pg)
                      ^NeuronGroup post (groups qg)
                      unit (get (:vars (model-of qg (gspecs qg))) (:target ps))
                      c (connectivity k (:connect ps) (- phi plo) (- qhi qlo) plo qlo
                                      (seed-for seed [(name k) "connect"]))
                      conn (if (and (= [plo phi] [0 (.size pre)]) (= [qlo qhi] [0 (.size post)]))
                             c
                             (.placed c (.size pre) (int plo) (.size post) (int qlo)))
                      dbl? (.isDouble post (name (:target ps)))
                      w (build-weights k ps conn unit (seed-for seed [(name k) "weight"]) dbl?)
                      proj (.add net ^Projection (if dbl?
                                                   (Projection. (name k) pre post (name (:target ps)) conn nil ^doubles w (delays k ps conn))
                                                   (Projection. (name k) pre post (name (:target ps)) conn ^floats w (delays k ps conn))))]
                  (when-let [pl (:plasticity ps)]
                    (.setPlasticity proj (plasticity-rule k pl unit)))
                  [k proj])))
        inputs
        (into {}
              (for [[k {:keys [to target] :as is}] (sort-by key (:inputs spec))]
                (let [[g lo hi] (slice to)
                      unit (get (:vars (model-of g (gspecs g))) target)]
                  [k (.add net ^chive.core.sim.Input ((:new (registry/entry :input (:type is :poisson)))
                                                       k (groups g) (int lo) (int hi) is unit))])))
        monitors
        (into {}
              (for [[k {:keys [type group] :as ms}] (:monitors spec)]
                (let [[gk lo hi] (slice group)]
                  [k (.add net ^chive.core.sim.Monitor ((:new (registry/entry :monitor type)) (groups gk) (int lo) (int hi) ms dt))])))]
    (assoc (->Net net groups projections monitors spec)
           :inputs inputs
           :subgroups (into {} (for [k (keys subgroups)] [k (slice k)])))))

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
  "State recorded by state monitor `k`: {:var v :unit :mV :neurons [...] :times-ms double[]
  :values float[record][neuron]} (double[][] for a double-precision group); :unit is
  the variable's internal unit (the values are in it), nil where unknown."
  [^Net net k]
  (idle! net "read a state monitor")
  (let [^StateMonitor m (monitor-of net k StateMonitor "state")
        dt (.dt ^Network (:java net))]
    {:var (keyword (.var m)) :neurons (vec (.indices m))
     :unit (try (let [[gk] (ref-of net (get-in net [:spec :monitors k :group]))
                      mdl (model-of gk (get-in net [:spec :groups gk]))]
                  (get (:vars mdl) (canonical mdl (.var m))))
                (catch Exception _ nil))
     :times-ms (double-array (map #(* dt %) (.steps m)))
     :values (if (.doublePrecision m) (.valuesD m) (.values m))}))

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
  "State variable `var` of group `g` (internal units: see `models`): the live
  array of a group (writes take effect at the next step), or a copy of the
  values of a subgroup or slice [group from to] (set them with `set-state!`).
  A float[], or a double[] for a group built with :precision :double."
  [^Net net g var]
  (idle! net "read or write a state variable")
  (let [[gk lo hi :as r] (ref-of net g)
        a (var-array (get-group net gk) (canonical (model-of gk (get-in net [:spec :groups gk])) var))]
    (cond (whole? net r) a
          (doubles? a) (java.util.Arrays/copyOfRange ^doubles a (int lo) (int hi))
          :else (java.util.Arrays/copyOfRange ^floats a (int lo) (int hi)))))

(defn- check-rates!
  "Throws, before anything is written, when rate spec `spec` for Poisson
  group `gk` has a rate above 1/dt (or below 0)."
  [^Net net gk spec]
  (let [mx (/ 1000.0 (.dt ^Network (:java net)))
        hz #(u/check (keyword (name gk) "rate") % :Hz)
        vals (cond (or (number? spec) (u/quantity? spec)) [(hz spec)]
                   (and (vector? spec) (keyword? (first spec))) (if (= :uniform (first spec)) [(hz (second spec)) (hz (nth spec 2))] [])
                   (sequential? spec) (map hz spec)
                   :else [])]
    (when-let [bad (first (filter #(not (<= 0 % mx)) vals))]
      (err (str "Poisson group " gk ": rate " bad " Hz is outside 0 .. 1/dt = " mx " Hz (a neuron spikes at most once per step)")
           {:group gk :rate bad}))))

(defn set-state!
  "Sets state variable `var` of group `g` (a group, subgroup or slice
  [group from to]) from an init spec (as in `build`'s :init; a sequence has
  one value per neuron of the slice)."
  [^Net net g var spec]
  (idle! net "set a state variable")
  (let [[gk lo hi :as r] (ref-of net g)
        gs (get-in net [:spec :groups gk])
        m (model-of gk gs)
        var (canonical m var)
        unit (unit-of :var (:vars m) gk var)]
    (when (= :rate var) (check-rates! net gk spec))
    (fill-slice! (var-array (get-group net gk) var) lo hi spec unit (keyword (name gk) (name var))
                 (seed-for (.seed ^Network (:java net)) (if (whole? net r) [(name gk) (name var) (time-ms net)]
                                                           [(name gk) (name var) (time-ms net) lo hi])))
    net))

(defn set-rates!
  "Sets the rates of Poisson group `g` (or a subgroup or slice of one): one
  rate (a frequency), one per neuron (a sequence of frequencies), or, for a
  whole group, a double[] of rates in Hz (one Java call, no per-neuron work
  here: the fast path for training loops). Rates above 1/dt are refused."
  [^Net net g rates]
  (idle! net "set Poisson rates")
  (if (instance? (Class/forName "[D") rates)
    (let [[gk :as r] (ref-of net g)
          grp (get-group net gk)]
      (when-not (instance? PoissonGroup grp)
        (err (str "group " gk " is not a Poisson group") {:group g}))
      (when-not (whole? net r)
        (err (str "set-rates! with a double[] takes a whole group; for " (pr-str g) " give a sequence of rates") {:group g}))
      (.setRates ^PoissonGroup grp ^doubles rates)
      net)
    (set-state! net g :rate rates)))

(defn param
  "Parameter `p` of group `g` (or of the group of a subgroup), as a quantity in its unit."
  [^Net net g p]
  (let [[gk] (ref-of net g)
        m (model-of gk (get-in net [:spec :groups gk]))
        p (canonical m p)
        unit (unit-of :param (:params m) gk p)
        v (.param (get-group net gk) (name p))]
    (as-quantity v unit)))

(defn set-param!
  "Sets parameter `p` of group `g` (a quantity of the right dimension); takes
  effect at the next step. Returns the network. Parameters are shared by
  every neuron of a group (as constants in Brian2's equations), so a
  subgroup cannot have its own value: give per-neuron values as a state
  variable of a `defneuron` model (and `set-state!` them on the subgroup),
  or split the population into two groups."
  [^Net net g p value]
  (idle! net "set a parameter")
  (let [[gk :as r] (ref-of net g)]
    (when-not (whole? net r)
      (err (str "set-param! " (pr-str g) " " p ": parameters are shared by the whole group " gk
                "; per-neuron values belong in a state variable (set-state! works on subgroups)")
           {:group g :param p}))
    (let [m (model-of gk (get-in net [:spec :groups gk]))
          p (canonical m p)
          unit (unit-of :param (:params m) gk p)]
      (.setParam (get-group net gk) (name p) (convert (keyword (name gk) (name p)) value unit))
      net)))

(defn- get-input ^PoissonInput [^Net net k]
  (let [in (or (get (:inputs net) k)
               (err (str "no input " (pr-str k) "; the network has " (sort (keys (:inputs net)))) {:input k}))]
    (when-not (instance? PoissonInput in)
      (err (str "input " k " is not a Poisson input; read it with `recorded`, change it through its own Java methods") {:input k}))
    in))

(defn set-input!
  "Changes Poisson input `k` between runs: any of :rate (a frequency), :n
  (sources per neuron), :weight (in the target variable's unit). Returns the network."
  [^Net net k changes]
  (idle! net "change an input")
  (v/closed! [:inputs k] "set-input! changes" changes #{:rate :n :weight})
  (let [in (get-input net k)
        g (keyword (.name (.target in)))
        unit (get (:vars (model-of g (get-in net [:spec :groups g]))) (keyword (.targetVar in)))]
    (when (contains? changes :n) (.setSources in (int (v/int-in! [:inputs k :n] ":n" (:n changes) 0 Integer/MAX_VALUE))))
    (when (contains? changes :rate) (.setRate in (u/check (keyword (name k) "rate") (:rate changes) :Hz)))
    (when (contains? changes :weight) (.setWeight in (convert (keyword (name k) "weight") (:weight changes) unit)))
    net))

(defn input
  "Poisson input `k` as data: {:to :target :n :rate :weight :exact}."
  [^Net net k]
  (let [in (get-input net k)
        g (keyword (.name (.target in)))
        unit (get (:vars (model-of g (get-in net [:spec :groups g]))) (keyword (.targetVar in)))]
    {:to (if (and (zero? (.from in)) (= (.to in) (.size (.target in)))) g [g (.from in) (.to in)])
     :target (keyword (.targetVar in)) :n (.sources in) :rate (u/q (.rateHz in) :Hz)
     :weight (as-quantity (.weight in) unit) :exact (not (.approximate in))}))

(defn weights
  "The live weight array of projection `k` (CSR order, target variable's
  unit): float[], or double[] into a double-precision group."
  [^Net net k]
  (idle! net "read or write weights")
  (let [p (get-projection net k)]
    (if (.doublePrecision p) (.weightsD p) (.weights p))))

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
    {:pre (.pre c) :post (aclone (.post c))
     :weight (if (.doublePrecision p) (aclone (.weightsD p)) (aclone (.weights p)))}))

(defn recorded
  "The state of part `k` as {array-name array}, through chive.core.sim.Stateful
  (what chive.io saves): a monitor of any kind (what it recorded so far), a
  projection (\"weight\", \"ring\": input in flight, CSR \"row_ptr\" and
  \"post\", ...; with a learning rule, its traces and per-synapse state too,
  under the rule's names), or a group (every state variable and
  \"refractory\"). Arrays may be live: copy before changing them."
  [^Net net k]
  (idle! net "read recorded state")
  (let [arrays (fn [^chive.core.sim.Stateful x] (into {} (.arrays x)))]
    (cond
      (contains? (:monitors net) k) (arrays (get (:monitors net) k))
      (contains? (:projections net) k) (let [^Projection p (get (:projections net) k)]
                                         (merge (arrays p) (some-> (.plasticity p) arrays)))
      (contains? (:groups net) k) (arrays (get (:groups net) k))
      (contains? (:inputs net) k) (arrays (get (:inputs net) k))
      :else (let [valid (sort (concat (keys (:monitors net)) (keys (:projections net)) (keys (:groups net)) (keys (:inputs net))))]
              (err (str "no monitor, projection, group or input " (pr-str k) "; the network has " (vec valid)) {:part k :valid valid})))))

(defn summary
  "Sizes and memory of the network, as data."
  [^Net net]
  (let [^Network jn (:java net)]
    {:t-ms (.timeMs jn) :dt-ms (.dt jn) :seed (.seed jn)
     :fast-forward (.fastForward jn) :quiet-steps (.quietSteps jn)
     :groups (into (sorted-map) (for [[k ^NeuronGroup g] (:groups net)] [k {:model (.model g) :n (.size g)}]))
     :projections (into (sorted-map) (for [[k ^Projection p] (:projections net)]
                                       [k {:from (keyword (.name (.pre p))) :to (keyword (.name (.post p)))
                                           :target (keyword (.target p)) :synapses (.size p) :bytes (.bytes p)}]))
     :synapses (reduce + (map #(.size ^Projection %) (vals (:projections net))))
     :bytes (.bytes jn)}))
