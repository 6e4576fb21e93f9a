(ns chive.impl.cmd.bench
  "bin/chive bench: the command line of chive.bench (options, --help, one JSON line per measurement)."
  (:require [chive.bench :refer :all]
            [chive.impl.cli :as cli]
            [chive.impl.log :refer [log]]
            [cheshire.core :as json]
            [clojure.string :as str]))

(set! *warn-on-reflection* true)

(def ^:private usage
  "Usage: bin/chive bench cuba|cobahh|izhikevich|brunel [options]
One JSON line per measurement on stdout; progress on stderr.
Surrogate-gradient training: bin/chive bench sg-randman|sg-fmnist|sg-fmnist-conv --help
What threads can gain on this machine: bin/chive bench threads-ceiling --help")

(def ^:private specs
  [[nil "--n N" "neurons (default 4000; brunel 5000)" :parse-fn (cli/integer 5)]
   [nil "--duration MS" "biological time in ms" :default 1000.0 :parse-fn (cli/number 0 true)]
   [nil "--threads T" "simulation threads (default: chive.net/default-threads for the network)" :parse-fn (cli/integer 1 1024)]
   [nil "--seed S" "random seed" :default 1 :parse-fn (cli/integer Long/MIN_VALUE)]
   [nil "--repeat K" "measure K times (one JSON line each)" :default 1 :parse-fn (cli/integer 1)]
   [nil "--no-warmup" "measure the first run in a fresh JVM"]
   [nil "--model M" "cuba and izhikevich: builtin or dsl (the same model written with defneuron)"
    :default "builtin" :parse-fn (cli/one-of "builtin" "dsl")]
   [nil "--g G" "brunel: relative inhibition g" :default 5.0 :parse-fn (cli/number 0 false)]
   [nil "--eta ETA" "brunel: external drive nu_ext/nu_thr" :default 2.0 :parse-fn (cli/number 0 false)]])

(defn parse-args
  "Command-line arguments to options; throws ex-info naming a bad argument (:usage true for --help)."
  [args]
  (let [{:keys [exit message options arguments]} (cli/parse "bench" usage specs args)
        bench (first arguments)]
    (cond
      exit (throw (ex-info message {:usage (zero? exit)}))
      (nil? bench) (throw (ex-info (str "chive bench: name a benchmark: " (str/join ", " (sort (keys benches))) " (bin/chive bench --help)") {}))
      (not (contains? benches bench))
      (throw (ex-info (str "chive bench: unknown benchmark " (pr-str bench) "; valid: " (str/join ", " (sort (keys benches))) ", sg-randman, sg-fmnist, sg-fmnist-conv, threads-ceiling") {}))
      (next arguments) (throw (ex-info (str "chive bench: unexpected argument " (pr-str (second arguments))) {}))
      :else (-> options
                (assoc :bench bench
                       :n (or (:n options) (if (= bench "brunel") 5000 4000))
                       :duration-ms (:duration options)
                       :warmup (not (:no-warmup options)))
                (dissoc :duration :no-warmup)))))

(def ^:private ceiling-usage
  "Usage: bin/chive bench threads-ceiling [options]
What several threads can gain on this machine for work shaped like a
simulation step (CUBA's neuron update over N units, contiguous parts, one
per thread, nothing shared; a spin barrier after every step unless
--no-barrier): the ceiling for the engine's own thread scaling. One JSON
line per repeat (1 thread and T threads interleaved), then the medians.")

(def ^:private ceiling-specs
  [[nil "--n N" "units" :default 40000 :parse-fn (cli/integer 2)]
   [nil "--threads T" "threads against one" :default 2 :parse-fn (cli/integer 2 1024)]
   [nil "--steps S" "steps per run (10,000 = 1 s at dt 0.1 ms)" :default 10000 :parse-fn (cli/integer 1)]
   [nil "--repeat K" "pairs of runs measured, after 3 unmeasured" :default 7 :parse-fn (cli/integer 1)]
   [nil "--no-barrier" "threads never wait for each other"]])

(defn- median [xs] (let [v (vec (sort xs)) k (count v)] (/ (+ (v (quot (dec k) 2)) (v (quot k 2))) 2.0)))

(defn- threads-ceiling [args]
  (cli/run "bench" ceiling-usage ceiling-specs args
           (fn [options arguments]
             (when (seq arguments) (throw (ex-info (str "chive bench threads-ceiling: unexpected argument " (pr-str (first arguments))) {})))
             (let [{:keys [n threads steps repeat no-barrier]} options
                   barrier (not no-barrier)
                   base {:bench "threads-ceiling" :n n :steps steps :threads threads :barrier barrier
                         :jdk (System/getProperty "java.version") :processors (.availableProcessors (Runtime/getRuntime))}
                   _ (log (format "threads-ceiling: N = %d, %d steps, 1 vs %d threads%s, 3 unmeasured pairs then %d"
                                  n steps threads (if barrier ", a barrier per step" ", no barrier") repeat))
                   _ (dotimes [_ 3] (chive.core.sim.ParallelCeiling/measure n steps threads barrier))
                   rows (vec (for [k (range repeat)]
                               (let [[one many] (chive.core.sim.ParallelCeiling/measure n steps threads barrier)
                                     row (assoc base :repeat (inc k) :run_s_1 one :run_s_threads many :speedup (/ one many))]
                                 (println (json/generate-string row))
                                 (flush)
                                 row)))]
               (println (json/generate-string
                         (assoc base :repeats repeat
                                :median_run_s_1 (median (map :run_s_1 rows)) :median_run_s_threads (median (map :run_s_threads rows))
                                :median_speedup (median (map :speedup rows))
                                :min_speedup (apply min (map :speedup rows)) :max_speedup (apply max (map :speedup rows)))))
               (flush)))))

(defn command
  "bin/chive bench ARGS; returns the exit code (0 ok or --help, 2 bad input)."
  [args]
  (cond
    (#{"sg-randman" "sg-fmnist" "sg-fmnist-conv"} (first args))
    ((requiring-resolve 'chive.impl.cmd.sgbench/command) args)
    (= "threads-ceiling" (first args)) (threads-ceiling (rest args))
    :else
    (cli/run "bench" usage specs args
             (fn [_ _]
               (let [opts (parse-args args)]
                 (dotimes [k (:repeat opts)]
                   (let [r (measure (:bench opts) (assoc opts :warmup (and (:warmup opts) (zero? k))))]
                     (println (json/generate-string r))
                     (flush))))))))

(defn -main [& args] (cli/exit! (command args)))
