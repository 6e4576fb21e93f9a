(ns chive.sweep.spark
  "The :spark engine of chive.sweep (module chive-spark; deps.edn alias
  :spark). Each point is one Spark task (chive.spark.PointTasks): the
  executor requires the experiment's namespace and calls its var on the
  point's parameters, sent as EDN text; the record comes back as EDN text.
  Results reach the driver as each task finishes and are written there, so
  the output folder is the driver's. Spark's task retries re-run a point
  that threw (all attempts but the last rethrow); a retried or speculative
  copy of a task is recorded once.

  Masters: local[N] (embedded, no retries), local[N,F] (F attempts per
  task), spark://host:port (a standalone cluster), and whatever
  SparkSession accepts. On spark:// masters, executors need chive's classes:
  give :jars (the jar `bin/chive uberjar` builds), or, when the workers run
  on this machine, nothing: the driver's classpath is passed as
  spark.executor.extraClassPath."
  (:require [clojure.string :as str]
            [clojure.java.io :as io])
  (:import (chive.spark PointTasks PointTasks$Sink)
           (java.nio.file Files FileVisitResult LinkOption Path SimpleFileVisitor StandardCopyOption)
           (org.apache.spark.api.java JavaSparkContext)
           (org.apache.spark.sql Encoders SaveMode SparkSession)))

(set! *warn-on-reflection* true)

(defn max-failures
  "Attempts Spark allows each task under `master` and `conf` (a map of
  Spark settings): local[N] 1, local[N,F] F, otherwise
  spark.task.maxFailures (default 4)."
  [master conf]
  (if-let [[_ _ f] (re-matches #"local\[([^,\]]+),(\d+)\]" master)]
    (Long/parseLong f)
    (if (str/starts-with? master "local")
      1
      (Long/parseLong (str (get conf "spark.task.maxFailures" "4"))))))

(defn absolute-classpath
  "A classpath string with every entry made absolute (relative to this JVM's working folder)."
  [^String cp]
  (->> (str/split cp (re-pattern java.io.File/pathSeparator))
       (remove str/blank?)
       (map #(.getAbsolutePath (io/file %)))
       (str/join java.io.File/pathSeparator)))

(defn executor-conf
  "Spark settings a sweep needs on `master` besides the user's."
  [master jars]
  (merge {"spark.driver.host" "127.0.0.1"
          "spark.ui.enabled" "false"
          "spark.log.level" "WARN"
          "spark.executor.extraJavaOptions" "--add-modules jdk.incubator.vector"}
         (cond
           (seq jars) {"spark.jars" (str/join "," jars)}
           ;; under spark-submit the application jar reaches the executors already
           (System/getProperty "spark.submit.deployMode") {}
           ;; absolute: executors run in the worker's own folder
           (str/starts-with? master "spark://") {"spark.executor.extraClassPath" (absolute-classpath (System/getProperty "java.class.path"))}
           :else {})))

(defn session
  "A SparkSession for `master` with settings `conf` (string -> string).
  Returns [session created?]: an existing default session on the same
  master is reused (and not stopped by the sweep)."
  ^objects [^String master conf]
  (let [o (SparkSession/getDefaultSession)
        existing (when (.isDefined o) (.get o))]
    (if (and existing (= master (.master (.sparkContext ^SparkSession existing))))
      (object-array [existing false])
      (let [b (reduce (fn [^org.apache.spark.sql.SparkSession$Builder b [k v]] (.config b (str k) (str v)))
                      (.appName (.master (SparkSession/builder) master) "chive sweep")
                      conf)]
        (object-array [(.getOrCreate ^org.apache.spark.sql.SparkSession$Builder b) true])))))

(defn- delete-tree!
  "Deletes folder `p` and what it holds; symbolic links are deleted as
  links, never followed."
  [^Path p]
  (when (Files/exists p (into-array LinkOption [LinkOption/NOFOLLOW_LINKS]))
    (Files/walkFileTree p (proxy [SimpleFileVisitor] []
                            (visitFile [f _] (Files/delete f) FileVisitResult/CONTINUE)
                            (postVisitDirectory [d _] (Files/delete d) FileVisitResult/CONTINUE)))))

(defn data-frame
  "The results of sweep folder `out` as a Spark DataFrame (from its
  results.jsonl), on `spark`."
  [^SparkSession spark out]
  (let [lines (vec (remove str/blank? (str/split-lines (slurp (io/file out "results.jsonl")))))]
    (.json (.read spark) (.createDataset spark ^java.util.List lines (Encoders/STRING)))))

(defn write-parquet!
  "Writes the lines of OUT/results.jsonl as OUT/results.parquet (a Spark
  Parquet folder, one file), replacing an earlier one only once the new one
  is complete."
  [^SparkSession spark out]
  (let [target (.toPath (io/file out "results.parquet"))
        tmp (.toPath (io/file out (str ".results.parquet.tmp-" (System/nanoTime))))
        old (.toPath (io/file out (str ".results.parquet.old-" (System/nanoTime))))]
    (when (Files/isSymbolicLink target)
      (throw (ex-info (str target ": is a symbolic link; not replacing it") {:file (str target)})))
    (-> ^org.apache.spark.sql.Dataset (data-frame spark out)
        (.coalesce 1) (.write) (.mode SaveMode/ErrorIfExists) (.parquet (str tmp)))
    (when (Files/exists target (into-array LinkOption [LinkOption/NOFOLLOW_LINKS]))
      (Files/move target old (into-array java.nio.file.CopyOption [StandardCopyOption/ATOMIC_MOVE])))
    (Files/move tmp target (into-array java.nio.file.CopyOption [StandardCopyOption/ATOMIC_MOVE]))
    (delete-tree! old)
    (str target)))

