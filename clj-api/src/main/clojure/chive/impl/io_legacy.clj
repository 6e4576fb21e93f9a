(ns chive.impl.io-legacy
  "Reads saves of on-disk formats 1 and 2 (before every part saved itself
  through chive.core.sim.Stateful, format 3): each field of network.json and
  each array checked as it was then. chive.io/load calls it for those
  versions; nothing writes these formats any more."
  (:refer-clojure :exclude [load])
  (:require [chive.impl.files :refer [path]]
            [chive.impl.json :as json]
            [chive.net :as net]
            [chive.registry :as registry]
            [clojure.java.io :as io])
  (:import (chive.core.data Npy)
           (chive.core.store Manifest)
           (chive.core.plasticity Stdp Stdp$Rule)
           (chive.core.sim ChiveException Connectivity Network NeuronGroup PoissonInput Projection RateMonitor SpikeCountMonitor SpikeMonitor StateMonitor)
           (java.io File)
           (java.nio.file Path)))

(set! *warn-on-reflection* true)

(defn- npy
  "The NPY array `parts` under `dir`, checked to be one-dimensional of length `n` (nil: any length)."
  ^chive.core.data.Npy$Array [dir n & parts]
  (let [f (apply path dir parts)
        a (Npy/read f)]
    (if n (.expectShape a f (int-array [n])) (.expectShape a f (int-array [(.length a)])))))

(defn- copy-into! [^floats dst ^floats src what]
  (when-not (= (alength dst) (alength src))
    (throw (ex-info (str what ": saved " (alength src) " values, the group has " (alength dst)) {:what what})))
  (System/arraycopy src 0 dst 0 (alength src)))

