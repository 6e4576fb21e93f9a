(ns chive.io
  "Save and load whole networks; export arrays for numpy, pandas or a spreadsheet.

      (io/save! net \"runs/exp1\")      ; a folder: network.json + NPY arrays
      (def net2 (io/load \"runs/exp1\"))
      (net/run! net2 (ms 100))           ; continues exactly as net would have
      (io/export! net \"out\" {:weights [:in->exc] :state [[:exc :theta]] :spikes [:spikes]})

  The folder holds network.json (format 3: the clock, the seed, and each
  part's kind, name, references and configuration) and one .npy per array
  of each part. Every part of a network (groups of any model, projections
  with their delay rings, learning rules with their traces and per-synapse
  state, monitors with what they recorded so far, inputs) saves and
  restores itself through the Java interface chive.core.sim.Stateful, and
  is rebuilt from its kind through chive.registry; so a model, rule or
  monitor registered by a user saves and loads like a built-in one, and a
  saved network continues bit for bit. Random numbers are counter-based
  (seed, stream, neuron, step), so the seed and the clock are the
  generators' whole state. Saving writes a sibling folder and renames it
  into place: an existing save is replaced only once the new one is
  complete. Saves of formats 1 and 2 still load (chive.impl.io-legacy); a
  newer format is refused, naming it."
  (:refer-clojure :exclude [load])
  (:require [cheshire.core :as cheshire]
            [chive.impl.files :as files :refer [path]]
            [chive.impl.io-legacy :as legacy]
            [chive.impl.json :as json]
            [chive.impl.validate :as v]
            [chive.model :as model]
            [chive.net :as net]
            [chive.registry :as registry]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.walk :as walk])
  (:import (chive.core.data Npy Npy$Array Npy$Mapped Npz)
           (chive.core.store AtomicDir AtomicDir$Writer Manifest)
           (chive.core.sim ChiveException Connectivity Input Monitor Network NeuronGroup Plasticity Projection Stateful)
           (java.io File)
           (java.nio.file Path)))

(set! *warn-on-reflection* true)

(def format-version
  "The on-disk format this chive writes. 3: every part as {kind, name,
  config, arrays} through Stateful (monitors keep their recordings, any
  registered kind saves); 2 added the manifest (MANIFEST.chive, size and
  CRC32C of every file); 1 was the first. Versions 1 and 2 still load."
  3)

(defn- safe-name [i nm] (str i "-" (str/replace (name nm) #"[^A-Za-z0-9_.-]" "_")))

(defn- kind-ref
  "How a part's kind is saved: a registered name, or {\"dsl\": \"ns/var\"}
  for a model made by defneuron or defsynapse (found again through its var)."
  [what k x]
  (cond (keyword? x) (name x)
        (:var-name x) {"dsl" (str (:var-name x))}
        :else (throw (ex-info (str "cannot save " what " " k ": its model " (:name x)
                                   " has no var (define it with defneuron / defsynapse)")
                              {what k :model (:name x)}))))

(defn- array-name? [x] (and (string? x) (re-matches #"[A-Za-z0-9_]+" x)))

(defn- write-part!
  "Writes the arrays of `part` as NPY files into dir/section/folder; returns
  its entry of network.json: {:folder :config :arrays} plus `more`."
  [^File dir section folder ^Stateful part more]
  (let [arrays (.arrays part)]
    (.mkdirs (io/file dir section folder))
    (doseq [[nm a] arrays]
      (when-not (array-name? nm)
        (throw (ex-info (str part ": array name " (pr-str nm) " is not a plain name [A-Za-z0-9_]+") {:array nm})))
      (Npy/writeAny (path dir section folder (str nm ".npy")) a))
    (merge more {:folder folder :config (.config part) :arrays (vec (keys arrays))})))

(defn- plasticity-kind
  "The saved kind of projection `k`'s learning rule, from the network's spec."
  [n k]
  (let [p (get-in n [:spec :projections k :plasticity])]
    (cond (model/synapse-model? p) (kind-ref "the learning rule of projection" k p)
          (and (map? p) (model/synapse-model? (:model p))) (kind-ref "the learning rule of projection" k (:model p))
          (map? p) (name (:rule p))
          :else (throw (ex-info (str "projection " k ": its learning rule is not described in the network's spec; cannot save it")
                                {:projection k})))))

(defn- write-folder!
  "Writes network `n` into `dir`: every part through Stateful, then network.json."
  [^Network jn n ^File dir]
  (let [key-of (fn [m] (into {} (for [[k x] m] [x k])))
        gkey (key-of (:groups n))
        pkey (key-of (:projections n))
        mkey (key-of (:monitors n))
        gname #(name (gkey %))
        meta
        {:format "chive-network" :version format-version
         :dt_ms (.dt jn) :seed (.seed jn) :step (.step jn) :fast_forward (.fastForward jn)
         :groups (vec (for [[i ^NeuronGroup g] (map-indexed vector (.groups jn))
                            :let [k (gkey g)]]
                        (write-part! dir "groups" (safe-name i k) g
                                     {:name (name k) :kind (kind-ref "group" k (get-in n [:spec :groups k :model]))})))
         :projections (vec (for [[i ^Projection p] (map-indexed vector (.projections jn))
                                 :let [k (pkey p)
                                       folder (safe-name i k)
                                       pl (.plasticity p)]]
                             (write-part! dir "projections" folder p
                                          {:name (name k) :from (gname (.pre p)) :to (gname (.post p))
                                           :plasticity (when pl
                                                         (write-part! dir "plasticity" folder pl {:kind (plasticity-kind n k)}))})))
         :monitors (vec (for [[i ^Monitor m] (map-indexed vector (.monitors jn))
                              :let [k (mkey m)]]
                          (write-part! dir "monitors" (safe-name i k) m
                                       {:name (name k) :kind (name (get-in n [:spec :monitors k :type])) :group (gname (.group m))})))
         :inputs (vec (for [[i [k ^Input in]] (map-indexed vector (sort-by key (:inputs n)))]
                        (write-part! dir "inputs" (safe-name i k) in {:name (name k) :kind (name (get-in n [:spec :inputs k :type] :poisson))
                                                                    :group (gname (.target in))})))
         :subgroups (vec (for [[k [g lo hi]] (sort-by key (:subgroups n))]
                           {:name (name k) :group (name g) :from lo :to hi}))}]
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
      (when-not (#{1 2 format-version} (:version meta))
        (throw (ex-info (str f ": format version " (pr-str (:version meta)) "; this chive reads versions 1 to " format-version
                             (when (and (integer? (:version meta)) (> (:version meta) format-version)) " (saved by a newer chive?)"))
                        {:file (str f) :version (:version meta)})))
      meta)))

;; Format 3, in named steps: each part's fields, its kind, its arrays, then restore.

(defn- folder-name? [x] (and (string? x) (re-matches #"[A-Za-z0-9_.-]+" x) (not (#{"." ".."} x))))
(defn- positive-count? [x] (and (integer? x) (<= 1 x Integer/MAX_VALUE)))

(defn- check-unique! [file what names]
  (when-let [d (first (for [[k c] (frequencies names) :when (> c 1)] k))]
    (throw (ex-info (str file ": two " what " are named " (pr-str d)) {:file (str file) :name d}))))

(defn- named
  "Calls f; a ChiveException from the core (a refused restore, inconsistent
  arrays) becomes ex-info naming the file and the place in it."
  [file where f]
  (try (f) (catch ChiveException e
             (throw (ex-info (str file ": " where ": " (.getMessage e)) {:file (str file)} e)))))

(defn- part-fields
  "The common fields of a saved part, checked: {:folder :config :arrays}
  (config with string keys, as the Java side wrote it)."
  [file where m]
  (let [f (fn [k ok? expected] (json/field file where m k ok? expected))]
    {:folder (f :folder folder-name? "a plain folder name")
     :config (walk/stringify-keys (f :config map? "an object"))
     :arrays (f :arrays #(and (sequential? %) (every? array-name? %) (apply distinct? "" %)) "a list of distinct plain array names")}))

(defn- read-arrays
  "{name array} of a part's NPY files under dir/section/folder, each a
  one-dimensional float32, float64, int32 or int64 array."
  [dir section {:keys [folder arrays]}]
  (into {} (for [nm arrays
                 :let [f (path dir section folder (str nm ".npy"))]]
             ;; the reader's messages name the file
             [nm (try (.primitive (Npy/read f) f)
                      (catch ChiveException e (throw (ex-info (.getMessage e) {:file (str f)} e)))
                      (catch java.nio.file.NoSuchFileException _
                        (throw (ex-info (str f ": no such file (listed in network.json)") {:file (str f)}))))])))

(defn- expect-arrays!
  "Checks that a save lists exactly the arrays `part` has (naming the difference)."
  [file where ^Stateful part listed]
  (let [want (set (keys (.arrays part)))]
    (when-not (= want (set listed))
      (throw (ex-info (str file ": " where " lists the arrays " (vec (sort listed)) " but a " (.getSimpleName (class part))
                           " of this kind has " (vec (sort want)) " (a missing one would silently keep its default)")
                      {:file (str file)})))))

(defn- resolve-dsl
  "The defneuron/defsynapse model of a saved {\"dsl\": \"ns/var\"} kind (its namespace required if needed)."
  [file where kind pred what]
  (let [sym (symbol (:dsl kind))
        m (some-> (try (requiring-resolve sym) (catch Exception _ nil)) deref)]
    (when-not (pred m)
      (throw (ex-info (str file ": " where ": " what " " sym " not found (require its namespace first?)") {:model sym})))
    m))

(defn- kind-field
  "A part's saved kind: a name registered under `reg-kind`, or a DSL model ({\"dsl\": \"ns/var\"}) when `dsl?` is given."
  [file where m reg-kind dsl?]
  (let [k (json/field file where m :kind #(or (string? %) (and dsl? (map? %) (string? (:dsl %))))
                      (str "a registered " (name reg-kind) " name" (when dsl? " or {\"dsl\": \"ns/var\"}")))]
    (if (map? k)
      (resolve-dsl file where k dsl? (str "DSL " (name reg-kind)))
      (do (when-not (registry/entry reg-kind (keyword k))
            (throw (ex-info (str file ": " where ".kind " (pr-str k) " is not a registered " (name reg-kind) "; registered: "
                                 (vec (registry/names reg-kind)) " (register it before loading)")
                            {:file (str file) :kind k})))
          (keyword k)))))

(defn- group-ref [file where m k gmap]
  (gmap (keyword (json/field file where m k #(contains? gmap (keyword (str %)))
                             (str "a group of this save " (vec (sort (map name (keys gmap)))))))))

(defn- load-group3 [dir file ^Network jn i g]
  (let [where (str "groups[" i "]")
        _ (json/only-fields file where g #{:name :kind :folder :config :arrays})
        nm (json/field file where g :name json/text? "a non-empty string")
        model (kind-field file where g :model model/model?)
        {:keys [config arrays] :as part} (part-fields file where g)
        c (fn [k ok? expected] (json/field file (str where ".config") config k ok? expected))
        n (c "n" positive-count? "a positive integer")
        precision (keyword (c "precision" #{"single" "double"} "\"single\" or \"double\""))
        params (c "params" #(and (map? %) (every? json/finite? (vals %))) "an object of finite parameter values")
        saved (read-arrays dir "groups" part)
        loader (when (keyword? model) (:load (registry/entry :model model)))
        ^NeuronGroup grp (named file where #(if loader
                                              (loader nm (int n) precision saved)
                                              (net/new-group (keyword nm) model n precision)))]
    (when-not (= (set (.paramNames grp)) (set (keys params)))
      (throw (ex-info (str file ": " where " (" nm ") records parameters " (vec (sort (keys params)))
                           ", the model has " (vec (sort (.paramNames grp)))) {:file (str file) :group nm})))
    (expect-arrays! file where grp arrays)
    (named file where #(do (doseq [[p x] params] (.setParam grp ^String p (double x)))
                           (.add jn grp)
                           (.restore grp saved)))
    [(keyword nm) grp {:model model :n n :precision precision}]))

(defn- load-plasticity [dir file where ^Projection proj pl]
  (let [_ (json/only-fields file where pl #{:kind :folder :config :arrays})
        kind (kind-field file where pl :plasticity model/synapse-model?)
        {:keys [config arrays] :as part} (part-fields file where pl)
        ^Plasticity rule (named file where #(if (keyword? kind)
                                              ((:load (registry/entry :plasticity kind)) config)
                                              (model/rule-from-config kind config)))]
    (named file where #(.setPlasticity proj rule))
    (expect-arrays! file where rule arrays)
    (named file where #(.restore rule (read-arrays dir "plasticity" part)))
    (if (keyword? kind) {:rule kind} kind)))

(defn- load-projection3 [dir file ^Network jn gmap i p]
  (let [where (str "projections[" i "]")
        _ (json/only-fields file where p #{:name :from :to :folder :config :arrays :plasticity})
        nm (json/field file where p :name json/text? "a non-empty string")
        ^NeuronGroup pre (group-ref file where p :from gmap)
        ^NeuronGroup post (group-ref file where p :to gmap)
        {:keys [config arrays] :as part} (part-fields file where p)
        target (json/field file (str where ".config") config "target" #(and (string? %) (.hasVar post ^String %))
                           (str "a state variable of " (.name post)))
        saved (read-arrays dir "projections" part)
        need (fn [k] (or (saved k) (throw (ex-info (str file ": " where " lacks the array " k) {:file (str file)}))))
        proj (named file where
                    #(let [c (Connectivity/fromCsr (.size pre) (.size post) ^ints (need "row_ptr") ^ints (need "post"))
                           w (need "weight")
                           d (saved "delay_ms")
                           pr (if (instance? (Class/forName "[D") w)
                                (Projection. ^String nm pre post ^String target c nil ^doubles (aclone ^doubles w) ^doubles d)
                                (Projection. ^String nm pre post ^String target c ^floats (aclone ^floats w) ^doubles d))]
                       (.add jn pr)))
        pl-spec (when-let [pl (json/field file where p :plasticity #(or (nil? %) (map? %)) "null or an object")]
                  (load-plasticity dir file (str where ".plasticity") proj pl))]
    (expect-arrays! file where proj arrays)
    (named file where #(.restore ^Projection proj saved))
    [(keyword nm) proj (cond-> {:from (keyword (.name pre)) :to (keyword (.name post)) :target (keyword target)}
                         pl-spec (assoc :plasticity pl-spec))]))

(defn- slice-of
  "[lo hi] of a part's config \"from\"/\"to\" within group g."
  [file where config ^NeuronGroup g]
  (let [c (fn [k ok? expected] (json/field file (str where ".config") config k ok? expected))
        lo (c "from" #(and (integer? %) (< -1 % (.size g))) (str "a neuron of " (.name g)))
        hi (c "to" #(and (integer? %) (< lo % (inc (.size g)))) (str "an end of a slice of " (.name g)))]
    [(int lo) (int hi)]))

(defn- load-slice-part
  "A saved monitor or input (a part on a slice of one group): its fields,
  its registered kind (`reg-kind`), rebuilt by the kind's :load through
  `make` (fn [load name group lo hi config]), added, restored. Returns
  [key part spec-entry]; `spec-of` makes the entry from kind, group, part."
  [dir file ^Network jn gmap i m section reg-kind make spec-of]
  (let [where (str section "[" i "]")
        _ (json/only-fields file where m #{:name :kind :group :folder :config :arrays})
        nm (json/field file where m :name json/text? "a non-empty string")
        kind (kind-field file where m reg-kind nil)
        ^NeuronGroup g (group-ref file where m :group gmap)
        {:keys [config arrays] :as part} (part-fields file where m)
        [lo hi] (slice-of file where config g)
        ^Stateful x (named file where #(make (:load (registry/entry reg-kind kind)) nm g lo hi config))]
    (expect-arrays! file where x arrays)
    (named file where #(do (if (instance? Monitor x) (.add jn ^Monitor x) (.add jn ^Input x))
                           (.restore x (read-arrays dir section part))))
    [(keyword nm) x (spec-of kind g x)]))

(defn- load-monitor3 [dir file jn gmap i m]
  (load-slice-part dir file jn gmap i m "monitors" :monitor
                   (fn [load _ g lo hi config] (load g lo hi config))
                   (fn [kind ^NeuronGroup g _] {:type kind :group (keyword (.name g))})))

(defn- load-input3 [dir file jn gmap i in]
  (load-slice-part dir file jn gmap i in "inputs" :input
                   (fn [load nm g lo hi config] (load nm g lo hi config))
                   (fn [kind ^NeuronGroup g ^Input x] {:type kind :to (keyword (.name g)) :target (keyword (.targetVar x))})))

(defn- load-v3
  "Rebuilds a format-3 save: the network, then groups, projections (with
  their rules), monitors, inputs and subgroups, each restored through
  Stateful; finally the clock."
  [^File dir ^File file meta]
  (json/only-fields file "the top level" meta #{:format :version :dt_ms :seed :step :groups :projections :monitors
                                                :subgroups :inputs :fast_forward})
  (let [top (fn [k ok? expected] (json/field file "the top level" meta k ok? expected))
        {:keys [dt seed step]} (legacy/clock file meta)
        gs (top :groups #(and (sequential? %) (seq %)) "a non-empty list of groups")
        ps (top :projections sequential? "a list of projections")
        ms (top :monitors sequential? "a list of monitors")
        ins (top :inputs sequential? "a list of inputs")
        sgs (top :subgroups sequential? "a list of subgroups")
        _ (doseq [[what xs] [["groups" gs] ["projections" ps] ["monitors" ms] ["inputs" ins] ["subgroups" sgs]]]
            (when-not (every? map? xs) (throw (ex-info (str file ": every entry of " what " must be an object") {:file (str file)})))
            (check-unique! file what (map :name xs)))
        jn (Network. (double dt) (long seed))
        groups (vec (map-indexed #(load-group3 dir file jn %1 %2) gs))
        gmap (into {} (map (juxt first second) groups))
        projections (vec (map-indexed #(load-projection3 dir file jn gmap %1 %2) ps))
        monitors (vec (map-indexed #(load-monitor3 dir file jn gmap %1 %2) ms))
        inputs (vec (map-indexed #(load-input3 dir file jn gmap %1 %2) ins))
        subgroups (into {} (map-indexed #(legacy/load-subgroup file gmap %1 %2) sgs))
        spec-of (fn [xs] (into {} (map (fn [[k _ s]] [k s]) xs)))]
    (.setStep jn (long step))
    ;; absent in files written before quiet fast-forward existed: on, the default
    (when (contains? meta :fast_forward)
      (.setFastForward jn (boolean (top :fast_forward boolean? "true or false"))))
    (assoc (net/->Net jn gmap (into {} (map (juxt first second) projections)) (into {} (map (juxt first second) monitors))
                      {:groups (spec-of groups) :projections (spec-of projections) :monitors (spec-of monitors)
                       :inputs (spec-of inputs)})
           :subgroups subgroups
           :inputs (into {} (map (juxt first second) inputs)))))

(defn load
  "Loads a network saved by `save!`; it continues exactly where the saved one
  stood. First finishes a save that a crash interrupted (see `save!`), then
  checks every file against the save's manifest (size and CRC32C), every
  field of network.json (types, ranges, references; each part's kind
  registered, its parameters and arrays those of its kind), and each
  array's shape and dtype. Throws ex-info naming the file and the problem.
  DSL models and rules are found again through the var that `defneuron` /
  `defsynapse` defined (its namespace is required if needed); a model, rule
  or monitor of a user's own kind must be registered (chive.registry)
  before loading."
  [dir]
  (let [dir (io/file dir)
        _ (verify-folder! dir network-kind "a saved chive network")
        file (io/file dir "network.json")
        meta (read-json dir)]
    (when (and (>= (:version meta) 2) (not (.exists (io/file dir Manifest/FILE))))
      (throw (ex-info (str dir ": " Manifest/FILE " is missing; a format " (:version meta)
                           " save cannot be checked without it (was the folder copied in part?)") {:dir (str dir)})))
    (if (= 3 (:version meta))
      (load-v3 dir file meta)
      (legacy/load dir file meta))))

(defn write-file!
  "Writes one file as one unit: (write! tmp-file) fills a hidden sibling,
  which is flushed to disk and renamed over `target`, so a crash leaves the
  previous file or the new one, never half of one. Returns the path."
  [target write!]
  (files/write-file! target write!))

;; ---------------------------------------------------------------- NPY, NPZ, SciPy CSR

(defn- array-map-of
  "{:dtype :shape :data} of a parsed array."
  [^Npy$Array a ^Path p]
  {:dtype (.dtype a) :shape (vec (.shape a)) :data (.data a p)})

(defn read-npy
  "Reads a .npy file: {:dtype \"<f4\" :shape [rows cols] :data array}. The
  data are a Java array holding every value exactly, in C order: float[]
  (float32), double[] (float64), byte[] (int8), short[] (int16; uint8
  widened), int[] (int32; uint16 widened), long[] (int64; uint32 widened),
  boolean[] (bool). Either byte order and Fortran order are read (and held
  little-endian, C order). Arrays over 2 GB: `npy-map`."
  [file]
  (let [p (.toPath (io/file file))]
    (array-map-of (Npy/read p) p)))

(defn npy-map
  "Memory-maps a .npy file of any size (over 2 GB too: nothing is read until
  asked). Returns a chive.core.data.Npy$Mapped: .shape, .length, (.get m i)
  for element i in C order as a double, (.rows m from count) for rows of the
  first dimension as a float[]."
  ^Npy$Mapped [file]
  (Npy/map (.toPath (io/file file))))

(defn- npy-bytes ^bytes [what v]
  (cond
    (and (map? v) (contains? v :data))
    (Npy/encode (:data v) (some-> (:shape v) int-array) what)
    :else (Npy/encode v nil what)))

(defn write-npy!
  "Writes `a` as a .npy file, atomically: a float[], double[], int[], long[],
  short[], byte[] (int8) or boolean[] (one dimension), or {:data array
  :shape [d0 d1 ...]} (C order). Returns the path."
  [file a]
  (let [bytes (npy-bytes (str file) a)]
    (files/write-file! file (fn [^File tmp] (with-open [o (io/output-stream tmp)] (.write o bytes))))))

(defn read-npz
  "Reads a .npz archive (numpy's savez or savez_compressed; SciPy's
  save_npz): {name {:dtype :shape :data}} as `read-npy` gives; a 0-d bytes
  string reads as a String."
  [file]
  (let [p (.toPath (io/file file))]
    (into (array-map) (for [[k a] (Npz/read p)] [k (array-map-of a p)]))))

(defn write-npz!
  "Writes {name array-or-{:data :shape}} as a .npz archive that
  numpy.load reads, atomically; names are letters, digits, _, - and . (not
  first). :compress true deflates (as savez_compressed). A String value is
  stored as a 0-d bytes string. Returns the path."
  [file arrays & {:keys [compress]}]
  (when-not (map? arrays) (throw (ex-info (str "write-npz!: arrays must be a map of name to array, got " (pr-str (type arrays))) {})))
  (let [encoded (java.util.LinkedHashMap.)]
    (doseq [[k v] arrays]
      (.put encoded (if (keyword? k) (name k) (str k)) (npy-bytes (str file "[" (if (keyword? k) (name k) k) "]") v)))
    (files/write-file! file (fn [^File tmp] (with-open [o (io/output-stream tmp)] (Npz/write o encoded (boolean compress) (str file)))))))

(defn csr
  "Synapses (pre, post, weight per synapse) as a CSR matrix of `rows` x
  `cols` (pre x post): {:shape [rows cols] :indptr int[] :indices int[]
  :data weights}, rows in order, columns in order within a row. Repeated
  (pre, post) pairs stay separate entries (SciPy adds them up in toarray)."
  [^ints pre ^ints post weight rows cols]
  (let [n (alength pre)
        rows (int rows)
        indptr (int-array (inc rows))
        indices (int-array n)
        dbl? (instance? (Class/forName "[D") weight)
        data (if dbl? (double-array n) (float-array n))
        ;; Synapses by row (counting sort), then by column within a row:
        ;; (post << 32 | synapse) sorted per row segment, so ties keep synapse order.
        keys (long-array n)
        fill (int-array rows)]
    (dotimes [s n] (let [r (aget pre s)] (aset indptr (inc r) (inc (aget indptr (inc r))))))
    (dotimes [r rows] (aset indptr (inc r) (+ (aget indptr (inc r)) (aget indptr r))))
    (dotimes [s n]
      (let [r (aget pre s) k (+ (aget indptr r) (aget fill r))]
        (aset fill r (inc (aget fill r)))
        (aset keys k (bit-or (bit-shift-left (long (aget post s)) 32) s))))
    (dotimes [r rows] (java.util.Arrays/sort keys (aget indptr r) (aget indptr (inc r))))
    (dotimes [k n]
      (let [key (aget keys k) s (int (bit-and key 0xFFFFFFFF))]
        (aset indices k (int (bit-shift-right key 32)))
        (if dbl?
          (aset ^doubles data k (aget ^doubles weight s))
          (aset ^floats data k (float (java.lang.reflect.Array/getDouble weight s))))))
    {:shape [rows cols] :indptr indptr :indices indices :data data}))

(defn write-csr!
  "Writes a CSR matrix ({:shape :indptr :indices :data}, see `csr`) as
  SciPy's save_npz does: scipy.sparse.load_npz reads it back."
  [file {:keys [shape indptr indices data]}]
  (write-npz! file {"indices" indices "indptr" indptr "format" "csr" "shape" (long-array shape) "data" data}))

(defn read-csr
  "Reads a CSR matrix saved by scipy.sparse.save_npz (or `write-csr!`):
  {:shape [rows cols] :indptr :indices :data}; other formats are refused by name."
  [file]
  (let [m (read-npz file)
        fmt (get-in m ["format" :data])]
    (when-not (= "csr" fmt)
      (throw (ex-info (str file ": a sparse matrix of format " (pr-str fmt) "; chive reads csr (convert with .tocsr() before save_npz)") {:file (str file) :format fmt})))
    (doseq [k ["indices" "indptr" "shape" "data"]]
      (when-not (contains? m k) (throw (ex-info (str file ": no " k " array: not a scipy.sparse.save_npz file") {:file (str file)}))))
    {:shape (mapv long (get-in m ["shape" :data])) :indptr (get-in m ["indptr" :data]) :indices (get-in m ["indices" :data])
     :data (get-in m ["data" :data])}))

(defn file-stem
  "A part name as a file name without shell-hostile characters: \"->\"
  becomes \"_to_\", anything but letters, digits, _, - and . becomes _."
  [k]
  (-> (if (keyword? k) (name k) (str k))
      (str/replace "->" "_to_")
      (str/replace #"[^A-Za-z0-9_.-]" "_")
      (str/replace #"^[.-]" "_")))

(defn- num-at
  "Element i of a float[] or double[] (or int[]) as a double."
  ^double [a i]
  (java.lang.reflect.Array/getDouble a (int i)))

(defn- write-csv! [out nm header n row]
  (files/write-file! (out nm) (fn [f] (with-open [w (io/writer f)]
                                        (.write w (str header "\n"))
                                        (dotimes [i n] (.write w (str (row i) "\n")))))))

(defn export!
  "Writes arrays for other tools into folder `dir`, as NPY, NPZ and CSV.
  File names use `file-stem` of each part's name (\"in->exc\" is
  \"in_to_exc\"): no shell-hostile characters. `what`:
  - :weights [proj ...]       <proj>.weights.npy (float32 matrix pre x post, 0 where no synapse)
                              and <proj>.weights.csv (pre,post,weight per synapse)
  - :sparse [proj ...]        <proj>.weights.csr.npz: the weights as a SciPy CSR matrix (pre x post),
                              scipy.sparse.load_npz reads it; every synapse one entry
  - :state [[group var] ...]  <group>.<var>.npy (float32, or float64 for a double-precision group) and .csv
  - :spikes [monitor ...]     <monitor>.spike_indices.npy (int32), <monitor>.spike_times_ms.npy (float64)
                              and <monitor>.spikes.csv (neuron,time_ms)
  - :traces [monitor ...]     a state monitor's recording: <monitor>.times_ms.npy, <monitor>.<var>.npy
                              (float32 or float64, [records, neurons]), <monitor>.neurons.npy (int32)
                              and <monitor>.<var>.csv (time_ms, then one column per neuron)
  - :rates [monitor ...]      a rate monitor's population rate: <monitor>.times_ms.npy,
                              <monitor>.rates_hz.npy (float64) and <monitor>.rates.csv (time_ms,rate_hz)
  - :parts [k ...]            every array of part k (a monitor of any kind, a projection with its
                              rule's traces, a group, an input; what `chive.net/recorded` shows and
                              a save holds) as <k>.<array>.npy, through chive.core.sim.Stateful
  Two parts whose names give the same file are refused before anything is
  written. Each file is written whole (a crash leaves the previous file or
  the new one). Returns the files written."
  [n dir {:keys [weights sparse state spikes traces rates parts] :as what}]
  (v/kwargs! "export!" what [:weights :sparse :state :spikes :traces :rates :parts])
  (let [planned (concat (map #(vector % "weights") weights) (map #(vector % "sparse") sparse)
                        (map (fn [[g v]] [(str (file-stem g) "." (file-stem v)) "state"]) state)
                        (map #(vector % "spikes") spikes) (map #(vector % "traces") traces) (map #(vector % "rates") rates))
        clashes (->> planned (group-by (fn [[k kind]] [(file-stem k) kind])) vals (filter #(> (count (distinct (map first %))) 1)))]
    (when (seq clashes)
      (let [ks (map first (first clashes))]
        (throw (ex-info (str "export!: " (str/join " and " (map pr-str ks)) " would write the same file names ("
                             (file-stem (first ks)) ".*); rename one") {:names (vec ks)})))))
  (let [dir (doto (io/file dir) .mkdirs)
        files (atom [])
        out (fn [nm] (let [f (io/file dir nm)] (swap! files conj (str f)) f))
        stem file-stem]
    (doseq [k weights]
      (let [{:keys [^ints pre ^ints post weight]} (net/connections n k)
            p ^Projection (get-in n [:projections k])
            rows (.size (.pre p)) cols (.size (.post p))
            dense (float-array (* rows cols))]
        (dotimes [s (alength pre)] (aset dense (+ (* (aget pre s) cols) (aget post s)) (float (num-at weight s))))
        (files/write-file! (out (str (stem k) ".weights.npy")) #(Npy/writeMatrix (.toPath ^File %) dense rows cols))
        (write-csv! out (str (stem k) ".weights.csv") "pre,post,weight" (alength pre)
                    (fn [s] (str (aget pre (int s)) "," (aget post (int s)) "," (if (instance? (Class/forName "[F") weight)
                                                                                  (aget ^floats weight (int s))
                                                                                  (num-at weight s)))))))
    (doseq [k sparse]
      (let [{:keys [pre post weight]} (net/connections n k)
            p ^Projection (get-in n [:projections k])]
        (write-csr! (out (str (stem k) ".weights.csr.npz")) (csr pre post weight (.size (.pre p)) (.size (.post p))))))
    (doseq [[g v] state]
      (let [a (net/state n g v)
            base (str (stem g) "." (stem v))]
        (files/write-file! (out (str base ".npy")) #(Npy/writeAny (.toPath ^File %) a))
        (write-csv! out (str base ".csv") (str "neuron," (name v)) (java.lang.reflect.Array/getLength a)
                    (fn [i] (str i "," (java.lang.reflect.Array/get a (int i)))))))
    (doseq [k spikes]
      (let [{:keys [^ints indices ^doubles times-ms]} (net/spikes n k)]
        (files/write-file! (out (str (stem k) ".spike_indices.npy")) #(Npy/write (.toPath ^File %) indices))
        (files/write-file! (out (str (stem k) ".spike_times_ms.npy")) #(Npy/write (.toPath ^File %) times-ms))
        (write-csv! out (str (stem k) ".spikes.csv") "neuron,time_ms" (alength indices)
                    (fn [s] (str (aget indices (int s)) "," (aget times-ms (int s)))))))
    (doseq [k traces]
      (let [{:keys [var neurons ^doubles times-ms values]} (net/trace n k)
            records (count values) width (count neurons)
            dbl? (and (pos? records) (instance? (Class/forName "[D") (first values)))
            flat (if dbl? (double-array (* records width)) (float-array (* records width)))]
        (doseq [[r row] (map-indexed vector values)] (System/arraycopy row 0 flat (* r width) width))
        (files/write-file! (out (str (stem k) ".times_ms.npy")) #(Npy/write (.toPath ^File %) times-ms))
        (write-npy! (out (str (stem k) "." (stem var) ".npy")) {:data flat :shape [records width]})
        (files/write-file! (out (str (stem k) ".neurons.npy")) #(Npy/write (.toPath ^File %) (int-array neurons)))
        (write-csv! out (str (stem k) "." (stem var) ".csv") (str "time_ms," (str/join "," (map #(str (name var) "_" %) neurons))) records
                    (fn [r] (str (aget times-ms (int r)) "," (str/join "," (map #(java.lang.reflect.Array/get (nth values r) (int %)) (range width))))))))
    (doseq [k rates]
      (let [{:keys [^doubles times-ms ^doubles rates-hz]} (net/rates n k)]
        (files/write-file! (out (str (stem k) ".times_ms.npy")) #(Npy/write (.toPath ^File %) times-ms))
        (files/write-file! (out (str (stem k) ".rates_hz.npy")) #(Npy/write (.toPath ^File %) rates-hz))
        (write-csv! out (str (stem k) ".rates.csv") "time_ms,rate_hz" (alength rates-hz)
                    (fn [i] (str (aget times-ms (int i)) "," (aget rates-hz (int i)))))))
    (doseq [k parts
            [arr a] (net/recorded n k)]
      (files/write-file! (out (str (stem k) "." (stem arr) ".npy")) #(Npy/writeAny (.toPath ^File %) a)))
    @files))
