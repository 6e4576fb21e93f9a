(ns chive.impl.cmd.bench
  "bin/chive bench: the command line of chive.bench (options, --help, one JSON line per measurement)."
  (:require [chive.bench :refer :all]
            [chive.impl.cli :as cli]
            [cheshire.core :as json]
            [clojure.string :as str]))

(set! *warn-on-reflection* true)

(def ^:private usage
  "Usage: bin/chive bench cuba|cobahh|izhikevich|brunel [options]
One JSON line per measurement on stdout; progress on stderr.
Surrogate-gradient training: bin/chive bench sg-randman|sg-fmnist|sg-fmnist-conv --help")

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
      (throw (ex-info (str "chive bench: unknown benchmark " (pr-str bench) "; valid: " (str/join ", " (sort (keys benches))) ", sg-randman, sg-fmnist, sg-fmnist-conv") {}))
      (next arguments) (throw (ex-info (str "chive bench: unexpected argument " (pr-str (second arguments))) {}))
      :else (-> options
                (assoc :bench bench
                       :n (or (:n options) (if (= bench "brunel") 5000 4000))
                       :duration-ms (:duration options)
                       :warmup (not (:no-warmup options)))
                (dissoc :duration :no-warmup)))))

(defn command
  "bin/chive bench ARGS; returns the exit code (0 ok or --help, 2 bad input)."
  [args]
  (if (#{"sg-randman" "sg-fmnist" "sg-fmnist-conv"} (first args))
    ((requiring-resolve 'chive.impl.cmd.sgbench/command) args)
    (cli/run "bench" usage specs args
             (fn [_ _]
               (let [opts (parse-args args)]
                 (dotimes [k (:repeat opts)]
                   (let [r (measure (:bench opts) (assoc opts :warmup (and (:warmup opts) (zero? k))))]
                     (println (json/generate-string r))
                     (flush))))))))

(defn -main [& args] (cli/exit! (command args)))
