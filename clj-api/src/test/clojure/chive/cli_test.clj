(ns chive.cli-test
  "Every bin/chive subcommand reads its command line the same way
  (chive.impl.cli, org.clojure/tools.cli): --help exits 0 with the usage, a
  missing or bad value or an unknown option exits 2 with one line naming it."
  (:require [clojure.test :refer [deftest is testing]]
            [cheshire.core]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [chive.impl.cmd.bench :as bench]
            [chive.impl.cmd.demo :as demo]
            [chive.impl.crashtest :as crashtest]
            [chive.impl.cmd.notebook :as notebook]
            [chive.impl.cmd.repl :as repl]
            [chive.impl.cmd.sgbench :as sgbench]
            [chive.impl.cmd.train :as train]))

(defn- run
  "[exit-code stdout stderr] of (command args)."
  [command args]
  (let [out (java.io.StringWriter.) err (java.io.StringWriter.)
        code (binding [*out* out *err* err] (command args))]
    [code (str out) (str err)]))

(def ^:private commands
  ;; name, command fn, args with a bad value, the option the message must name
  [["bench" bench/command ["cuba" "--n" "x"] "--n x"]
   ["bench sg" sgbench/command ["sg-randman" "--epochs" "0"] "--epochs 0"]
   ["bench threads-ceiling" (fn [args] (bench/command (cons "threads-ceiling" args))) ["--threads" "1"] "--threads 1"]
   ["train" train/command ["diehl-cook" "--neurons" "-1"] "--neurons -1"]
   ["notebook" notebook/command ["serve" "--port" "99999"] "--port 99999"]
   ["repl" repl/command ["--port" "abc"] "--port abc"]
   ["demo" demo/command ["--frob"] "--frob"]
   ["crash-test" crashtest/command ["--kills" "zero"] "--kills zero"]])

(deftest every-subcommand-answers-help-and-refuses-bad-values-in-one-line
  (doseq [[nm command bad option] commands]
    (testing nm
      (let [[code out _] (run command ["--help"])]
        (is (= 0 code) (str nm " --help exits 0"))
        (is (str/starts-with? out "Usage: bin/chive") (str nm " --help prints the usage"))
        (is (str/includes? out "--help")))
      (let [[code out err] (run command bad)]
        (is (= 2 code) (str nm " " bad " exits 2"))
        (is (= 1 (count (str/split-lines (str/trim err)))) (str nm ": one line: " (pr-str err)))
        (is (str/includes? err option) (str nm ": the message names " option ": " err))
        (is (not (str/includes? err "Exception")) "no exception class or stack trace")
        (is (str/blank? out)))))
  (testing "a missing value and an unknown option"
    (let [[code _ err] (run bench/command ["cuba" "--n"])]
      (is (= 2 code))
      (is (str/includes? err "Missing required argument for \"--n N\"")))
    (let [[code _ err] (run train/command ["diehl-cook" "--nerons" "10"])]
      (is (= 2 code))
      (is (str/includes? err "Unknown option: \"--nerons\"")))
    (let [[code _ err] (run train/command ["kohonen"])]
      (is (= 2 code))
      (is (str/includes? err "unknown training \"kohonen\"; valid: diehl-cook")))))

