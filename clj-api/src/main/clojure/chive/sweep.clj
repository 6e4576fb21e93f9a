(ns chive.sweep
  "Sweeps and ensembles: one experiment over a parameter space, on every
  local core or on an Apache Spark cluster, with the same results.

  An experiment is a var, named by a fully qualified symbol, holding a
  function from a parameter map to a result map of plain data (numbers,
  strings, keywords, booleans, nil, vectors, maps of those, primitive
  arrays). Only data crosses process boundaries: the executor requires the
  experiment's namespace and calls the var.

      (defn my.ns/rate [{:keys [g eta seed]}] {:rate-hz ...})
      (sweep/run! 'my.ns/rate {:grid {:g [4 5 6] :eta [1 2]} :seeds 3}
                  {:out \"target/sweeps/brunel\"})

  A space (see `points`) is a grid, an explicit list or seeded random
  samples, with seeds as one more dimension. Every finished point is
  appended to OUT/results.jsonl (one JSON object per line, flushed to disk
  before the next), so a sweep that is interrupted or killed continues with
  :resume true and runs only the missing points. A point that throws is
  recorded with its error and the sweep goes on.

  Engines: :local (default: this JVM, :threads threads, default all cores,
  each point on its own thread) and :spark (needs chive-spark on the
  classpath: deps.edn alias :spark, or `bin/chive sweep --engine spark`)."
  (:refer-clojure :exclude [run!])
  (:require [cheshire.core :as json]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [chive.impl.files :as files])
  (:import (java.io File)
           (java.nio.channels FileChannel)
           (java.nio.charset StandardCharsets)
           (java.nio ByteBuffer)
           (java.nio.file Files LinkOption OpenOption StandardOpenOption)
           (java.util.concurrent ExecutorCompletionService Executors ThreadFactory TimeUnit)
           (java.util.concurrent.atomic AtomicInteger)))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------------------
;; Spaces

(defn- bad [msg data] (throw (ex-info msg data)))

(defn- param-key? [k] (or (keyword? k) (string? k)))

(defn- check-values! [where k vs]
  (when-not (and (sequential? vs) (seq vs))
    (bad (str where " " k ": needs a non-empty vector of values, got " (pr-str vs)) {:key k :values vs})))

(defn- grid-points
  "The cartesian product of {k [v ...]}; keys in sorted order, the last key
  varying fastest."
  [g]
  (when-not (and (map? g) (seq g) (every? param-key? (keys g)))
    (bad (str ":grid needs a non-empty map of parameter name -> vector of values, got " (pr-str g)) {:grid g}))
  (let [ks (sort-by str (keys g))]
    (doseq [k ks] (check-values! ":grid" k (get g k)))
    (reduce (fn [acc k] (for [m acc v (get g k)] (assoc m k v))) [{}] ks)))

(defn- draw
  "One value of distribution `d` from java.util.SplittableRandom `r`."
  [k d ^java.util.SplittableRandom r]
  (let [fail #(bad (str ":random " k ": unknown distribution " (pr-str d)
                        "; valid: [:uniform lo hi], [:log-uniform lo hi] (lo > 0), [:int lo hi] (inclusive), [:choice [v ...]]")
                   {:key k :distribution d})]
    (when-not (vector? d) (fail))
    (let [[kind a b] d]
      (case kind
        :uniform (do (when-not (and (number? a) (number? b) (< a b)) (fail))
                     (+ (double a) (* (- (double b) (double a)) (.nextDouble r))))
        :log-uniform (do (when-not (and (number? a) (number? b) (< 0 a b)) (fail))
                         (Math/exp (+ (Math/log a) (* (- (Math/log b) (Math/log a)) (.nextDouble r)))))
        :int (do (when-not (and (integer? a) (integer? b) (<= a b)) (fail))
                 (+ (long a) (.nextLong r (inc (- (long b) (long a))))))
        :choice (do (when-not (and (sequential? a) (seq a)) (fail))
                    (nth (vec a) (.nextInt r (count a))))
        (fail)))))

