(ns chive.impl.cmd.train
  "bin/chive train: the command line of chive.train (options, --help, JSON on stdout)."
  (:require [chive.train :refer :all]
            [chive.impl.cli :as cli]
            [cheshire.core :as json]))

(set! *warn-on-reflection* true)

(def ^:private usage
  "Usage: bin/chive train diehl-cook [options]
Unsupervised STDP digit recognition (Diehl & Cook 2015); one JSON line on stdout.
--validate V holds out the first V of the K training digits (class-balanced) and reports
validation_accuracy without reading the test digits: tune with it, never with --test.")

(def ^:private specs
  [[nil "--neurons N" "excitatory neurons" :default 100 :parse-fn (cli/integer 1)]
   [nil "--train K" "training digits (the first K)" :default 1000 :parse-fn (cli/integer 1)]
   [nil "--test M" "test digits (the first M)" :default 1000 :parse-fn (cli/integer 0)]
   [nil "--epochs E" "passes over the training digits" :default 1 :parse-fn (cli/integer 1)]
   [nil "--data D" "mnist, fashion or a folder of MNIST IDX files" :default "mnist"]
   [nil "--seed S" "network and presentation order" :default 1 :parse-fn (cli/integer Long/MIN_VALUE)]
   [nil "--threads T" "simulation threads" :parse-fn (cli/integer 1 1024)]
   [nil "--out DIR" "folder for checkpoints and results"]
   [nil "--checkpoint-every K" "checkpoint every K digits (0: only when interrupted)" :default 0 :parse-fn (cli/integer 0)]
   [nil "--resume DIR" "continue from a checkpoint"]
   [nil "--validate V" "hold out the first V training digits" :default 0 :parse-fn (cli/integer 0)]
   [nil "--no-shuffle" "present the digits in their stored order"]])

(defn parse-args
  "Command-line arguments to diehl-cook! options; throws ex-info naming a bad argument (:usage true for --help)."
  [args]
  (let [{:keys [exit message options arguments]} (cli/parse "train" usage specs args)]
    (cond
      exit (throw (ex-info message {:usage (zero? exit)}))
      (not= ["diehl-cook"] arguments)
      (throw (ex-info (str "chive train: " (if (seq arguments) (str "unknown training " (pr-str (first arguments))) "name a training")
                           "; valid: diehl-cook") {}))
      :else (-> options (assoc :shuffle (not (:no-shuffle options))) (dissoc :no-shuffle)))))

(defn command
  "bin/chive train ARGS; returns the exit code."
  [args]
  (cli/run "train" usage specs args
           (fn [_ _]
             (println (json/generate-string (diehl-cook! (parse-args args))))
             (flush))))

(defn -main [& args] (cli/exit! (command args)))
