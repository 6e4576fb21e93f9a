(ns chive.sweep.spark-test
  "The :spark engine against the :local one: embedded local[N], task
  retries, and a real standalone cluster (Spark's own Master and Worker as
  separate JVMs on 127.0.0.1)."
  (:require [chive.sweep :as sweep]
            [chive.sweep.spark :as spark]
            [chive.sweep.spark-cluster :as cluster]
            [chive.sweep-experiments]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]])
  (:import (java.io File)
           (java.lang ProcessHandle)
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

(deftest standalone-cluster-gives-the-local-results
  (let [c (atom nil)]
    (try
      (reset! c (cluster/start! {:cores 2 :memory "1g" :timeout-s 60}))
      (let [d (tmp-dir)
            rows (quiet #(sweep/run! 'chive.experiments.brunel/point brunel-space
                                     {:out d :engine :spark :master (:master-url @c)
                                      :spark-conf {"spark.executor.memory" "512m" "spark.cores.max" "2"}}))]
        (is (= (stable @local-rows) (stable rows)) "the cluster's rows are the :local engine's")
        (is (.isDirectory (io/file d "results.parquet")))
        (is (seq (filter #(str/starts-with? % "app-") (.list (io/file (:logs @c) "work"))))
            "the points ran in an executor the worker launched"))
      (finally
        (when-let [cl @c]
          (let [all (vec (cluster/processes cl))]
            (is (cluster/stop! cl))
            (is (not-any? #(.isAlive ^ProcessHandle %) all) "master, worker and executors are gone")))))))

(deftest executors-get-an-absolute-classpath
  (is (= (str (.getAbsolutePath (io/file "spark/target/classes")) File/pathSeparator "/abs/x.jar")
         (spark/absolute-classpath (str "spark/target/classes" File/pathSeparator File/pathSeparator "/abs/x.jar")))
      "a worker starts executors in its own folder: relative entries (as bin/chive's classpath has) would not resolve"))

(deftest a-local-sweep-folder-becomes-parquet
  (let [d (tmp-dir)]
    (quiet #(sweep/run! 'chive.experiments.brunel/point brunel-space {:out d :threads 2}))
    (is (str/ends-with? (spark/parquet! d) "results.parquet"))
    (let [s (.getOrCreate (.master (SparkSession/builder) "local[1]"))]
      (try
        (is (= 16 (.count (.parquet (.read s) (into-array String [(str (io/file d "results.parquet"))])))) "every point in the Parquet file")
        (finally (.stop s))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"holds no results.jsonl" (spark/parquet! (tmp-dir))))))
