(ns chive.demo
  "bin/chive demo: the main job. Until the engine lands, a self-check of what is
  installed and working: versions, JSON through Cheshire, the nREPL server."
  (:require [cheshire.core :as json]
            [chive.repl :as repl]
            [chive.version :as version]))

(defn self-check
  "Runs the checks; returns a map of what was found. Throws ex-info on failure."
  []
  (let [v (version/versions)
        json-ok (= {"spikes" [1 2 3]} (json/parse-string (json/generate-string {:spikes [1 2 3]})))
        server (repl/start! {:port 0 :port-file false})
        addr (try (repl/listening-address server) (finally (repl/stop! server)))]
    (when-not json-ok (throw (ex-info "Cheshire JSON round trip failed" {})))
    (assoc v :cheshire-json json-ok :nrepl-bind addr)))

(defn -main [& _]
  (let [r (self-check)]
    (doseq [[k v] r] (println (format "%-14s %s" (name k) v)))
    (println "chive self-check passed")))