(deftest threads-ceiling-measures-one-against-several-threads
  (let [[code out err] (run bench/command ["threads-ceiling" "--n" "1000" "--steps" "200" "--repeat" "3" "--threads" "3"])
        rows (mapv #(cheshire.core/parse-string % true) (str/split-lines (str/trim out)))]
    (is (= 0 code) err)
    (is (= 4 (count rows)) "one line per repeat, then the medians")
    (doseq [r (butlast rows)]
      (is (= {:bench "threads-ceiling" :n 1000 :steps 200 :threads 3 :barrier true} (select-keys r [:bench :n :steps :threads :barrier])))
      (is (every? #(pos? (% r)) [:run_s_1 :run_s_threads]))
      (is (< (abs (- (:speedup r) (/ (:run_s_1 r) (:run_s_threads r)))) 1e-9)))
    (let [m (peek rows)]
      (is (= 3 (:repeats m)))
      (is (<= (:min_speedup m) (:median_speedup m) (:max_speedup m)))
      (is (= (:median_run_s_1 m) (second (sort (map :run_s_1 (butlast rows))))) "the median of three is the middle one"))
    (is (str/includes? err "a barrier per step"))))

(deftest bin-chive-exits-with-the-codes
  ;; Through the launcher and a real JVM exit, once for help and once for a bad value.
  (let [root (io/file (System/getProperty "chive.project.root" "."))
        sh (fn [& args]
             (let [p (.start (doto (ProcessBuilder. ^java.util.List (vec (cons (str (io/file root "bin" "chive")) args)))
                               (.directory root)))
                   out (future (slurp (.getInputStream p)))
                   err (future (slurp (.getErrorStream p)))]
               [(.waitFor p) @out @err]))]
    (let [[code out] (sh "bench" "--help")]
      (is (= 0 code))
      (is (str/includes? out "Usage: bin/chive bench")))
    (let [[code _ err] (sh "train" "diehl-cook" "--epochs" "x")]
      (is (= 2 code))
      (is (str/includes? err "--epochs x: needs a whole number")))))

(deftest the-fast-start-gives-what-a-start-from-source-gives
  ;; bin/chive runs commands from chive's namespaces compiled ahead of time and
  ;; a class-data sharing archive (target/chive/launch/); CHIVE_AOT=0 starts
  ;; from source. The same network must give the same spikes either way.
  (let [root (io/file (System/getProperty "chive.project.root" "."))
        sh (fn [env & args]
             (let [pb (doto (ProcessBuilder. ^java.util.List (vec (cons (str (io/file root "bin" "chive")) args)))
                        (.directory root))
                   _ (.putAll (.environment pb) env)
                   p (.start pb)
                   out (future (slurp (.getInputStream p)))
                   err (future (slurp (.getErrorStream p)))]
               [(.waitFor p) @out @err]))
        args ["bench" "cuba" "--n" "300" "--duration" "50" "--no-warmup"]
        [c1 fast e1] (apply sh {} args)
        [c2 source e2] (apply sh {"CHIVE_AOT" "0"} args)
        ;; bin/chive starts a background JIT warm-up (chive.core.sim.JitWarmup) on
        ;; machines with two or more processors; without it, the same spikes.
        [c3 cold e3] (apply sh {"CHIVE_JVM_OPTS" "-Dchive.warmup=false"} args)
        spikes (fn [out] (second (re-find #"\"spikes\":(\d+)" out)))
        warmup (fn [out] (second (re-find #"\"jit_warmup\":\"([^\"]*)\"" out)))
        launch (first (filter #(.isDirectory ^java.io.File %)
                              (.listFiles (io/file root "target" "chive" "launch"))))]
    (is (= 0 c1) e1)
    (is (= 0 c2) e2)
    (is (some? (spikes fast)) fast)
    (is (= (spikes fast) (spikes source)) "the same spikes from compiled namespaces and from source")
    (is (= 0 c3) e3)
    (is (= (spikes fast) (spikes cold)) "the same spikes with and without the JIT warm-up")
    (is (= "not started" (warmup cold)) cold)
    (is (contains? (if (> (.availableProcessors (Runtime/getRuntime)) 1)
                     #{"running" "done" "a user run started" "time budget"}
                     #{"not started"})
                   (warmup fast))
        fast)
    (is (some? launch) "bin/chive made its launch folder")
    (when launch
      (is (.isFile (io/file launch "app.jar")))
      (is (.isFile (io/file launch "app.jsa")) "and the class-data sharing archive"))
    (is (not (str/includes? e1 "Unable to use shared archive")) e1)))
