(ns chive.impl.cmd.notebook
  "bin/chive notebook build|serve: the command line of chive.notebook."
  (:require [chive.notebook :refer :all]
            [chive.impl.cli :as cli]
            [cheshire.core :as json]
            [clojure.java.io :as io]))

(set! *warn-on-reflection* true)

;; ---------------------------------------------------------------- command line

(def ^:private usage
  "Usage: bin/chive notebook build [--full] [--out DIR] [--dir DIR] [FILE...]
       bin/chive notebook serve [--port N] [--dir DIR] [--full] [--bind ADDR]
build renders notebooks to self-contained HTML folders; serve serves them live (the URL it prints holds its token).")

(def ^:private specs
  [[nil "--full" "the sizes the prose describes (minutes)"]
   [nil "--out DIR" "build: where the pages go" :default "target/notebooks"]
   [nil "--dir DIR" "the notebooks' folder" :default "notebooks"]
   [nil "--port N" "serve: TCP port (0: any free one)" :default 7777 :parse-fn (cli/integer 0 65535)]
   [nil "--bind ADDR" "serve: address to listen on" :default "127.0.0.1"]])

(defn command
  "bin/chive notebook ARGS; returns the exit code (serve does not return)."
  [args]
  (cli/run "notebook" usage specs args
           (fn [opts [cmd & files]]
             (case cmd
               "build" (let [files (if (seq files) (map io/file files) (notebook-files (:dir opts)))
                             rs (render! files (:out opts) opts)
                             errors (reduce + (map :errors rs))]
                         (println (json/generate-string {:notebooks (count rs) :errors errors :out (str (io/file (:out opts)))
                                                         :full (boolean (:full opts))
                                                         :seconds (reduce + (map :seconds rs))}))
                         (if (pos? errors) 1 0))
               "serve" (do (when (seq files) (throw (ex-info (str "serve takes no files, got " (pr-str (first files))) {})))
                           (serve! opts) @(promise))
               (throw (ex-info (str (if cmd (str "unknown command " (pr-str cmd)) "name a command") "; valid: build, serve") {}))))))

(defn -main [& args] (cli/exit! (command args)))
