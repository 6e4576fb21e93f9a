(ns chive.impl.cmd.nir
  "bin/chive nir info FILE [--json]: what a NIR file holds (chive.nir)."
  (:require [cheshire.core :as json]
            [chive.impl.cli :as cli]
            [chive.nir :as nir]
            [clojure.string :as str]))

(set! *warn-on-reflection* true)

(def ^:private usage
  "Usage: bin/chive nir info FILE [--json]
Reads a NIR file (HDF5, format 1.x), checks it against the NIR primitives and
prints one row per node: name, type, input and output shapes, and each
parameter's dtype, shape and range (--json: one JSON object per node).")

(def ^:private specs [[nil "--json" "one JSON object per node on stdout"]])

(defn- table [rows]
  (let [cells (for [{:keys [node type input output params]} rows]
                [node type (pr-str input) (pr-str output)
                 (str/join "; " (for [[k v] params] (str (name k) " " v)))])
        header ["node" "type" "input" "output" "parameters"]
        widths (apply map (fn [& col] (apply max (map count col))) header cells)]
    (str/join "\n" (for [row (cons header cells)]
                     (str/trimr (str/join "  " (map #(format (str "%-" %1 "s") %2) widths row)))))))

(defn command
  "bin/chive nir ARGS; returns the exit code."
  [args]
  (cli/run "nir" usage specs args
           (fn [opts [sub file & more]]
             (cond
               (not= "info" sub)
               (throw (ex-info (str (if sub (str "unknown subcommand " (pr-str sub)) "name a subcommand") "; valid: info (bin/chive nir --help)") {}))
               (nil? file) (throw (ex-info "nir info: name a NIR file" {}))
               (seq more) (throw (ex-info (str "nir info: unexpected argument " (pr-str (first more))) {}))
               :else
               (let [g (nir/read file)
                     rows (nir/info g)]
                 (if (:json opts)
                   (doseq [r rows] (println (json/generate-string r)))
                   (do (println (str file ": NIR " (:version g) ", " (count (:nodes g)) " nodes, " (count (:edges g)) " edges"
                                     (when (seq (:metadata g)) (str ", metadata " (pr-str (:metadata g))))))
                       (println (table rows))))
                 (flush))))))

(defn -main [& args] (cli/exit! (command args)))
