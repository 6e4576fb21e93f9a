(ns chive.sweep-test
  (:require [cheshire.core :as json]
            [chive.experiments.brunel :as brunel]
            [chive.experiments.randman :as randman]
            [chive.sweep :as sweep]
            [chive.sweep-experiments]
            [chive.impl.cmd.sweep :as sweep-cmd]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]])
  (:import (java.io File)
           (java.nio.file Files)
           (java.nio.file.attribute FileAttribute)))

(defn- tmp-dir ^File [] (.toFile (Files/createTempDirectory "chive-sweep" (make-array FileAttribute 0))))

(defn- stable
  "Rows without their wall times, NaN-safe for comparison."
  [rows]
  (mapv #(pr-str (into (sorted-map-by (fn [a b] (compare (str a) (str b)))) (dissoc % :sweep/seconds :run-s))) rows))

(defn- quiet [f] (binding [*err* (java.io.StringWriter.)] (f)))

(deftest spaces
  (is (= [{:a :x :b 1 :seed 1 :n 3} {:a :x :b 1 :seed 2 :n 3} {:a :x :b 2 :seed 1 :n 3} {:a :x :b 2 :seed 2 :n 3}
          {:a :y :b 1 :seed 1 :n 3} {:a :y :b 1 :seed 2 :n 3} {:a :y :b 2 :seed 1 :n 3} {:a :y :b 2 :seed 2 :n 3}]
         (sweep/points {:grid {:b [1 2] :a [:x :y]} :seeds 2 :fixed {:n 3}}))
      "grid keys in name order, the last fastest; seeds 1..N innermost; :fixed merged")
  (is (= [{:x 1 :seed 7} {:x 1 :seed 9} {:x 2 :seed 7} {:x 2 :seed 9}] (sweep/points {:list [{:x 1} {:x 2}] :seeds [7 9]})))
  (is (= [{:x 1} {:x 2} {:y 1}] (sweep/points [{:grid {:x [1 2]}} {:list [{:y 1}]}])) "a vector of spaces concatenates")
  (let [r (sweep/points {:random {:n 200 :seed 3 :params {:lr [:log-uniform 1e-3 1e-1] :u [:uniform -1 1]
                                                         :k [:int 2 4] :c [:choice [:a :b]]}}})]
    (is (= r (sweep/points {:random {:n 200 :seed 3 :params {:c [:choice [:a :b]] :k [:int 2 4] :lr [:log-uniform 1e-3 1e-1]
                                                             :u [:uniform -1 1]}}}))
        "samples depend on the seed and the distributions, not on map order")
    (is (not= r (sweep/points {:random {:n 200 :seed 4 :params {:lr [:log-uniform 1e-3 1e-1] :u [:uniform -1 1]
                                                                :k [:int 2 4] :c [:choice [:a :b]]}}})))
    (is (every? #(<= 1e-3 (:lr %) 1e-1) r))
    (is (every? #(<= -1 (:u %) 1) r))
    (is (= #{2 3 4} (set (map :k r))))
    (is (= #{:a :b} (set (map :c r))))
    (is (< 0.2 (/ (count (filter #(< (:lr %) 1e-2) r)) 200.0) 0.8) "log-uniform: half the samples below the geometric middle"))
  (doseq [[space msg] [[{:grid {:x []}} #":grid :x: needs a non-empty vector of values"]
                       [{:grid {:x [1]} :list [{:x 2}]} #"needs exactly one of :grid, :list, :random"]
                       [{:grid {:x [1]} :sead 3} #"unknown key :sead"]
                       [{:list [{:x 1} {:x 1}]} #"the point \{:x 1\} occurs 2 times"]
                       [{:grid {:x [1]} :seeds 0} #":seeds must be a positive count"]
                       [{:random {:n 3 :seed 1 :params {:x [:gauss 0 1]}}} #":random :x: unknown distribution \[:gauss 0 1\]"]
                       [{:random {:n 3 :seed 1 :params {:x [:log-uniform 0 1]}}} #"unknown distribution \[:log-uniform 0 1\]"]
                       [[:grid] #"must be a map"]]]
    (is (thrown-with-msg? clojure.lang.ExceptionInfo msg (sweep/points space)) (pr-str space))))

(deftest local-engine-results-resume-and-errors
  (let [space {:grid {:g [4.0 5.0 6.0] :eta [1.0 2.0]} :seeds 2 :fixed {:n 500 :ce 100 :duration-ms 150}}
        d1 (tmp-dir) d2 (tmp-dir)
        one (quiet #(sweep/run! 'chive.experiments.brunel/point space {:out d1 :threads 1}))
        two (quiet #(sweep/run! 'chive.experiments.brunel/point space {:out d2 :threads 2}))]
    (testing "one row per point, in point order, parameters merged with results"
      (is (= 12 (count one)))
      (is (= (range 12) (map :sweep/point one)))
      (is (= (sweep/points space) (map #(select-keys % [:g :eta :seed :n :ce :duration-ms]) one)))
      (is (every? #(= :ok (:sweep/status %)) one))
      (is (every? #(pos? (:spikes %)) one))
      (is (= (stable [(dissoc (first one) :sweep/point :sweep/status :sweep/id :g :eta :seed :n :ce :duration-ms)])
             (stable [(brunel/point (first (sweep/points space)))]))
          "a row holds what the experiment returns for its point"))
    (is (= (stable one) (stable two)) "1 and 2 threads give the same results")
    (testing "results.jsonl: one JSON object per point; sweep.edn names the sweep"
      (let [lines (str/split-lines (slurp (io/file d1 "results.jsonl")))]
        (is (= 12 (count lines)))
        (is (= (set (map :sweep/id one)) (set (map #(get (json/parse-string %) "sweep_id") lines)))))
      (is (= {:experiment 'chive.experiments.brunel/point :space space} (read-string (slurp (io/file d1 "sweep.edn")))))
      (is (= (stable one) (stable (map #(merge % (select-keys (nth one (:sweep/point %)) [:g :eta :seed :n :ce :duration-ms]))
                                       (sweep/results d1))))
          "results read back from the folder are the run's"))
    (testing "a folder that holds a sweep is never overwritten"
      (is (thrown-with-msg? clojure.lang.ExceptionInfo #"already holds a sweep \(chive.experiments.brunel/point\); pass :resume true"
                            (quiet #(sweep/run! 'chive.experiments.brunel/point space {:out d1}))))
      (is (thrown-with-msg? clojure.lang.ExceptionInfo #"the sweep there has :space .*resume it with the same :space"
                            (quiet #(sweep/run! 'chive.experiments.brunel/point (assoc space :seeds 3) {:out d1 :resume true}))))
      (is (thrown-with-msg? clojure.lang.ExceptionInfo #"the sweep there has :experiment chive.experiments.brunel/point, not chive.sweep-experiments/picky"
                            (quiet #(sweep/run! 'chive.sweep-experiments/picky space {:out d1 :resume true})))))
    (testing ":resume runs only the missing points; a torn last line is cut off and its point run again"
      (let [f (io/file d1 "results.jsonl")
            lines (str/split-lines (slurp f))
            kept (take 7 lines)]
        (spit f (str (str/join "\n" kept) "\n" (subs (nth lines 7) 0 25)))
        (let [ran (atom 0)
              again (quiet #(sweep/run! 'chive.experiments.brunel/point space {:out d1 :resume true :on-point (fn [_] (swap! ran inc))}))]
          (is (= 5 @ran))
          (is (= (stable one) (stable again)))
          (is (= 12 (count (str/split-lines (slurp f)))))
          (is (= 12 (count (set (map #(get (json/parse-string %) "sweep_id") (str/split-lines (slurp f))))))
              "no point twice"))))
    (testing "a damaged line before the last is an error naming it"
      (let [f (io/file d2 "results.jsonl")
            lines (vec (str/split-lines (slurp f)))]
        (spit f (str (str/join "\n" (assoc lines 3 "{\"sweep_id\": garbage")) "\n"))
        (is (thrown-with-msg? clojure.lang.ExceptionInfo #"results.jsonl: line 4 is not JSON"
                              (quiet #(sweep/run! 'chive.experiments.brunel/point space {:out d2 :resume true}))))))))

(deftest failing-points-are-recorded-and-the-sweep-goes-on
  (let [d (tmp-dir)
        rows (quiet #(sweep/run! 'chive.sweep-experiments/picky {:grid {:x [1 2 3]}} {:out d}))]
    (is (= [:ok :error :ok] (map :sweep/status rows)))
    (is (= [2 nil 4] (map :y rows)))
    (is (re-find #"ExceptionInfo: x = 2 is refused \{:x 2\}" (:sweep/error (second rows))))
    (is (= 2 (:x (second rows))) "the error row keeps its parameters")
    (is (= {2 "error" 1 "ok" 3 "ok"}
           (into {} (map #(let [m (json/parse-string %)] [(get m "x") (get m "sweep_status")]) (str/split-lines (slurp (io/file d "results.jsonl"))))))))
  (testing ":retries: a point that throws once completes, with one result"
    (let [marks (tmp-dir)
          rows (quiet #(sweep/run! 'chive.sweep-experiments/flaky {:grid {:x [1 2 3]} :fixed {:dir (str marks)}}
                                   {:out (tmp-dir) :retries 1}))]
      (is (= [:ok :ok :ok] (map :sweep/status rows)))
      (is (= [10 20 30] (map :y rows)))
      (is (= [1 1 1] (map :attempts rows)) "the experiment saw its first attempt fail")))
  (testing "results that are not plain data are errors naming the key"
    (let [rows (quiet #(sweep/run! 'chive.sweep-experiments/not-data {:list [{:x 1}]} {:out (tmp-dir)}))]
      (is (re-find #"result at \[:f\] is a .*results must be plain data" (:sweep/error (first rows)))))
    (let [rows (quiet #(sweep/run! 'chive.sweep-experiments/not-a-map {:list [{:x 1}]} {:out (tmp-dir)}))]
      (is (re-find #"returned a clojure.lang.PersistentVector, not a map of results" (:sweep/error (first rows))))))
  (testing "bad experiments, options and folders"
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"fully qualified symbol \(my.ns/experiment\), got picky"
                          (sweep/run! 'picky {:list [{:x 1}]})))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"sweep experiment chive.sweep-experiments/nope: no such var"
                          (sweep/run! 'chive.sweep-experiments/nope {:list [{:x 1}]})))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"its namespace no.such.ns could not be loaded"
                          (sweep/run! 'no.such.ns/f {:list [{:x 1}]})))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown option :thread; valid:"
                          (sweep/run! 'chive.sweep-experiments/picky {:list [{:x 1}]} {:thread 2})))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown :engine :yarn; valid: :local :spark"
                          (sweep/run! 'chive.sweep-experiments/picky {:list [{:x 1}]} {:engine :yarn :out (tmp-dir)})))
    (let [real (tmp-dir) link (io/file (tmp-dir) "link")]
      (Files/createSymbolicLink (.toPath link) (.toPath real) (make-array FileAttribute 0))
      (is (thrown-with-msg? clojure.lang.ExceptionInfo #"is a symbolic link"
                            (quiet #(sweep/run! 'chive.sweep-experiments/picky {:list [{:x 1}]} {:out link}))))
      (is (empty? (.list real)) "nothing written through the link"))))

(defn- java-cmd
  "A command line starting a JVM on this JVM's classpath that evaluates `form`."
  [form]
  [(str (System/getProperty "java.home") "/bin/java") "-cp" (System/getProperty "java.class.path")
   "clojure.main" "-e" (pr-str form)])

(deftest kill-9-mid-sweep-then-resume
  (let [d (tmp-dir)
        space {:grid {:x (vec (range 16))} :fixed {:ms 150}}
        form `(do (require 'chive.sweep 'chive.sweep-experiments)
                  (chive.sweep/run! 'chive.sweep-experiments/slow-square ~space {:out ~(str d) :threads 2}))
        p (.start (doto (ProcessBuilder. ^java.util.List (java-cmd form)) (.redirectErrorStream true)
                    (.redirectOutput (io/file d "child.log"))))
        f (io/file d "results.jsonl")
        lines #(if (.exists f) (count (str/split-lines (slurp f))) 0)]
    (try
      (loop [k 0] (when (and (< (lines) 5) (< k 600)) (Thread/sleep 50) (recur (inc k))))
      (.destroyForcibly p) ; SIGKILL
      (.waitFor p)
      (let [before (lines)]
        (is (<= 5 before 15) (str "killed mid-sweep, after " before " points"))
        (let [ran (atom 0)
              rows (quiet #(sweep/run! 'chive.sweep-experiments/slow-square space {:out d :resume true :on-point (fn [_] (swap! ran inc))}))]
          (is (= (- 16 before) @ran) "only the missing points ran")
          (is (= (mapv #(* % %) (range 16)) (mapv :y rows)))
          (let [ids (map #(get (json/parse-string %) "sweep_id") (str/split-lines (slurp f)))]
            (is (= 16 (count ids) (count (set ids))) "complete and duplicate-free"))))
      (finally (.destroyForcibly p)))))

(deftest interrupt-stops-between-points-keeping-what-finished
  (let [d (tmp-dir)
        space {:grid {:x (vec (range 40))} :fixed {:ms 100}}
        err (java.io.StringWriter.)
        fut (future (binding [*err* err] (sweep/run! 'chive.sweep-experiments/slow-square space {:out d :threads 2})))
        f (io/file d "results.jsonl")]
    (loop [k 0] (when (and (not (and (.exists f) (<= 4 (count (str/split-lines (slurp f)))))) (< k 400)) (Thread/sleep 25) (recur (inc k))))
    (future-cancel fut) ; interrupts the sweep's thread, as nREPL's interrupt does
    (Thread/sleep 400)
    (let [n (count (str/split-lines (slurp f)))]
      (is (<= 4 n 39) "stopped early")
      (Thread/sleep 300)
      (is (= n (count (str/split-lines (slurp f)))) "no point starts after the interrupt")
      (is (re-find #"interrupted; \d+ points not started" (str err)))
      (let [rows (quiet #(sweep/run! 'chive.sweep-experiments/slow-square space {:out d :resume true}))]
        (is (= (mapv #(* % %) (range 40)) (mapv :y rows)))))))

(deftest progress-lines
  (is (= "sweep: 12/48 points, 1 failed, 30 s elapsed, ETA 1 min 30 s" (sweep/progress-line 12 48 1 30.0 12)))
  (is (= "sweep: 48/48 points, 2 h 01 min elapsed" (sweep/progress-line 48 48 0 7290.0 48))))

(deftest sweep-command-prints-one-json-line-per-point
  (let [d (tmp-dir)
        spec (io/file d "spec.edn")
        out (io/file d "out")]
    (spit spec (pr-str {:experiment 'chive.sweep-experiments/picky :space {:grid {:x [1 2 3]}} :out (str out)}))
    (let [err (java.io.StringWriter.)
          stdout (with-out-str (binding [*err* err] (is (= 0 (sweep-cmd/command [(str spec) "--threads" "1"])))))
          rows (map #(json/parse-string % true) (str/split-lines stdout))]
      (is (= [1 2 3] (map :x rows)))
      (is (= ["ok" "error" "ok"] (map :sweep_status rows)))
      (is (= [2 nil 4] (map :y rows)))
      (is (re-find #"sweep: 3/3 points, 1 failed" (str err))))
    (let [err (java.io.StringWriter.)]
      (binding [*err* err]
        (is (= 2 (sweep-cmd/command [(str spec)])) "the folder holds the sweep: refused without --resume")
        (is (= 0 (sweep-cmd/command [(str spec) "--resume"])))
        (is (= 2 (sweep-cmd/command [(str (io/file d "nope.edn"))])))
        (spit (io/file d "bad.edn") (pr-str {:experiment 'a/b :spaec {}}))
        (is (= 2 (sweep-cmd/command [(str (io/file d "bad.edn"))])))
        (is (= 2 (sweep-cmd/command [(str spec) "--engine" "yarn"])))
        (is (= 2 (sweep-cmd/command [(str spec) "--resume" "--master" "local[2]"]))))
      (is (re-find #"already holds a sweep" (str err)))
      (is (re-find #"no such spec file" (str err)))
      (is (re-find #"bad.edn lacks :space" (str err)))
      (is (re-find #"--engine yarn: must be one of local, spark" (str err)))
      (is (re-find #"--master is for --engine spark" (str err))))))

(deftest randman-experiment-trains-on-the-bench-task
  (testing "a validation point: per-epoch accuracies on the held-out cut, the same for the same seed"
    (let [p {:epochs 2 :validate 160 :seed 1 :lr 0.02}
          r (randman/point p)]
      (is (= "validation" (:acc-on r)))
      (is (= 2 (count (:acc-per-epoch r))))
      (is (= (:acc r) (peek (:acc-per-epoch r))))
      (is (< 0.75 (:acc r) 1.0001) (str "Randman learns within 2 epochs at lr 2e-2: " r))
      (is (= (:acc-per-epoch r) (:acc-per-epoch (randman/point p))))))
  (testing "bad parameters are refused by name"
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":lr must be a positive number, got -1" (randman/point {:lr -1})))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":epochs must be a positive integer, got 0" (randman/point {:epochs 0})))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":seed must be a whole number >= 0, got 1.5" (randman/point {:seed 1.5})))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":batch must be a whole number >= 1, got 0" (randman/point {:batch 0})))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":momentum must be a number in \[0, 1\], got 2" (randman/point {:momentum 2})))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":validate must be a whole number .* got 800" (randman/point {:validate 800})))))
