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
  (:require [cheshire.core :as json]
            [chive.net :as net]
            [clojure.java.io :as io]
            [clojure.string :as str])
  (:import (chive.core.data Npy)
           (chive.core.plasticity Stdp Stdp$Rule)
           (chive.core.sim ChiveException Connectivity Network NeuronGroup Projection RateMonitor SpikeMonitor StateMonitor)
           (java.io File)
           (java.nio.file Files Path StandardCopyOption CopyOption)))

(set! *warn-on-reflection* true)

(def format-version 1)

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
                            (doseq [v (.varNames g)] (Npy/write (path dir "groups" folder (str v ".npy")) (.var g v)))
                            (Npy/write (path dir "groups" folder "refractory.npy") (.refractoryCounters g))
                            {:name (name k) :folder folder :n (.size g)
                             :model (model-ref (get-in n [:spec :groups k :model]))
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
                    (Npy/write (path dir "projections" folder "weight.npy") (.weights p))
                    (when-let [d (.delaysMs p)] (Npy/write (path dir "projections" folder "delay_ms.npy") d))
                    (Npy/write (path dir "projections" folder "ring.npy") (.pendingRing p))
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
                          g (name (gkey (.group ^chive.core.sim.Monitor m)))]]
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
                  :else {:name (name k) :type "rate" :group g})))}]
    (spit (io/file dir "network.json") (json/generate-string meta {:pretty true}))))

(defn- delete-tree! [^File f]
  (when (.isDirectory f) (doseq [c (.listFiles f)] (delete-tree! c)))
  (.delete f))

(defn write-atomically!
  "Calls (write! tmp) on a fresh sibling folder of `dir`, then swaps it in
  for `dir` by atomic renames: an earlier folder at `dir` stays intact until
  the new one is complete, and is restored if writing fails. Returns the
  absolute path."
  [dir write!]
  (let [target (.getAbsoluteFile (io/file dir))
        parent (doto (.getParentFile target) .mkdirs)
        tmp (io/file parent (str "." (.getName target) ".saving-" (System/nanoTime)))
        old (io/file parent (str "." (.getName target) ".old-" (System/nanoTime)))]
    (try
      (.mkdirs tmp)
      (write! tmp)
      (when (.exists target)
        (Files/move (.toPath target) (.toPath old) (into-array CopyOption [StandardCopyOption/ATOMIC_MOVE])))
      (Files/move (.toPath tmp) (.toPath target) (into-array CopyOption [StandardCopyOption/ATOMIC_MOVE]))
      (delete-tree! old)
      (str target)
      (catch Throwable t
        (delete-tree! tmp)
        (when (and (.exists old) (not (.exists target)))
          (Files/move (.toPath old) (.toPath target) (into-array CopyOption [StandardCopyOption/ATOMIC_MOVE])))
        (throw t)))))

