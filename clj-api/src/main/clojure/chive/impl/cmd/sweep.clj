(ns chive.impl.cmd.sweep
  "bin/chive sweep SPEC.edn [--engine local|spark] [--master URL] [--out DIR]
  [--resume] [--threads N]: runs a sweep (chive.sweep) and prints one JSON
  line per finished point on stdout; progress on stderr."
  (:require [cheshire.core :as json]
            [chive.impl.cli :as cli]
            [chive.sweep :as sweep]
            [clojure.edn :as edn]
            [clojure.java.io :as io]))

(set! *warn-on-reflection* true)

(def ^:private usage
  "Usage: bin/chive sweep SPEC.edn [--engine local|spark] [--master URL] [--out DIR] [--resume] [--threads N] [--parquet]
SPEC.edn is a map: {:experiment my.ns/experiment :space {...} :out \"dir\" :threads N :master \"...\"}
(chive.sweep/points describes spaces: :grid, :list or :random, with :seeds and :fixed).
The experiment's namespace must be on the classpath: chive's own
(chive.experiments.brunel/point), or add your source folder with
CHIVE_CLASSPATH=src bin/chive sweep ... One JSON line per finished point on
stdout (parameters, results, sweep_point, sweep_status, sweep_seconds,
sweep_id; sweep_error for a point that threw); the same lines go to
OUT/results.jsonl. --resume runs only the points OUT lacks. --engine spark
runs each point as a Spark task (bin/chive puts Spark on the classpath);
--master local[N], spark://host:port, ... (default local[*], or spark-submit's).")

(def ^:private specs
  [[nil "--engine E" "local (this JVM, all cores) or spark" :parse-fn (cli/one-of "local" "spark")]
   [nil "--master URL" "spark: the master (local[N], local[N,F], spark://host:port, ...)"]
   [nil "--out DIR" "output folder (default: the spec's :out, else target/sweeps/<experiment>)"]
   [nil "--resume" "continue the sweep in the output folder: run only its missing points"]
   [nil "--parquet" "local: also write OUT/results.parquet at the end (needs Spark: bin/chive puts it on the classpath)"]
   [nil "--threads N" "local: points run side by side (default: the spec's, else all cores)" :parse-fn (cli/integer 1 4096)]])

(def ^:private spec-keys #{:experiment :space :out :threads :master :engine :retries :spark-conf :jars})

(defn read-spec
  "The sweep spec in file `f`, checked: an error names a missing or unknown key."
  [f]
  (let [file (io/file f)]
    (when-not (.isFile file) (throw (ex-info (str "sweep: no such spec file " (pr-str (str f))) {:file (str f)})))
    (let [spec (try (edn/read-string (slurp file))
                    (catch Exception e (throw (ex-info (str "sweep: " f " is not EDN: " (.getMessage e)) {:file (str f)}))))]
      (when-not (map? spec) (throw (ex-info (str "sweep: " f " must hold a map, got " (pr-str spec)) {:file (str f)})))
      (doseq [k [:experiment :space]]
        (when-not (contains? spec k) (throw (ex-info (str "sweep: " f " lacks " k) {:file (str f)}))))
      (when-let [k (first (remove spec-keys (keys spec)))]
        (throw (ex-info (str "sweep: " f ": unknown key " k "; valid: " (sort spec-keys)) {:file (str f)})))
      spec)))

(defn- run-command [opts [f & more]]
  (when-not f (throw (ex-info "sweep: give the spec file: bin/chive sweep SPEC.edn" {})))
  (when (seq more) (throw (ex-info (str "sweep: unexpected argument " (pr-str (first more))) {})))
  (let [spec (read-spec f)
        engine (keyword (or (:engine opts) (some-> (:engine spec) name) "local"))
        run-opts (cond-> {:engine engine
                          :on-point (fn [row]
                                      (locking *out*
                                        (println (json/generate-string (sweep/row->json row)))
                                        (flush)))}
                   (or (:out opts) (:out spec)) (assoc :out (or (:out opts) (:out spec)))
                   (:resume opts) (assoc :resume true)
                   (or (:threads opts) (:threads spec)) (assoc :threads (or (:threads opts) (:threads spec)))
                   (or (:master opts) (:master spec)) (assoc :master (or (:master opts) (:master spec)))
                   (:retries spec) (assoc :retries (:retries spec))
                   (:spark-conf spec) (assoc :spark-conf (:spark-conf spec))
                   (:jars spec) (assoc :jars (:jars spec)))]
    (when (and (:master run-opts) (not= engine :spark))
      (throw (ex-info "sweep: --master is for --engine spark" {})))
    (when (and (:parquet opts) (= engine :spark))
      (throw (ex-info "sweep: --parquet is for --engine local (the spark engine always writes Parquet)" {})))
    (sweep/run! (:experiment spec) (:space spec) run-opts)
    (when (:parquet opts)
      (let [out (or (:out run-opts) (sweep/default-out (:experiment spec)))
            parquet! (try (requiring-resolve 'chive.sweep.spark/parquet!)
                          (catch java.io.FileNotFoundException _
                            (throw (ex-info "sweep: --parquet needs chive-spark on the classpath (bin/chive sweep does this; deps.edn alias :spark)" {}))))]
        (binding [*out* *err*] (println "sweep: wrote" (parquet! out)))))
    0))

(defn command
  "bin/chive sweep ARGS; returns the exit code."
  [args]
  (cli/run "sweep" usage specs args run-command))

(defn -main [& args]
  (let [code (command args)]
    (shutdown-agents)
    (cli/exit! code)))