(defn- folder-name? [x] (and (string? x) (re-matches #"[A-Za-z0-9_.-]+" x) (not (#{"." ".."} x))))
(defn- count-of? [x] (and (integer? x) (<= 0 x Integer/MAX_VALUE)))
(defn- positive-count? [x] (and (integer? x) (<= 1 x Integer/MAX_VALUE)))
(defn- numbers? [n] (fn [x] (and (sequential? x) (or (nil? n) (= n (count x))) (every? json/finite? x))))

(defn- check-unique! [file what names]
  (when-let [d (first (for [[k c] (frequencies names) :when (> c 1)] k))]
    (throw (ex-info (str file ": two " what " are named " (pr-str d)) {:file (str file) :name d}))))

(defn- load-group [dir file jn i g]
  (let [where (str "groups[" i "]")
        f (fn [k ok? expected] (json/field file where g k ok? expected))
        _ (json/only-fields file where g #{:name :folder :n :model :params :vars :precision})
        nm (f :name json/text? "a non-empty string")
        folder (f :folder folder-name? "a plain folder name")
        n (f :n positive-count? "a positive integer")
        model (f :model #(or (string? %) (and (map? %) (string? (:dsl %)))) "a model name or {\"dsl\": \"ns/var\"}")
        params (f :params map? "an object of parameter values")
        vars (f :vars #(and (sequential? %) (every? string? %)) "a list of state variable names")
        k (keyword nm)
        m (if (map? model)
            (let [sym (symbol (:dsl model))]
              (or (some-> (try (requiring-resolve sym) (catch Exception _ nil)) deref)
                  (throw (ex-info (str file ": " where ": DSL model " sym " not found (require its namespace first?)") {:model sym}))))
            (do (when-not (registry/entry :model (keyword model))
                  (throw (ex-info (str file ": " where ".model " (pr-str model) " is not a chive model; valid: " (vec (registry/names :model)))
                                  {:file (str file) :model model})))
                (keyword model)))
        precision (if (contains? g :precision) (keyword (f :precision #{"single" "double"} "\"single\" or \"double\"")) :single)
        ^NeuronGroup g (net/new-group k m n precision)
        want-params (set (.paramNames g))
        want-vars (set (.varNames g))]
    (when-not (= want-params (set (map name (keys params))))
      (throw (ex-info (str file ": " where " (" nm ") records parameters " (sort (map name (keys params)))
                           ", the model has " (sort want-params)) {:file (str file) :group nm})))
    (when-not (= want-vars (set vars))
      (throw (ex-info (str file ": " where " (" nm ") records state variables " (sort vars) ", the model has " (sort want-vars)
                           " (a variable missing from the save would silently take its default)")
                      {:file (str file) :group nm})))
    (doseq [[p v] params]
      (when-not (json/finite? v)
        (throw (ex-info (str file ": " where ".params." (name p) " must be a finite number, got " (pr-str v)) {:file (str file)})))
      (.setParam g (name p) (double v)))
    (.add ^Network jn g)
    (doseq [v vars]
      (let [file (path dir "groups" folder (str v ".npy"))
            a (npy dir n "groups" folder (str v ".npy"))]
        (if (.isDouble g v)
          (System/arraycopy (.doubles a file) 0 (.varD g v) 0 n)
          (copy-into! (.var g v) (.floats a file) (str nm "." v)))))
    (copy-into! (.refractoryCounters g)
                (.floats (npy dir n "groups" folder "refractory.npy") (path dir "groups" folder "refractory.npy"))
                (str nm ".refractory"))
    [k g {:model m :n n :precision precision}]))

(def ^:private rules (set (map str (Stdp$Rule/values))))

(defn- load-projection [dir file jn gmap i p]
  (let [where (str "projections[" i "]")
        f (fn [k ok? expected] (json/field file where p k ok? expected))
        _ (json/only-fields file where p #{:name :folder :from :to :target :synapses :delays :plasticity})
        nm (f :name json/text? "a non-empty string")
        folder (f :folder folder-name? "a plain folder name")
        group? #(contains? gmap (keyword (str %)))
        ^NeuronGroup pre (gmap (keyword (f :from group? (str "a group of this save " (sort (map name (keys gmap)))))))
        ^NeuronGroup post (gmap (keyword (f :to group? (str "a group of this save " (sort (map name (keys gmap)))))))
        target (f :target #(and (string? %) (.hasVar post ^String %)) (str "a state variable of " (.name post)))
        synapses (f :synapses count-of? "a synapse count")
        delays (f :delays boolean? "true or false")
        plasticity (f :plasticity #(or (nil? %) (map? %)) "null or an object")
        at (fn [file] (path dir "projections" folder file))
        c (Connectivity/fromCsr (.size pre) (.size post)
                                (.ints (npy dir (inc (.size pre)) "projections" folder "row_ptr.npy") (at "row_ptr.npy"))
                                (.ints (npy dir synapses "projections" folder "post.npy") (at "post.npy")))
        dbl? (.isDouble post target)
        wa (npy dir synapses "projections" folder "weight.npy")
        d (when delays (.doubles (npy dir nil "projections" folder "delay_ms.npy") (at "delay_ms.npy")))
        p (.add ^Network jn (if dbl?
                              (Projection. nm pre post target c nil (.doubles wa (at "weight.npy")) d)
                              (Projection. nm pre post target c (.floats wa (at "weight.npy")) d)))]
    (when plasticity
      (let [pw (str where ".plasticity")
            g (fn [k ok? expected] (json/field file pw plasticity k ok? expected))
            _ (json/only-fields file pw plasticity #{:rule :params :nearest :learning})
            rule (g :rule rules (str "one of " (sort rules)))
            [tpre tpost tpost2 ap am wmin wmax] (g :params (numbers? 7) "7 finite numbers")
            nearest (g :nearest boolean? "true or false")
            learning (g :learning boolean? "true or false")
            rule (Stdp. (Stdp$Rule/valueOf rule) tpre tpost tpost2 ap am wmin wmax (boolean nearest))
            n-pre (.size pre) n-post (.size post)]
        (.setPlasticity p rule)
        (.setLearning rule (boolean learning))
        (copy-into! (.preTrace rule) (.floats (npy dir n-pre "projections" folder "trace_pre.npy") (at "trace_pre.npy")) (str nm ".trace_pre"))
        (copy-into! (.postTrace rule) (.floats (npy dir n-post "projections" folder "trace_post.npy") (at "trace_post.npy")) (str nm ".trace_post"))
        (when-let [z (.postTrace2 rule)]
          (copy-into! z (.floats (npy dir n-post "projections" folder "trace_post2.npy") (at "trace_post2.npy")) (str nm ".trace_post2")))))
    (if dbl?
      (.restoreRingD p (.doubles (npy dir nil "projections" folder "ring.npy") (at "ring.npy")))
      (.restoreRing p (.floats (npy dir nil "projections" folder "ring.npy") (at "ring.npy"))))
    [(keyword nm) p]))

(defn- load-monitor [dir file jn gmap i m]
  (let [where (str "monitors[" i "]")
        f (fn [k ok? expected] (json/field file where m k ok? expected))
        _ (json/only-fields file where m #{:name :folder :type :group :var :neurons :every :from :to})
        nm (f :name json/text? "a non-empty string")
        type (f :type #{"spikes" "state" "rate" "counts"} "one of spikes, state, rate, counts")
        ^NeuronGroup g (gmap (keyword (f :group #(contains? gmap (keyword (str %))) (str "a group of this save " (sort (map name (keys gmap)))))))
        [lo hi] (if (contains? m :from)
                  (let [lo (f :from #(and (integer? %) (< -1 % (.size g))) (str "a neuron of " (.name g)))
                        hi (f :to #(and (integer? %) (< lo % (inc (.size g)))) (str "an end of a slice of " (.name g)))]
                    [lo hi])
                  [0 (.size g)])
        lo (int lo) hi (int hi)
        mon (case type
              "spikes" (let [folder (f :folder folder-name? "a plain folder name")
                             sm (SpikeMonitor. g lo hi)
                             fi (path dir "monitors" folder "indices.npy")
                             fs (path dir "monitors" folder "steps.npy")
                             idx (.ints (npy dir nil "monitors" folder "indices.npy") fi)
                             steps (.ints (npy dir (alength idx) "monitors" folder "steps.npy") fs)]
                         (doseq [k (range (alength idx))]
                           (when-not (< -1 (aget idx k) (.size g))
                             (throw (ex-info (str fi ": neuron index " (aget idx k) " at " k " is outside group " (.name g)) {:file (str fi)}))))
                         (.restore sm idx steps)
                         sm)
              "state" (let [var (f :var #(and (string? %) (.hasVar g ^String %)) (str "a state variable of " (.name g)))
                            neurons (f :neurons #(and (sequential? %) (every? (fn [i] (and (integer? i) (< -1 i (.size g)))) %))
                                       (str "a list of neuron indices of " (.name g)))
                            every (f :every positive-count? "a positive number of steps")]
                        (StateMonitor. g ^String var (int-array neurons) (int every) lo hi))
              "rate" (RateMonitor. g lo hi)
              "counts" (SpikeCountMonitor. g lo hi))]
    (.add ^Network jn ^chive.core.sim.Monitor mon)
    [(keyword nm) mon]))

(defn load-subgroup
  "A saved subgroup {name, group, from, to}, checked (the same in every format): [key [group lo hi]]."
  [file gmap i sg]
  (let [where (str "subgroups[" i "]")
        f (fn [k ok? expected] (json/field file where sg k ok? expected))
        _ (json/only-fields file where sg #{:name :group :from :to})
        nm (f :name json/text? "a non-empty string")
        g (keyword (f :group #(contains? gmap (keyword (str %))) (str "a group of this save " (sort (map name (keys gmap))))))
        n (.size ^NeuronGroup (gmap g))
        lo (f :from #(and (integer? %) (< -1 % n)) (str "a neuron of " (name g)))
        hi (f :to #(and (integer? %) (< lo % (inc n))) (str "an end of a slice of " (name g)))]
    [(keyword nm) [g lo hi]]))

(defn- load-input [file jn gmap i in]
  (let [where (str "inputs[" i "]")
        f (fn [k ok? expected] (json/field file where in k ok? expected))
        _ (json/only-fields file where in #{:name :group :target :from :to :n :rate_hz :weight :exact})
        nm (f :name json/text? "a non-empty string")
        ^NeuronGroup g (gmap (keyword (f :group #(contains? gmap (keyword (str %))) (str "a group of this save " (sort (map name (keys gmap)))))))
        target (f :target #(and (string? %) (.hasVar g ^String %)) (str "a state variable of " (.name g)))
        lo (f :from #(and (integer? %) (< -1 % (.size g))) (str "a neuron of " (.name g)))
        hi (f :to #(and (integer? %) (< lo % (inc (.size g)))) (str "an end of a slice of " (.name g)))
        n (f :n count-of? "a number of sources")
        rate (f :rate_hz #(and (json/finite? %) (>= % 0)) "a rate >= 0 Hz")
        w (f :weight json/finite? "a finite number")
        exact (f :exact boolean? "true or false")
        pin (PoissonInput. ^String nm g ^String target (int lo) (int hi) (int n) (double rate) (double w))]
    (when exact (.setExact pin true))
    (.add ^Network jn pin)
    [(keyword nm) pin]))

(defn clock
  "The network-wide fields of network.json, checked (the same in every
  format): {:dt :seed :step}."
  [file meta]
  (let [top (fn [k ok? expected] (json/field file "the top level" meta k ok? expected))]
    {:dt (top :dt_ms #(and (json/finite? %) (pos? %)) "a positive number of ms")
     :seed (top :seed #(and (integer? %) (<= Long/MIN_VALUE % Long/MAX_VALUE)) "an integer")
     :step (top :step #(and (integer? %) (<= 0 % Long/MAX_VALUE)) "a step count >= 0")}))

(defn load
  "Loads a save of format 1 or 2 (`dir`, its network.json `file`, parsed
  as `meta`, already checked against the manifest by chive.io/load)."
  [dir ^File file meta]
  (let [dir (io/file dir)
        _ (when (and (>= (:version meta) 2) (not (.exists (io/file dir Manifest/FILE))))
            (throw (ex-info (str dir ": " Manifest/FILE " is missing; a format " (:version meta)
                                 " save cannot be checked without it (was the folder copied in part?)") {:dir (str dir)})))
        _ (json/only-fields file "the top level" meta #{:format :version :dt_ms :seed :step :groups :projections :monitors
                                                        :subgroups :inputs})
        top (fn [k ok? expected] (json/field file "the top level" meta k ok? expected))
        {:keys [dt seed step]} (clock file meta)
        gs (top :groups #(and (sequential? %) (seq %)) "a non-empty list of groups")
        ps (top :projections sequential? "a list of projections")
        ms (top :monitors sequential? "a list of monitors")
        _ (check-unique! file "groups" (map :name gs))
        _ (check-unique! file "projections" (map :name ps))
        _ (check-unique! file "monitors" (map :name ms))
        jn (Network. (double dt) (long seed))
        named (fn [what i f]
                ;; Errors from the core (inconsistent CSR arrays, bad values) name the place in the save.
                (try (f) (catch ChiveException e
                           (throw (ex-info (str file ": " what "[" i "]: " (.getMessage e)) {:file (str file)} e)))))
        groups (vec (map-indexed (fn [i g] (named "groups" i #(load-group dir file jn i g))) gs))
        gmap (into {} (map (juxt first second) groups))
        projections (vec (map-indexed (fn [i p] (named "projections" i #(load-projection dir file jn gmap i p))) ps))
        monitors (vec (map-indexed (fn [i m] (named "monitors" i #(load-monitor dir file jn gmap i m))) ms))
        subgroups (when (contains? meta :subgroups)
                    (into {} (map-indexed (fn [i sg] (load-subgroup file gmap i sg))
                                          (top :subgroups sequential? "a list of subgroups"))))
        inputs (when (contains? meta :inputs)
                 (into {} (map-indexed (fn [i in] (named "inputs" i #(load-input file jn gmap i in)))
                                       (top :inputs sequential? "a list of inputs"))))]
    (.setStep jn (long step))
    (assoc (net/->Net jn gmap (into {} projections) (into {} monitors)
                      {:groups (into {} (map (fn [[k _ s]] [k s]) groups))
                       ;; the kinds later saves (format 3) need
                       :projections (into {} (for [[k ^Projection p] projections]
                                               [k (cond-> {:from (keyword (.name (.pre p))) :to (keyword (.name (.post p)))
                                                           :target (keyword (.target p))}
                                                    (.plasticity p)
                                                    (assoc :plasticity {:rule ({"ADDITIVE" :stdp "MULTIPLICATIVE" :stdp-multiplicative
                                                                                "DIEHL_COOK" :diehl-cook}
                                                                               (str (.rule ^Stdp (.plasticity p))))}))]))
                       :monitors (into {} (for [[k m] monitors]
                                            [k {:type (condp instance? m SpikeMonitor :spikes StateMonitor :state
                                                        RateMonitor :rate SpikeCountMonitor :counts)}]))})
           :subgroups (or subgroups {})
           :inputs (or inputs {}))))