(defn- random-points [{:keys [n seed params] :as spec}]
  (when-not (and (integer? n) (pos? n)) (bad (str ":random :n must be a positive whole number, got " (pr-str n)) {:random spec}))
  (when-not (integer? seed) (bad (str ":random :seed must be a whole number, got " (pr-str seed)) {:random spec}))
  (when-not (and (map? params) (seq params)) (bad (str ":random :params needs a map of name -> distribution, got " (pr-str params)) {:random spec}))
  (let [unknown (remove #{:n :seed :params} (keys spec))]
    (when (seq unknown) (bad (str ":random: unknown key " (pr-str (first unknown)) "; valid: :n :seed :params") {:random spec})))
  (let [r (java.util.SplittableRandom. (long seed))
        ks (sort-by str (keys params))]
    ;; one draw per parameter in sorted name order, point after point: the
    ;; samples depend only on :seed, :n and the distributions
    (vec (for [_ (range n)] (into {} (for [k ks] [k (draw k (get params k) r)]))))))

(def ^:private space-keys #{:grid :list :random :seeds :fixed})

(defn points
  "The parameter maps of `space`, in a fixed order. A space is a map with
  one of
    :grid   {k [v ...] ...}       the cartesian product (keys sorted, the last fastest)
    :list   [{k v ...} ...]       explicit points
    :random {:n N :seed S :params {k dist}}  N seeded samples; dist is
            [:uniform lo hi], [:log-uniform lo hi], [:int lo hi] or [:choice [v ...]]
  and optionally
    :seeds  [s ...] or N (= 1..N)  every point once per seed, as key :seed
    :fixed  {k v}                  merged into every point.
  A vector of spaces is their concatenation. Duplicate points are an error."
  [space]
  (let [ps (if (vector? space)
             (vec (mapcat points space))
             (do
               (when-not (map? space) (bad (str "a sweep space must be a map (or a vector of maps), got " (pr-str space)) {:space space}))
               (let [unknown (remove space-keys (keys space))]
                 (when (seq unknown)
                   (bad (str "sweep space: unknown key " (pr-str (first unknown)) "; valid: " (str/join " " (sort space-keys))) {:space space})))
               (let [bases (filter space [:grid :list :random])
                     _ (when (not= 1 (count bases))
                         (bad (str "sweep space: needs exactly one of :grid, :list, :random, got " (pr-str (vec bases))) {:space space}))
                     base (case (first bases)
                            :grid (grid-points (:grid space))
                            :list (let [l (:list space)]
                                    (when-not (and (sequential? l) (seq l) (every? map? l))
                                      (bad (str ":list needs a non-empty vector of parameter maps, got " (pr-str l)) {:list l}))
                                    l)
                            :random (random-points (:random space)))
                     seeds (let [s (:seeds space)]
                             (cond (nil? s) nil
                                   (and (integer? s) (pos? s)) (vec (range 1 (inc s)))
                                   (and (sequential? s) (seq s) (every? integer? s)) (vec s)
                                   :else (bad (str ":seeds must be a positive count or a vector of whole numbers, got " (pr-str s)) {:seeds s})))
                     fixed (:fixed space {})]
                 (when-not (map? fixed) (bad (str ":fixed must be a map, got " (pr-str fixed)) {:fixed fixed}))
                 (vec (for [p base, s (or seeds [nil])]
                        (cond-> (merge fixed p) s (assoc :seed s)))))))]
    (when-let [d (first (for [[p c] (frequencies ps) :when (> c 1)] p))]
      (bad (str "sweep space: the point " (pr-str d) " occurs " (count (filter #{d} ps)) " times") {:point d}))
    ps))

(defn point-id
  "The canonical text of a parameter map (keys sorted): how results.jsonl
  names a point, so that :resume finds it again."
  [params]
  (pr-str (into (sorted-map-by #(compare (str %1) (str %2))) params)))

;; ---------------------------------------------------------------------------
;; Running one point (the same code on every engine)

(defn- plain
  "`x` as plain data (primitive arrays to vectors, floats to doubles, other
  numbers kept); anything else is an error naming `path`."
  [path x]
  (cond
    (or (nil? x) (string? x) (boolean? x) (keyword? x)) x
    (instance? Float x) (double x)
    (or (instance? Integer x) (instance? Short x) (instance? Byte x)) (long x)
    (number? x) x
    (map? x) (into {} (map (fn [[k v]] [k (plain (conj path k) v)])) x)
    (or (vector? x) (seq? x) (list? x)) (mapv #(plain (conj path %2) %1) x (range))
    (and (some? x) (.isArray (class x))) (mapv #(plain (conj path %2) %1) (seq x) (range))
    :else (bad (str "the experiment's result at " (pr-str path) " is a " (.getName (class x))
                    "; results must be plain data (numbers, strings, keywords, booleans, vectors, maps, primitive arrays)")
               {:path path :class (.getName (class x))})))

(defn experiment-fn
  "The function the fully qualified symbol `sym` names (its namespace is
  required first); an error names a symbol that does not resolve."
  [sym]
  (let [sym (if (string? sym) (symbol sym) sym)]
    (when-not (and (symbol? sym) (namespace sym))
      (bad (str "a sweep experiment must be a fully qualified symbol (my.ns/experiment), got " (pr-str sym)) {:experiment sym}))
    (let [v (try (requiring-resolve sym)
                 (catch Exception e
                   (bad (str "sweep experiment " sym ": its namespace " (namespace sym) " could not be loaded: " (.getMessage e)) {:experiment sym})))]
      (when-not v (bad (str "sweep experiment " sym ": no such var") {:experiment sym}))
      (when-not (ifn? @v) (bad (str "sweep experiment " sym ": not a function") {:experiment sym}))
      @v)))

(defn run-point
  "Runs experiment `sym` on `params` (point number `i`): a record
  {:sweep/point i :sweep/status :ok|:error :sweep/seconds s :params p
  :result r (or :sweep/error message)}. With `catch?` false a throwing
  experiment throws (so that Spark retries the task); otherwise the error is
  recorded."
  [sym i params catch?]
  (let [t0 (System/nanoTime)
        secs #(/ (- (System/nanoTime) t0) 1e9)]
    (try
      (let [r ((experiment-fn sym) params)
            _ (when-not (map? r)
                (bad (str "sweep experiment " sym " returned a " (if (nil? r) "nil" (.getName (class r))) ", not a map of results") {}))
            r (plain [] r)]
        (doseq [[k v] r :when (and (contains? params k) (not= v (get params k)))]
          (bad (str "sweep experiment " sym ": result key " k " = " (pr-str v) " is also a parameter, = " (pr-str (get params k))) {:key k}))
        (when-let [k (first (filter #(and (keyword? %) (= "sweep" (namespace %))) (keys r)))]
          (bad (str "sweep experiment " sym ": result key " k " is reserved for the sweep's own fields") {:key k}))
        {:sweep/point i :sweep/status :ok :sweep/seconds (secs) :params params :result r})
      (catch Throwable e
        (when (or (not catch?) (instance? InterruptedException e)) (throw e))
        {:sweep/point i :sweep/status :error :sweep/seconds (secs) :params params
         :sweep/error (str (.getName (class e)) ": " (.getMessage e)
                           (when-let [d (not-empty (ex-data e))] (str " " (pr-str d))))}))))

(defn run-point-edn
  "run-point for the Spark engine: parameters and the record as EDN text
  (only data crosses the process boundary)."
  ^String [^String sym i ^String params-edn catch?]
  (binding [*print-length* nil *print-level* nil *print-namespace-maps* false]
    (pr-str (run-point (symbol sym) i (clojure.edn/read-string params-edn) catch?))))

;; ---------------------------------------------------------------------------
;; The output folder

(def results-file "results.jsonl")
(def spec-file "sweep.edn")

(defn- no-link! [^File f]
  (when (Files/isSymbolicLink (.toPath f))
    (bad (str f ": is a symbolic link; a sweep writes only into a folder it owns") {:file (str f)})))

(defn- json-key [k] (if (keyword? k) (if (namespace k) (str (namespace k) "_" (name k)) (name k)) (str k)))

(defn- json-value [x]
  (cond (keyword? x) (if (namespace x) (str (namespace x) "/" (name x)) (name x))
        (and (double? x) (Double/isNaN x)) "NaN"
        (and (double? x) (Double/isInfinite x)) (if (pos? x) "Infinity" "-Infinity")
        (map? x) (into {} (map (fn [[k v]] [(json-key k) (json-value v)])) x)
        (sequential? x) (mapv json-value x)
        :else x))

(defn record->row
  "A point's record as one flat map: parameters, then results, then
  :sweep/point, :sweep/status, :sweep/seconds, :sweep/error, :sweep/id."
  [rec]
  (cond-> (merge (:params rec) (:result rec)
                 {:sweep/point (:sweep/point rec) :sweep/status (:sweep/status rec)
                  :sweep/seconds (:sweep/seconds rec) :sweep/id (point-id (:params rec))})
    (:sweep/error rec) (assoc :sweep/error (:sweep/error rec))))

(defn row->json
  "A row as results.jsonl writes it: string keys in order (:sweep/point ->
  \"sweep_point\", :lif/tau -> \"lif_tau\"), keywords as strings, NaN and
  infinities as the strings \"NaN\", \"Infinity\", \"-Infinity\"."
  [row]
  (into (sorted-map) (map (fn [[k v]] [(json-key k) (json-value v)])) row))

(defn- row->line ^String [row]
  (str (json/generate-string (row->json row)) "\n"))

(defn- append-line!
  "Appends `line` to `f` and forces it to disk before returning."
  [^File f ^String line]
  (with-open [c (FileChannel/open (.toPath f) (into-array OpenOption [StandardOpenOption/CREATE StandardOpenOption/WRITE
                                                                    StandardOpenOption/APPEND LinkOption/NOFOLLOW_LINKS]))]
    (let [b (ByteBuffer/wrap (.getBytes line StandardCharsets/UTF_8))]
      (while (.hasRemaining b) (.write c b)))
    (.force c false)))

(defn- restore-value [x]
  (cond (= x "NaN") Double/NaN (= x "Infinity") Double/POSITIVE_INFINITY (= x "-Infinity") Double/NEGATIVE_INFINITY
        (map? x) (into {} (map (fn [[k v]] [k (restore-value v)])) x)
        (sequential? x) (mapv restore-value x)
        :else x))

(defn read-results
  "The rows of DIR/results.jsonl, last row per point id. A last line cut
  short by a crash is dropped from the file (it was never a finished
  point); a damaged line before it is an error naming the line."
  [dir]
  (let [f (io/file dir results-file)]
    (no-link! f)
    (if-not (.exists f)
      []
      (let [bytes (Files/readAllBytes (.toPath f))
            text (String. bytes StandardCharsets/UTF_8)
            complete (let [i (.lastIndexOf text "\n")] (if (neg? i) "" (subs text 0 (inc i))))
            complete-bytes (alength (.getBytes ^String complete StandardCharsets/UTF_8))
            lines (str/split-lines complete)
            rows (vec (keep-indexed
                       (fn [i ^String l]
                         (when-not (str/blank? l)
                           (let [m (try (json/parse-string l)
                                        (catch Exception e
                                          (bad (str f ": line " (inc i) " is not JSON (" (.getMessage e) "); the file is damaged") {:line (inc i)})))]
                             (when-not (and (map? m) (string? (get m "sweep_id")) (integer? (get m "sweep_point")))
                               (bad (str f ": line " (inc i) " is not a sweep result (no sweep_id / sweep_point)") {:line (inc i)}))
                             m)))
                       lines))]
        (when (< complete-bytes (alength bytes))
          ;; a torn last line: cut it off (the point is run again)
          (with-open [c (FileChannel/open (.toPath f) (into-array OpenOption [StandardOpenOption/WRITE LinkOption/NOFOLLOW_LINKS]))]
            (.truncate c (long complete-bytes))
            (.force c false)))
        (vals (into {} (map (fn [m] [(get m "sweep_id") m])) rows))))))

(defn- json-row->record
  "A results.jsonl row back as a record, the parameters taken from the
  point itself (exact values, keywords kept)."
  [m params]
  (let [param-names (set (map json-key (keys params)))
        own #{"sweep_point" "sweep_status" "sweep_seconds" "sweep_error" "sweep_id"}
        result (into {} (for [[k v] m :when (not (or (own k) (param-names k)))] [(keyword k) (restore-value v)]))]
    (cond-> {:sweep/point (get m "sweep_point") :sweep/status (keyword (get m "sweep_status"))
             :sweep/seconds (get m "sweep_seconds") :params params :result result}
      (get m "sweep_error") (assoc :sweep/error (get m "sweep_error")))))

(defn- prepare-out!
  "Creates or checks the output folder; returns the records already done
  (by point index) when resuming."
  [out spec ps resume?]
  (let [d (io/file out)
        sf (io/file d spec-file)
        rf (io/file d results-file)]
    (no-link! d)
    (when (and (.exists d) (not (.isDirectory d))) (bad (str out ": exists and is not a folder") {:out (str out)}))
    (.mkdirs d)
    (no-link! sf) (no-link! rf)
    (if (.exists sf)
      (let [old (try (clojure.edn/read-string (slurp sf))
                     (catch Exception e (bad (str sf ": unreadable (" (.getMessage e) ")") {:file (str sf)})))]
        (when-not resume?
          (bad (str out ": already holds a sweep (" (:experiment old) "); pass :resume true (--resume) to run its missing points, or choose another folder")
               {:out (str out)}))
        (doseq [k [:experiment :space]]
          (when (not= (get old k) (get spec k))
            (bad (str out ": the sweep there has " k " " (pr-str (get old k)) ", not " (pr-str (get spec k)) "; resume it with the same " k " or choose another folder")
                 {:out (str out) :key k})))
        (let [by-id (into {} (map-indexed (fn [i p] [(point-id p) [i p]])) ps)]
          (into {} (for [m (read-results d)
                         :let [[i p] (by-id (get m "sweep_id"))]
                         :when i]
                     [i (json-row->record m p)]))))
      (do (when (and (.exists rf) (pos? (.length rf)))
            (bad (str rf ": results without " spec-file "; not a sweep folder chive made") {:out (str out)}))
          (files/spit! sf (binding [*print-namespace-maps* false] (pr-str spec)))
          {}))))

;; ---------------------------------------------------------------------------
;; Progress

(defn- fmt-s [s]
  (let [s (long (Math/round (double s)))]
    (cond (< s 60) (str s " s") (< s 3600) (format "%d min %02d s" (quot s 60) (rem s 60))
          :else (format "%d h %02d min" (quot s 3600) (quot (rem s 3600) 60)))))

(defn progress-line
  "\"sweep: 12/48 points, 1 failed, 30 s elapsed, ETA 1 min 30 s\"."
  [done total failed elapsed-s new-done]
  (str "sweep: " done "/" total " points"
       (when (pos? failed) (str ", " failed " failed"))
       ", " (fmt-s elapsed-s) " elapsed"
       (when (and (pos? new-done) (< done total))
         (str ", ETA " (fmt-s (* elapsed-s (/ (- total done) (double new-done))))))))

;; ---------------------------------------------------------------------------
;; Engines

(defn- local-engine
  "Runs the points `todo` ([i params] ...) on `threads` threads; each
  finished point is handed to (record! rec) on its own thread. An interrupt
  of the calling thread stops starting points, waits for the running ones
  to finish and be recorded (a second interrupt stops waiting) and
  rethrows."
  [sym todo {:keys [threads retries] :or {retries 0}} record!]
  (let [n (count todo)
        counter (AtomicInteger.)
        pool (Executors/newFixedThreadPool
              (int (max 1 (min threads n)))
              (reify ThreadFactory
                (newThread [_ r] (doto (Thread. ^Runnable r (str "chive-sweep-" (.incrementAndGet counter))) (.setDaemon true)))))
        cs (ExecutorCompletionService. pool)
        conv (get-thread-bindings)
        task (fn [[i p]]
               (fn []
                 (with-bindings conv
                   (record! (loop [attempt 0]
                              (let [r (try (run-point sym i p (>= attempt retries))
                                           (catch InterruptedException e (throw e))
                                           (catch Throwable _ ::retry))]
                                (if (= r ::retry) (recur (inc attempt)) r)))))))]
    (doseq [t todo] (.submit cs ^Callable (task t)))
    (try
      (dotimes [_ n] (.get (.take cs)))
      (catch InterruptedException e
        (let [not-started (.shutdownNow pool)]
          (binding [*out* *err*]
            (println (str "sweep: interrupted; " (count not-started) " points not started; waiting for the running ones"
                          " to finish and be saved (interrupt again to stop waiting)")))
          (try (.awaitTermination pool 365 TimeUnit/DAYS)
               (catch InterruptedException _ nil)))
        (throw e))
      (finally (.shutdownNow pool)))))

(defn- spark-engine-fn []
  (or (try (requiring-resolve 'chive.sweep.spark/run-points) (catch java.io.FileNotFoundException _ nil))
      (bad (str "the :spark engine needs chive-spark (and Spark) on the classpath: `bin/chive sweep --engine spark`,"
                " or the deps.edn alias :spark, or the Maven artifact dev.chive:chive-spark")
           {:engine :spark})))

(def ^:private opt-keys #{:out :resume :engine :threads :master :retries :on-point :progress :spark-conf :jars})

(defn default-out
  "The output folder of a sweep of `experiment` (a symbol) given no :out."
  [experiment]
  (str "target/sweeps/" (name (symbol experiment))))

(defn run!
  "Runs experiment `experiment` (a fully qualified symbol) over `space` (see
  `points`). Returns one map per point, in point order: the parameters
  merged with the results, plus :sweep/point, :sweep/status (:ok or
  :error), :sweep/seconds, :sweep/id (and :sweep/error). Options:
    :out DIR        output folder (results.jsonl grows as points finish,
                    sweep.edn names the experiment and space); default
                    target/sweeps/<experiment name>
    :resume true    continue the sweep in DIR: run only its missing points
    :engine         :local (default) or :spark
    :threads N      :local threads (default: all cores)
    :retries N      :local: attempts after a point throws (default 0);
                    :spark uses Spark's task retries (spark.task.maxFailures)
    :master URL     :spark master: local[N], spark://host:port, ... (default local[*])
    :spark-conf {}  extra Spark settings; :jars [..] jars the executors load
    :on-point f     called with each finished row
    :progress false no progress lines on *err*"
  ([experiment space] (run! experiment space {}))
  ([experiment space opts]
   (let [unknown (remove opt-keys (keys opts))]
     (when (seq unknown) (bad (str "sweep/run!: unknown option " (pr-str (first unknown)) "; valid: " (str/join " " (sort opt-keys))) {:option (first unknown)})))
   (let [sym (if (string? experiment) (symbol experiment) experiment)
         _ (experiment-fn sym)
         ps (points space)
         engine (:engine opts :local)
         _ (when-not (#{:local :spark} engine) (bad (str "sweep/run!: unknown :engine " (pr-str engine) "; valid: :local :spark") {:engine engine}))
         threads (:threads opts (.availableProcessors (Runtime/getRuntime)))
         _ (when-not (and (integer? threads) (pos? threads)) (bad (str "sweep/run! :threads must be a positive whole number, got " (pr-str threads)) {:threads threads}))
         out (io/file (or (:out opts) (default-out sym)))
         ;; spark-submit passes its --master as the system property spark.master
         master (or (:master opts) (System/getProperty "spark.master") "local[*]")
         spec {:experiment sym :space space}
         done0 (prepare-out! out spec ps (:resume opts))
         todo (vec (for [[i p] (map-indexed vector ps) :when (not (done0 i))] [i p]))
         total (count ps)
         records (atom done0)
         failed (atom (count (filter #(= :error (:sweep/status %)) (vals done0))))
         t0 (System/nanoTime)
         rf (io/file out results-file)
         lock (Object.)
         progress? (:progress opts true)
         record! (fn [rec]
                   (let [row (record->row rec)]
                     (locking lock
                       (when-not (contains? @records (:sweep/point rec)) ; a duplicate (retried) task is written once
                         (append-line! rf (row->line row))
                         (swap! records assoc (:sweep/point rec) rec)
                         (when (= :error (:sweep/status rec)) (swap! failed inc))
                         (when progress?
                           (binding [*out* *err*]
                             (println (progress-line (count @records) total @failed (/ (- (System/nanoTime) t0) 1e9)
                                                     (- (count @records) (count done0))))))
                         (when-let [f (:on-point opts)] (f row))))))]
     (when progress?
       (binding [*out* *err*]
         (println (str "sweep: " sym ", " total " points" (when (seq done0) (str ", " (count done0) " already in " out))
                       ", engine " (name engine) (if (= engine :local) (str ", " threads " threads") (str ", master " master))
                       ", results in " (.getPath rf)))))
     (when (seq todo)
       (case engine
         :local (local-engine sym todo {:threads threads :retries (:retries opts 0)} record!)
         :spark ((spark-engine-fn) sym todo (assoc opts :out (str out) :master master) record!)))
     (let [recs @records]
       (when-let [missing (seq (remove recs (range total)))]
         (bad (str "sweep: " (count missing) " points have no result (first: " (pr-str (nth ps (first missing))) ")") {:missing (vec missing)}))
       (mapv #(record->row (recs %)) (range total))))))

(defn results
  "The rows a sweep folder holds (see run!), in point order, without
  running anything: parameters are read back from results.jsonl as JSON
  gives them."
  [out]
  (->> (read-results out)
       (map (fn [m] (into {} (for [[k v] m]
                               (if (str/starts-with? k "sweep_")
                                 [(keyword "sweep" (subs k 6)) (if (= k "sweep_status") (keyword v) v)]
                                 [(keyword k) (restore-value v)])))))
       (sort-by :sweep/point)
       vec))
