(ns chive.registry
  "chive's extension points, declared once. Every neuron model, connector,
  plasticity rule, monitor, input, surrogate gradient, learn layer type and plot is an entry here,
  registered by one `register!` form (next to its Java class when it has a
  kernel). Everything else derives from the entries: `chive.net`'s `build`
  and `validate` (the keys each spec may have, and the errors that list the
  valid choices), `chive.io`'s save and load, `chive.script`'s names,
  `chive.learn`'s surrogates and `chive.plot`'s plots, and `describe`.

      (registry/register! :connector :ring
        {:doc \"each neuron to its k next neighbours on a ring\"
         :keys #{:k}
         :validate (fn [path c npre npost] ...)       ; throw via chive.impl.validate
         :connect (fn [c npre npost seed] (Connectivity/fromPairs ...))
         :expected (fn [c npre npost] (* 1.0 npre (:k c)))})

  What an entry holds, by kind (:doc everywhere):
  - :model      :new (fn [name n precision] -> NeuronGroup), :params and :vars
                {name unit} (derived from the Java class's declarations by
                `java-model`), optional :aliases, :double? (a float64 kernel),
                :keys (extra group keys it takes), :validate, :build, :load
  - :connector  :keys, :validate, :connect, :expected (see above)
  - :plasticity :keys, :required, :build (fn [proj-key spec target-unit] -> Plasticity),
                :load (fn [config] -> Plasticity)
  - :monitor    :keys, :required, :validate (fn [path spec group-model group lo hi dt]),
                :new (fn [group lo hi spec dt] -> Monitor), :load (fn [group lo hi config] -> Monitor)
  - :input      :keys, :required, :validate (fn [path name spec target-unit dt]),
                :new (fn [name group lo hi spec target-unit] -> chive.core.sim.Input),
                :load (fn [name group lo hi config] -> Input)
  - :surrogate  :new (fn [param] -> chive.core.learn.Surrogate)
  - :layer      :keys (the spec keys it takes besides :type), :new (fn [path spec
                neuron-defaults input-shape seed] -> chive.core.learn.Module): a
                stage of a chive.learn model
  - :plot       :fn (the function that makes the Vega-Lite spec)

  Entries are kept in one atom, so a model registered at the REPL is usable
  at once, and registering again under a name replaces the entry (as
  re-evaluating a defn does)."
  (:require [chive.impl.validate :as v])
  (:import (chive.core.sim NeuronGroup)))

(set! *warn-on-reflection* true)

(def kinds
  "The kinds of extension point, with the keys every entry of that kind needs."
  {:model #{:doc :new :params :vars}
   :connector #{:doc :connect}
   :plasticity #{:doc :build :load}
   :monitor #{:doc :new :load}
   :input #{:doc :new :load}
   :surrogate #{:doc :new}
   :layer #{:doc :keys :new}
   :plot #{:doc :fn}})

(defonce ^:private entries (atom {}))

(defn register!
  "Registers `entry` (a map; see the namespace doc) as `k` (a keyword) of
  extension point `kind`. Replaces an earlier entry of that name. Returns k."
  [kind k entry]
  (let [need (or (kinds kind)
                 (throw (ex-info (str "register!: unknown kind " (pr-str kind) "; valid kinds: " (sort (keys kinds)))
                                 {:kind kind :valid (sort (keys kinds))})))]
    (when-not (keyword? k)
      (throw (ex-info (str "register!: a " (name kind) " is named by a keyword, got " (pr-str k)) {:kind kind :name k})))
    (when-not (map? entry)
      (throw (ex-info (str "register! " kind " " k ": the entry must be a map, got " (pr-str entry)) {:kind kind :name k})))
    (when-let [missing (seq (remove #(contains? entry %) (sort need)))]
      (throw (ex-info (str "register! " kind " " k ": the entry lacks " (vec missing) " (a " (name kind) " needs " (vec (sort need)) ")")
                      {:kind kind :name k :missing (vec missing)})))
    (swap! entries assoc-in [kind k] (assoc entry :name k))
    k))

(defn unregister!
  "Removes entry `k` of `kind` (for tests and REPL experiments). Returns k."
  [kind k]
  (swap! entries update kind dissoc k)
  k)

(defn names
  "The registered names of `kind`, sorted."
  [kind]
  (sort (keys (get @entries kind))))

(defn entry
  "The entry `k` of `kind`, or nil."
  [kind k]
  (get-in @entries [kind k]))

(defn entries-of
  "{name entry} of `kind`."
  [kind]
  (get @entries kind {}))

(defn lookup
  "The entry `k` of `kind`; otherwise throws ex-info naming `k`, the nearest
  registered name and every valid one. `what` describes it (\"model\")."
  ([kind k] (lookup kind k (name kind)))
  ([kind k what]
   (or (entry kind k)
       (let [valid (names kind)
             s (v/nearest k valid)]
         (throw (ex-info (str "unknown " what " " (pr-str k) (when s (str "; did you mean " (pr-str s) "?"))
                              "; valid: " (vec valid))
                         {:kind kind :name k :suggestion s :valid (vec valid)}))))))

(defn- unit-keyword
  "A unit as the Java core declares it (\"ms\", \"1|mV-per-ms\") as chive.units names it (:ms, #{:1 :mV-per-ms})."
  [^String s]
  (let [parts (mapv keyword (.split s "\\|"))]
    (if (= 1 (count parts)) (first parts) (set parts))))

(defn java-model
  "A :model entry for a Java NeuronGroup subclass that declares its
  parameters and variables with their units (NeuronGroup.addParam/unit):
  `make` is (fn [name n] group) and `make-double` (optional) the float64 one.
  :params and :vars are read from a one-neuron instance, so the units live
  in the Java class alone. `more` adds :doc, :aliases, :keys, ..."
  [make make-double more]
  (let [^NeuronGroup probe (make "probe" 1)
        table (fn [names] (into {} (for [^String k names]
                                     [(keyword k) (unit-keyword (or (.unitOf probe k)
                                                                    (throw (ex-info (str (.model probe) ": " k " declares no unit") {:name k}))))])))]
    (merge {:new (fn [nm n precision]
                   (if (= precision :double)
                     (if make-double (make-double nm n) (throw (ex-info (str (.model probe) " has no double-precision kernel") {})))
                     (make nm n)))
            :double? (some? make-double)
            :params (table (.paramNames probe))
            :vars (table (.varNames probe))}
           more)))

(defn describe
  "Every registered extension point as data: {kind {name doc}}."
  []
  (into (sorted-map)
        (for [[kind es] @entries]
          [kind (into (sorted-map) (for [[k e] es] [k (:doc e)]))])))