(defn parquet!
  "Writes sweep folder `out`'s results.jsonl as out/results.parquet on a
  local Spark session (the default one if there is one, else an embedded
  local[1] stopped afterwards): Parquet for a sweep run on the :local engine
  (`bin/chive sweep ... --parquet`). Returns the Parquet folder's path."
  [out]
  (when-not (.isFile (io/file out "results.jsonl"))
    (throw (ex-info (str "parquet: " out " holds no results.jsonl (not a sweep folder?)") {:out (str out)})))
  (let [o (SparkSession/getDefaultSession)
        [spark created?] (if (.isDefined o)
                           [(.get o) false]
                           [(-> (SparkSession/builder) (.master "local[1]") (.appName "chive sweep parquet")
                                (.config "spark.ui.enabled" "false") (.config "spark.log.level" "WARN") (.getOrCreate))
                            true])]
    (try
      (write-parquet! spark out)
      (finally (when created? (.stop ^SparkSession spark))))))

(defn run-points
  "chive.sweep's :spark engine: runs `todo` ([index params] ...) of
  experiment `sym` on `master` (chive.sweep/run! resolves the default) and
  calls (record! rec) on the driver for each finished point; then writes
  OUT/results.parquet."
  [sym todo {:keys [master spark-conf jars out]} record!]
  (let [conf (merge (executor-conf master jars) spark-conf)
        [spark created?] (session master conf)
        ^SparkSession spark spark
        jsc (JavaSparkContext/fromSparkContext (.sparkContext spark))
        group (str "chive-sweep-" (System/nanoTime))
        mf (int (max-failures master conf))
        conv (get-thread-bindings)]
    (try
      (.setJobGroup jsc group (str "chive sweep " sym) true)
      (try
        (PointTasks/run jsc (str sym) (mapv (comp long first) todo)
                        (binding [*print-length* nil *print-level* nil *print-namespace-maps* false]
                          (mapv (comp pr-str second) todo))
                        mf
                        (reify PointTasks$Sink
                          (accept [_ _ rec] (with-bindings conv (record! (clojure.edn/read-string rec))))))
        (catch InterruptedException e
          (.cancelJobGroup jsc group)
          (throw e)))
      (when out (write-parquet! spark out))
      (finally
        (.clearJobGroup jsc)
        (when created? (.stop spark))))))
