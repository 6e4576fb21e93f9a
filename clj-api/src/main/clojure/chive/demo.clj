(ns chive.demo
  "bin/chive demo: the main job for now. A self-check of what is installed,
  then the CUBA benchmark network (Vogels & Abbott 2005, N = 4000, 1 s of
  biological time) built from a map with chive.net, run, and summarised.
  (The Diehl & Cook STDP run takes its place once that issue lands.)"
  (:require [cheshire.core :as json]
            [chive.bench :as bench]
            [chive.net :as net]
            [chive.repl :as repl]
            [chive.units :refer [ms]]
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

(defn cuba
  "Builds and runs CUBA; returns a summary map."
  [{:keys [n duration-ms seed] :or {n 4000 duration-ms 1000 seed 1}}]
  (let [t0 (System/nanoTime)
        nw (net/build (bench/cuba-spec {:n n :seed seed}))
        build-s (/ (- (System/nanoTime) t0) 1e9)
        r (net/run! nw (ms duration-ms))
        exc (net/spikes nw :exc-spikes)
        inh (net/spikes nw :inh-spikes)
        total (+ (:count exc) (:count inh))]
    {:neurons n :synapses (:synapses (net/summary nw)) :biological-s (/ duration-ms 1000.0)
     :spikes total :mean-rate-hz (/ total (* n (/ duration-ms 1000.0)))
     :build-s build-s :run-s (:wall-s r) :threads (:threads r)}))

(defn -main [& _]
  (let [r (self-check)]
    (doseq [[k v] r] (println (format "%-14s %s" (name k) v)))
    (println "self-check passed\n")
    (println "CUBA network (Brette et al. 2007, benchmark 2): 3200 excitatory + 800 inhibitory LIF cells")
    (let [w (cuba {})]
      (println (format "first run (includes the JIT compiling the kernels): %.3f s" (:run-s w))))
    (let [c (cuba {})]
      (doseq [[k v] c] (println (format "%-14s %s" (name k) (if (double? v) (format "%.4g" v) v))))
      (println (format "\nsimulated %.1f s of network time in %.3f s of wall time (%.0fx faster than real time)"
                       (:biological-s c) (:run-s c) (/ (:biological-s c) (:run-s c))))
      (shutdown-agents)
      (System/exit 0))))
