(ns chive.sweep.spark-test
  "The :spark engine against the :local one: embedded local[N], task
  retries, and a real standalone cluster (Spark's own Master and Worker as
  separate JVMs on 127.0.0.1)."
  (:require [chive.sweep :as sweep]
            [chive.sweep.spark :as spark]
            [chive.sweep-experiments]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]])
  (:import (java.io File)
           (java.net ServerSocket URI)
           (java.net.http HttpClient HttpRequest HttpResponse$BodyHandlers)
           (java.nio.file Files)
           (java.nio.file.attribute FileAttribute)
           (org.apache.spark.sql SparkSession)))

(defn- tmp-dir ^File [] (.toFile (Files/createTempDirectory "chive-spark" (make-array FileAttribute 0))))

(defn- stable [rows]
  (mapv #(pr-str (into (sorted-map-by (fn [a b] (compare (str a) (str b)))) (dissoc % :sweep/seconds :run-s))) rows))

(defn- quiet [f] (binding [*err* (java.io.StringWriter.)] (f)))

(def brunel-space
  "16 small Brunel networks (g x eta x seed)."
  {:grid {:g [3.0 4.5 5.0 6.0] :eta [1.0 2.0]} :seeds 2 :fixed {:n 400 :ce 80 :duration-ms 100}})

(def local-rows (delay (quiet #(sweep/run! 'chive.experiments.brunel/point brunel-space {:out (tmp-dir) :threads 2}))))

(deftest max-failures-of-masters
  (is (= 1 (spark/max-failures "local[2]" {})))
  (is (= 1 (spark/max-failures "local[*]" {})))
  (is (= 3 (spark/max-failures "local[2,3]" {})))
  (is (= 4 (spark/max-failures "spark://127.0.0.1:7077" {})))
  (is (= 2 (spark/max-failures "spark://127.0.0.1:7077" {"spark.task.maxFailures" "2"}))))

(deftest embedded-spark-gives-the-local-results
  (let [d (tmp-dir)
        rows (quiet #(sweep/run! 'chive.experiments.brunel/point brunel-space {:out d :engine :spark :master "local[2]"}))]
    (is (= 16 (count rows)))
    (is (every? #(= :ok (:sweep/status %)) rows))
    (is (= (stable @local-rows) (stable rows)) "the same rows as the :local engine")
    (testing "results.parquet holds every point (read back with Spark)"
      (let [s (.getOrCreate (.master (SparkSession/builder) "local[1]"))]
        (try
          (let [df (.parquet (.read s) (into-array String [(str (io/file d "results.parquet"))]))]
            (is (= 16 (.count df)))
            (is (= (set (map :sweep/id rows)) (set (map #(.getString ^org.apache.spark.sql.Row % 0) (.collectAsList (.select df "sweep_id" (make-array String 0))))))))
          (finally (.stop s)))))))

(deftest spark-task-retries-and-failures
  (testing "a point that throws on its first attempt completes under Spark's retry, with one result"
    (let [marks (tmp-dir)
          d (tmp-dir)
          rows (quiet #(sweep/run! 'chive.sweep-experiments/flaky {:grid {:x [1 2 3 4]} :fixed {:dir (str marks)}}
                                   {:out d :engine :spark :master "local[2,2]"}))]
      (is (= [:ok :ok :ok :ok] (map :sweep/status rows)))
      (is (= [10 20 30 40] (map :y rows)))
      (is (= 4 (count (str/split-lines (slurp (io/file d "results.jsonl"))))) "one line per point")
      (is (= 4 (count (.list marks))) "each point's first attempt ran (and threw)")))
  (testing "a point that throws on its last attempt is recorded; the sweep goes on"
    (let [rows (quiet #(sweep/run! 'chive.sweep-experiments/picky {:grid {:x [1 2 3]}} {:out (tmp-dir) :engine :spark :master "local[2]"}))]
      (is (= [:ok :error :ok] (map :sweep/status rows)))
      (is (re-find #"x = 2 is refused" (:sweep/error (second rows)))))))

(defn- free-port [] (with-open [s (ServerSocket. 0)] (.getLocalPort s)))

(defn- spark-home
  "A SPARK_HOME whose jars/ links every jar of this JVM's classpath (what
  Spark's launcher puts on an executor's classpath)."
  ^File []
  (let [home (tmp-dir) jars (io/file home "jars")]
    (.mkdirs jars)
    (doseq [p (str/split (System/getProperty "java.class.path") #":")
            :let [f (io/file p)]
            :when (and (.isFile f) (str/ends-with? p ".jar"))
            :let [link (io/file jars (.getName f))]
            :when (not (.exists link))]
      (Files/createSymbolicLink (.toPath link) (.toPath (.getAbsoluteFile f)) (make-array FileAttribute 0)))
    home))

(defn- start-jvm ^Process [home log main & args]
  (let [java (str (System/getProperty "java.home") "/bin/java")
        opens (vec (.getInputArguments (java.lang.management.ManagementFactory/getRuntimeMXBean)))
        cmd (concat [java "-Xmx512m"] (filter #(or (str/starts-with? % "--add-opens") (str/starts-with? % "-D")) opens)
                    ["-cp" (System/getProperty "java.class.path") main] args)
        pb (doto (ProcessBuilder. ^java.util.List (vec cmd))
             (.redirectErrorStream true)
             (.redirectOutput (io/file log)))]
    (doto (.environment pb)
      (.put "SPARK_HOME" (str home))
      (.put "SPARK_SCALA_VERSION" "2.13")
      (.put "SPARK_LOCAL_IP" "127.0.0.1"))
    (.start pb)))

(defn- http-get [url]
  (try (.body (.send (HttpClient/newHttpClient) (.build (HttpRequest/newBuilder (URI. url))) (HttpResponse$BodyHandlers/ofString)))
       (catch Exception _ nil)))

(deftest standalone-cluster-gives-the-local-results
  (let [home (spark-home)
        logs (tmp-dir)
        port (free-port) ui (free-port) wui (free-port)
        master (start-jvm home (io/file logs "master.log") "org.apache.spark.deploy.master.Master"
                          "--host" "127.0.0.1" "--port" (str port) "--webui-port" (str ui))
        worker (atom nil)
        procs #(concat (keep identity [master @worker])
                       (mapcat (fn [^Process p] (iterator-seq (.iterator (.descendants p)))) (keep identity [master @worker])))]
    (try
      (reset! worker (start-jvm home (io/file logs "worker.log") "org.apache.spark.deploy.worker.Worker"
                                (str "spark://127.0.0.1:" port) "--host" "127.0.0.1" "--cores" "2" "--memory" "1g"
                                "--webui-port" (str wui) "--work-dir" (str (io/file logs "work"))))
      (let [ready (loop [k 0]
                    (cond (some->> (http-get (str "http://127.0.0.1:" ui "/json/")) (re-find #"\"aliveworkers\"\s*:\s*1")) true
                          (> k 240) false
                          :else (do (Thread/sleep 250) (recur (inc k)))))]
        (is ready (str "the worker registered with the master; logs in " logs))
        (when ready
          (let [d (tmp-dir)
                rows (quiet #(sweep/run! 'chive.experiments.brunel/point brunel-space
                                         {:out d :engine :spark :master (str "spark://127.0.0.1:" port)
                                          :spark-conf {"spark.executor.memory" "512m" "spark.cores.max" "2"}}))]
            (is (= (stable @local-rows) (stable rows)) "the cluster's rows are the :local engine's")
            (is (.isDirectory (io/file d "results.parquet")))
            (is (seq (filter #(str/starts-with? % "app-") (.list (io/file logs "work"))))
                "the points ran in an executor the worker launched"))))
      (finally
        (let [all (vec (procs))]
          (doseq [p all] (if (instance? Process p) (.destroyForcibly ^Process p) (.destroyForcibly ^java.lang.ProcessHandle p)))
          (doseq [p all] (if (instance? Process p) (.waitFor ^Process p) (try (.get (.onExit ^java.lang.ProcessHandle p)) (catch Exception _ nil))))
          (is (not-any? #(if (instance? Process %) (.isAlive ^Process %) (.isAlive ^java.lang.ProcessHandle %)) all)
              "master, worker and executors are gone"))))))
