(ns chive.io
  "Save and load whole networks; export arrays for numpy, pandas or a spreadsheet.

      (io/save! net \"runs/exp1\")      ; a folder: network.json + NPY arrays
      (def net2 (io/load \"runs/exp1\"))
      (net/run! net2 (ms 100))           ; continues exactly as net would have
      (io/export! net \"out\" {:weights [:in->exc] :state [[:exc :theta]] :spikes [:spikes]})

  The folder holds network.json (structure, parameters in internal units, the
  clock, the seed; see `save!`) and one .npy per array: every state variable,
  the refractory counters, connectivity in CSR form, weights, delays, input
  still in delay lines, plasticity traces, and recorded spikes. Random numbers
  are counter-based (seed, group, neuron, step), so the seed and the clock are
  the generator's whole state. Saving writes a sibling folder and renames it
  into place: an existing save is replaced only once the new one is complete.

  State and rate monitors are saved as configuration; they restart empty."
  (:refer-clojure :exclude [load])
  (:require [cheshire.core :as cheshire]
            [chive.impl.files :as files]
            [chive.impl.json :as json]
            [chive.impl.validate :as v]
            [chive.net :as net]
            [clojure.java.io :as io]
            [clojure.string :as str])
  (:import (chive.core.data Npy)
           (chive.core.store AtomicDir AtomicDir$Writer Manifest)
           (chive.core.plasticity Stdp Stdp$Rule)
           (chive.core.sim ChiveException Connectivity Network NeuronGroup PoissonInput Projection RateMonitor SpikeCountMonitor SpikeMonitor StateMonitor)
           (java.io File)
           (java.nio.file Files Path StandardCopyOption CopyOption)))

(set! *warn-on-reflection* true)

(def format-version
  "The on-disk format this chive writes: 2 adds the manifest (MANIFEST.chive,
  size and CRC32C of every file); version 1 saves still load."
  2)

(defn- path ^Path [dir & parts] (.toPath ^File (apply io/file dir parts)))

(defn- safe-name [i nm] (str i "-" (str/replace (name nm) #"[^A-Za-z0-9_.-]" "_")))

(defn- model-ref [model]
  (cond (keyword? model) (name model)
        (:var-name model) {"dsl" (str (:var-name model))}
        :else (throw (ex-info (str "cannot save a group whose DSL model has no var (define it with defneuron): " (:name model))
                              {:model (:name model)}))))

(defn- write-folder! [^Network jn n ^File dir]
  (let [groups (vec (.groups jn))
        gkey (into {} (for [[k g] (:groups n)] [g k]))
        projs (vec (.projections jn))
        pkey (into {} (for [[k p] (:projections n)] [p k]))
        mons (vec (.monitors jn))
        mkey (into {} (for [[k m] (:monitors n)] [m k]))
        meta
        {:format "chive-network" :version format-version
         :dt_ms (.dt jn) :seed (.seed jn) :step (.step jn)
         :groups (vec (for [[i ^NeuronGroup g] (map-indexed vector groups)
                            :let [k (gkey g)
                                  folder (safe-name i k)]]
                        (do (.mkdirs (io/file dir "groups" folder))
                            (doseq [v (.varNames g)]
                              (if (.isDouble g v)
                                (Npy/write (path dir "groups" folder (str v ".npy")) (.varD g v))
                                (Npy/write (path dir "groups" folder (str v ".npy")) (.var g v))))
                            (Npy/write (path dir "groups" folder "refractory.npy") (.refractoryCounters g))
                            {:name (name k) :folder folder :n (.size g)
                             :model (model-ref (get-in n [:spec :groups k :model]))
                             :precision (if (.doublePrecision g) "double" "single")
                             :params (into {} (for [p (.paramNames g)] [p (.param g p)]))
                             :vars (vec (.varNames g))})))
         :projections
         (vec (for [[i ^Projection p] (map-indexed vector projs)
                    :let [k (pkey p)
                          folder (safe-name i k)
                          c (.connectivity p)
                          pl (.plasticity p)
                          _ (when (and pl (not (instance? Stdp pl)))
                              (throw (ex-info (str "projection " k ": saving a defsynapse learning rule is not supported yet "
                                                   "(built-in :stdp and :diehl-cook rules are); export its weights instead")
                                              {:projection k})))
                          ^Stdp rule pl]]
                (do (.mkdirs (io/file dir "projections" folder))
                    (Npy/write (path dir "projections" folder "row_ptr.npy") (.rowPtr c))
                    (Npy/write (path dir "projections" folder "post.npy") (.post c))
                    (if (.doublePrecision p)
                      (Npy/write (path dir "projections" folder "weight.npy") (.weightsD p))
                      (Npy/write (path dir "projections" folder "weight.npy") (.weights p)))
                    (when-let [d (.delaysMs p)] (Npy/write (path dir "projections" folder "delay_ms.npy") d))
                    (if (.doublePrecision p)
                      (Npy/write (path dir "projections" folder "ring.npy") (.pendingRingD p))
                      (Npy/write (path dir "projections" folder "ring.npy") (.pendingRing p)))
                    (when rule
                      (Npy/write (path dir "projections" folder "trace_pre.npy") (.preTrace rule))
                      (Npy/write (path dir "projections" folder "trace_post.npy") (.postTrace rule))
                      (when-let [z (.postTrace2 rule)] (Npy/write (path dir "projections" folder "trace_post2.npy") z)))
                    {:name (name k) :folder folder
                     :from (name (gkey (.pre p))) :to (name (gkey (.post p))) :target (.target p)
                     :synapses (.size p) :delays (some? (.delaysMs p))
                     :plasticity (when rule {:rule (str (.rule rule)) :params (vec (.params rule))
                                             :nearest (.nearest rule) :learning (.learning rule)})})))
         :monitors
         (vec (for [[i m] (map-indexed vector mons)
                    :let [k (mkey m)
                          folder (safe-name i k)
                          ^chive.core.sim.Monitor mon m
                          g (name (gkey (.group mon)))
                          slice (when-not (.whole mon) {:from (.from mon) :to (.to mon)})]]
                (merge
                 slice
                 (cond
                  (instance? SpikeMonitor m)
                  (do (.mkdirs (io/file dir "monitors" folder))
                      (Npy/write (path dir "monitors" folder "indices.npy") (.indices ^SpikeMonitor m))
                      (Npy/write (path dir "monitors" folder "steps.npy") (.steps ^SpikeMonitor m))
                      {:name (name k) :folder folder :type "spikes" :group g})
                  (instance? chive.core.sim.SpikeCountMonitor m)
                  {:name (name k) :type "counts" :group g}
                  (instance? StateMonitor m)
                  {:name (name k) :type "state" :group g :var (.var ^StateMonitor m)
                   :neurons (vec (.indices ^StateMonitor m)) :every (.every ^StateMonitor m)}
                  :else {:name (name k) :type "rate" :group g}))))
         :subgroups (vec (for [[k [g lo hi]] (sort-by key (:subgroups n))]
                           {:name (name k) :group (name g) :from lo :to hi}))
         :inputs (vec (for [[k ^chive.core.sim.PoissonInput in] (sort-by key (:inputs n))]
                        {:name (name k) :group (.name (.target in)) :target (.targetVar in)
                         :from (.from in) :to (.to in) :n (.sources in) :rate_hz (.rateHz in)
                         :weight (.weight in) :exact (not (.approximate in))}))}]
    (spit (io/file dir "network.json") (cheshire/generate-string meta {:pretty true}))))

(def ^:private network-kind "chive-network")

(defn- legacy-network?
  "A network saved before manifests (format 1): network.json naming the format."
  [^Path dir]
  (let [f (.toFile (.resolve dir "network.json"))]
    (and (.isFile f) (< (.length f) (* 64 1024 1024))
         (str/includes? (slurp f) "\"chive-network\""))))

(def ^:private legacy-pred
  (reify java.util.function.Predicate (test [_ p] (boolean (legacy-network? p)))))

(defmacro ^:private core-errors
  "Evaluates body, turning the core's ChiveException (refusals, bad folders) into ex-info."
  [& body]
  `(try ~@body
        (catch ChiveException e# (throw (ex-info (.getMessage e#) {} e#)))))

(defn write-atomically!
  "Replaces folder `dir` by one that (write! tmp-folder) fills, as one unit
  (chive.core.store.AtomicDir): a crash at any instant leaves the previous
  folder or the new one, complete, at `dir`; the new folder gets a manifest
  (size and CRC32C of every file) that readers check. `kind` names what the
  folder holds; an existing folder of another kind, a non-chive folder or a
  file is replaced only with :overwrite true; a symbolic link never.
  Returns the absolute path."
  ([dir write!] (write-atomically! dir write! {}))
  ([dir write! {:keys [kind overwrite legacy?] :or {kind "chive-folder"}}]
   (str (core-errors (AtomicDir/save (.toPath (io/file dir)) kind (boolean overwrite)
                                     (when legacy? (reify java.util.function.Predicate (test [_ p] (boolean (legacy? p)))))
                                     (reify AtomicDir$Writer (write [_ tmp] (write! (.toFile ^Path tmp)))))))))

(def ^:dynamic *stop-after*
  "For crash tests only: an AtomicDir$Step after which `save!` returns as if
  the process had been killed there (no cleanup). nil in normal use."
  nil)

(defn save!
  "Saves network `n` to folder `dir`, as one unit: everything is written to a
  sibling temporary folder, recorded in a manifest (sizes and CRC32C of every
  file), flushed to disk, then swapped in by renames; a crash at any instant
  leaves the previous save or the new one at `dir`, and `load` finishes an
  interrupted swap. Options:
  - :overwrite  true to replace something at `dir` that is not a chive network
                save (a file, or a folder of other things); default: refuse
  - :extra      {file-name string} more files to write into the save (as
                `chive.train` does with its training state), covered by the manifest
  A symbolic link at `dir` is refused; links inside an old save are removed
  as links, never followed. Refused while the network runs. Returns the
  folder's path."
  ([n dir] (save! n dir {}))
  ([n dir {:keys [overwrite extra] :as opts}]
   (v/kwargs! "save!" opts [:overwrite :extra])
   (let [^Network jn (:java n)]
     (.checkIdle jn "save the network")
     (str (core-errors (AtomicDir/save (.toPath (io/file dir)) network-kind (boolean overwrite) legacy-pred
                          (reify AtomicDir$Writer
                            (write [_ tmp]
                              (let [tmp (.toFile ^Path tmp)]
                                (write-folder! jn n tmp)
                                (doseq [[nm content] extra]
                                  (when-not (re-matches #"[A-Za-z0-9_.-]+" (str nm))
                                    (throw (ex-info (str "save!: extra file name " (pr-str nm) " must be a plain file name") {:name nm})))
                                  (spit (io/file tmp (str nm)) content)))))
                          *stop-after*))))))

;; ---------------------------------------------------------------- reading, every field checked

(defn verify-folder!
  "Finishes a crashed save of `dir` if one is pending, then checks `dir`
  against its manifest (every file's size and CRC32C) and that it holds
  `kind` (described as `what`); folders saved before manifests pass
  unchecked. Throws ex-info naming the file that differs."
  [dir kind what]
  (let [p (.toPath (io/file dir))]
    (try
      (AtomicDir/recover p)
      (when (.exists (io/file dir Manifest/FILE))
        (let [k (.kind (Manifest/verify p))]
          (when-not (= k kind)
            (throw (ex-info (str dir ": holds a " k ", not " what) {:dir (str dir) :kind k})))))
      (catch ChiveException e
        (throw (ex-info (.getMessage e) {:dir (str dir)} e))))))

(defn- read-json [^File dir]
  (let [f (io/file dir "network.json")]
    (when-not (.exists f)
      (throw (ex-info (str f ": no such file; " dir " is not a saved chive network") {:file (str f)})))
    (let [meta (json/read-file f)]
      (when-not (and (map? meta) (= "chive-network" (:format meta)))
        (throw (ex-info (str f ": not a chive network file (format " (pr-str (when (map? meta) (:format meta))) ")") {:file (str f)})))
      (when-not (#{1 format-version} (:version meta))
        (throw (ex-info (str f ": format version " (pr-str (:version meta)) "; this chive reads versions 1 and " format-version
                             (when (and (integer? (:version meta)) (> (:version meta) format-version)) " (saved by a newer chive?)"))
                        {:file (str f) :version (:version meta)})))
      meta)))

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
            (do (when-not (contains? net/models (keyword model))
                  (throw (ex-info (str file ": " where ".model " (pr-str model) " is not a chive model; valid: " (sort (keys net/models)))
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

(defn- load-subgroup [file gmap i sg]
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

(defn load
  "Loads a network saved by `save!`; it continues exactly where the saved one
  stood. First finishes a save that a crash interrupted (see `save!`), then
  checks every file against the save's manifest (size and CRC32C) and every
  field of network.json (types, ranges, references, every state variable and
  parameter of each model present), and each array's shape and dtype.
  Throws ex-info naming the file and the problem. DSL models are found again
  through the var that `defneuron` defined (its namespace is required if needed)."
  [dir]
  (let [dir (io/file dir)
        _ (verify-folder! dir network-kind "a saved chive network")
        file (io/file dir "network.json")
        meta (read-json dir)
        _ (when (and (>= (:version meta) 2) (not (.exists (io/file dir Manifest/FILE))))
            (throw (ex-info (str dir ": " Manifest/FILE " is missing; a format " (:version meta)
                                 " save cannot be checked without it (was the folder copied in part?)") {:dir (str dir)})))
        _ (json/only-fields file "the top level" meta #{:format :version :dt_ms :seed :step :groups :projections :monitors
                                                        :subgroups :inputs})
        top (fn [k ok? expected] (json/field file "the top level" meta k ok? expected))
        dt (top :dt_ms #(and (json/finite? %) (pos? %)) "a positive number of ms")
        seed (top :seed #(and (integer? %) (<= Long/MIN_VALUE % Long/MAX_VALUE)) "an integer")
        step (top :step #(and (integer? %) (<= 0 % Long/MAX_VALUE)) "a step count >= 0")
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
                      {:groups (into {} (map (fn [[k _ s]] [k s]) groups))})
           :subgroups (or subgroups {})
           :inputs (or inputs {}))))

(defn write-file!
  "Writes one file as one unit: (write! tmp-file) fills a hidden sibling,
  which is flushed to disk and renamed over `target`, so a crash leaves the
  previous file or the new one, never half of one. Returns the path."
  [target write!]
  (files/write-file! target write!))

(defn export!
  "Writes arrays for other tools into folder `dir`, as NPY and CSV. `what`:
  - :weights [proj ...]       <proj>.weights.npy (float32 matrix pre x post, 0 where no synapse)
                              and <proj>.weights.csv (pre,post,weight per synapse)
  - :state [[group var] ...]  <group>.<var>.npy and .csv
  - :spikes [monitor ...]     <monitor>.spike_indices.npy (int32), <monitor>.spike_times_ms.npy (float64)
                              and <monitor>.spikes.csv (neuron,time_ms)
  Returns the files written."
  [n dir {:keys [weights state spikes]}]
  (let [dir (doto (io/file dir) .mkdirs)
        files (atom [])
        out (fn [nm] (let [f (io/file dir nm)] (swap! files conj (str f)) f))]
    (doseq [k weights]
      (let [{:keys [^ints pre ^ints post ^floats weight]} (net/connections n k)
            p ^Projection (get-in n [:projections k])
            rows (.size (.pre p)) cols (.size (.post p))
            dense (float-array (* rows cols))]
        (dotimes [s (alength pre)] (aset dense (+ (* (aget pre s) cols) (aget post s)) (aget weight s)))
        (files/write-file! (out (str (name k) ".weights.npy")) #(Npy/writeMatrix (.toPath ^File %) dense rows cols))
        (files/write-file! (out (str (name k) ".weights.csv")) (fn [f] (with-open [w (io/writer f)]
          (.write w "pre,post,weight\n")
          (dotimes [s (alength pre)] (.write w (str (aget pre s) "," (aget post s) "," (aget weight s) "\n"))))))))
    (doseq [[g v] state]
      (let [^floats a (net/state n g v)]
        (files/write-file! (out (str (name g) "." (name v) ".npy")) #(Npy/write (.toPath ^File %) a))
        (files/write-file! (out (str (name g) "." (name v) ".csv"))
                           (fn [f] (with-open [w (io/writer f)]
                                     (.write w (str "neuron," (name v) "\n"))
                                     (dotimes [i (alength a)] (.write w (str i "," (aget a i) "\n"))))))))
    (doseq [k spikes]
      (let [{:keys [^ints indices ^doubles times-ms]} (net/spikes n k)]
        (files/write-file! (out (str (name k) ".spike_indices.npy")) #(Npy/write (.toPath ^File %) indices))
        (files/write-file! (out (str (name k) ".spike_times_ms.npy")) #(Npy/write (.toPath ^File %) times-ms))
        (files/write-file! (out (str (name k) ".spikes.csv"))
                           (fn [f] (with-open [w (io/writer f)]
                                     (.write w "neuron,time_ms\n")
                                     (dotimes [s (alength indices)] (.write w (str (aget indices s) "," (aget times-ms s) "\n"))))))))
    @files))