(defn save!
  "Saves network `n` to folder `dir` (created or replaced). Atomic: everything
  is written to a sibling temporary folder first; an earlier save in `dir`
  stays intact until the new one is complete. Returns the folder's path."
  [n dir]
  (write-atomically! dir #(write-folder! (:java n) n %)))

(defn- read-json [^File dir]
  (let [f (io/file dir "network.json")]
    (when-not (.exists f)
      (throw (ex-info (str f ": no such file; " dir " is not a saved chive network") {:file (str f)})))
    (let [meta (try (json/parse-string (slurp f) true)
                    (catch Exception e
                      (throw (ex-info (str f ": not valid JSON (truncated or edited?): " (ex-message e)) {:file (str f)} e))))]
      (when-not (and (map? meta) (= "chive-network" (:format meta)))
        (throw (ex-info (str f ": not a chive network file (format " (pr-str (:format meta)) ")") {:file (str f)})))
      (when-not (= format-version (:version meta))
        (throw (ex-info (str f ": format version " (:version meta) ", this chive reads version " format-version)
                        {:file (str f)})))
      meta)))

(defn- npy ^chive.core.data.Npy$Array [dir & parts] (Npy/read (apply path dir parts)))

(defn- copy-into! [^floats dst ^floats src what]
  (when-not (= (alength dst) (alength src))
    (throw (ex-info (str what ": saved " (alength src) " values, the group has " (alength dst)) {:what what})))
  (System/arraycopy src 0 dst 0 (alength src)))

(defn load
  "Loads a network saved by `save!`; it continues exactly where the saved one
  stood. Throws ex-info naming the file for a missing, truncated or
  inconsistent save. DSL models are found again through the var that
  `defneuron` defined (its namespace is required if needed)."
  [dir]
  (let [dir (io/file dir)
        meta (read-json dir)
        jn (Network. (double (:dt_ms meta)) (long (:seed meta)))
        groups
        (vec (for [{:keys [name folder n model params vars]} (:groups meta)]
               (let [k (keyword name)
                     m (if (map? model)
                         (let [sym (symbol (:dsl model))]
                           (or (some-> (requiring-resolve sym) deref)
                               (throw (ex-info (str "model " sym " not found") {:model sym}))))
                         (keyword model))
                     g ^NeuronGroup (net/new-group k m n)]
                 (doseq [[p v] params] (.setParam g (clojure.core/name p) (double v)))
                 (.add jn g)
                 (doseq [v vars]
                   (copy-into! (.var g v) (.floats (npy dir "groups" folder (str v ".npy")) (path dir "groups" folder (str v ".npy")))
                               (str name "." v)))
                 (copy-into! (.refractoryCounters g)
                             (.floats (npy dir "groups" folder "refractory.npy") (path dir "groups" folder "refractory.npy"))
                             (str name ".refractory"))
                 [k g {:model m :n n}])))
        gmap (into {} (map (juxt first second) groups))
        projections
        (vec (for [{:keys [name folder from to target delays plasticity]} (:projections meta)]
               (let [^NeuronGroup pre (gmap (keyword from))
                     ^NeuronGroup post (gmap (keyword to))
                     f (fn [file] (path dir "projections" folder file))
                     c (Connectivity/fromCsr (.size pre) (.size post)
                                             (.ints (Npy/read (f "row_ptr.npy")) (f "row_ptr.npy"))
                                             (.ints (Npy/read (f "post.npy")) (f "post.npy")))
                     w (.floats (Npy/read (f "weight.npy")) (f "weight.npy"))
                     d (when delays (.doubles (Npy/read (f "delay_ms.npy")) (f "delay_ms.npy")))
                     p (.add jn (Projection. name pre post target c w d))]
                 (when plasticity
                   (let [[tpre tpost tpost2 ap am wmin wmax] (:params plasticity)
                         rule (Stdp. (Stdp$Rule/valueOf (:rule plasticity)) tpre tpost tpost2 ap am wmin wmax
                                     (boolean (:nearest plasticity)))]
                     (.setPlasticity p rule)
                     (.setLearning rule (boolean (:learning plasticity)))
                     (copy-into! (.preTrace rule) (.floats (Npy/read (f "trace_pre.npy")) (f "trace_pre.npy")) (str name ".trace_pre"))
                     (copy-into! (.postTrace rule) (.floats (Npy/read (f "trace_post.npy")) (f "trace_post.npy")) (str name ".trace_post"))
                     (when-let [z (.postTrace2 rule)]
                       (copy-into! z (.floats (Npy/read (f "trace_post2.npy")) (f "trace_post2.npy")) (str name ".trace_post2")))))
                 (.restoreRing p (.floats (Npy/read (f "ring.npy")) (f "ring.npy")))
                 [(keyword name) p])))
        monitors
        (vec (for [{:keys [name folder type group var neurons every]} (:monitors meta)]
               (let [g (gmap (keyword group))
                     m (case type
                         "spikes" (let [sm (SpikeMonitor. g)
                                        fi (path dir "monitors" folder "indices.npy")
                                        fs (path dir "monitors" folder "steps.npy")]
                                    (.restore sm (.ints (Npy/read fi) fi) (.ints (Npy/read fs) fs))
                                    sm)
                         "state" (StateMonitor. g ^String var (int-array neurons) (int every))
                         "rate" (RateMonitor. g)
                         "counts" (chive.core.sim.SpikeCountMonitor. g))]
                 (.add jn ^chive.core.sim.Monitor m)
                 [(keyword name) m])))]
    (.setStep jn (long (:step meta)))
    (net/->Net jn gmap (into {} projections) (into {} monitors)
               {:groups (into {} (map (fn [[k _ s]] [k s]) groups))})))

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
        (Npy/writeMatrix (.toPath ^File (out (str (name k) ".weights.npy"))) dense rows cols)
        (with-open [w (io/writer (out (str (name k) ".weights.csv")))]
          (.write w "pre,post,weight\n")
          (dotimes [s (alength pre)] (.write w (str (aget pre s) "," (aget post s) "," (aget weight s) "\n"))))))
    (doseq [[g v] state]
      (let [^floats a (net/state n g v)]
        (Npy/write (.toPath ^File (out (str (name g) "." (name v) ".npy"))) a)
        (with-open [w (io/writer (out (str (name g) "." (name v) ".csv")))]
          (.write w (str "neuron," (name v) "\n"))
          (dotimes [i (alength a)] (.write w (str i "," (aget a i) "\n"))))))
    (doseq [k spikes]
      (let [{:keys [^ints indices ^doubles times-ms]} (net/spikes n k)]
        (Npy/write (.toPath ^File (out (str (name k) ".spike_indices.npy"))) indices)
        (Npy/write (.toPath ^File (out (str (name k) ".spike_times_ms.npy"))) times-ms)
        (with-open [w (io/writer (out (str (name k) ".spikes.csv")))]
          (.write w "neuron,time_ms\n")
          (dotimes [s (alength indices)] (.write w (str (aget indices s) "," (aget times-ms s) "\n"))))))
    @files))
