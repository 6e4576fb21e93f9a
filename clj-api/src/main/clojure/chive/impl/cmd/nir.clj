(ns chive.impl.cmd.nir
  "bin/chive nir info FILE [--json]: what a NIR file holds; bin/chive nir run
  FILE --input NPY --dt DT --out DIR: its outputs for an input raster (chive.nir)."
  (:require [cheshire.core :as json]
            [chive.impl.cli :as cli]
            [chive.nir :as nir]
            [chive.impl.files :as files]
            [clojure.string :as str]))

(set! *warn-on-reflection* true)

(def ^:private usage
  "Usage: bin/chive nir info FILE [--json]
       bin/chive nir run FILE --input NPY --dt DT --out DIR [--method euler|exact]
info reads a NIR file (HDF5, format 1.x), checks it against the NIR
primitives and prints one row per node: name, type, input and output shapes,
and each parameter's dtype, shape and range (--json: one JSON object per node).
run steps the graph (a chain Input -> ... -> Output; chive.nir/import-learn
states the equations) on the 0/1 raster in NPY ([T ...input] or [B T ...input];
float, int, uint8 or bool) at DT (in the graph's time unit, seconds for
snnTorch and Norse), writes each node's output to DIR/<node>.npy (float32,
[B T ...]: spikes, or the membrane of LI/I readouts) and prints one JSON line.")

(def ^:private specs
  [[nil "--json" "info: one JSON object per node on stdout"]
   [nil "--input NPY" "run: the input raster"]
   [nil "--dt DT" "run: the time step, in the graph's time unit" :parse-fn (cli/number 0 true)]
   [nil "--out DIR" "run: folder for the outputs (created)"]
   [nil "--method M" "run: euler (default) or exact" :default "euler" :parse-fn (cli/one-of "euler" "exact")]])

(defn- safe-name [s] (str/replace (str s) #"[^A-Za-z0-9_.-]" "_"))

(defn- run-command [opts file]
  (doseq [k [:input :dt :out]]
    (when-not (k opts) (throw (ex-info (str "nir run: give --" (name k)) {}))))
  (let [t0 (System/nanoTime)
        g (nir/read file)
        p (.toPath (java.io.File. ^String (:input opts)))
        a (chive.core.data.Npy/read p)
        outs (nir/run g (.numbers a p) (vec (.shape a)) {:dt (:dt opts) :method (keyword (:method opts))})
        dir (java.io.File. ^String (:out opts))]
    (.mkdirs dir)
    (when-not (.isDirectory dir) (throw (ex-info (str "nir run: cannot make folder " dir) {})))
    (let [written (vec (for [{:keys [node type shape values]} outs
                             :let [f (java.io.File. dir (str (safe-name node) ".npy"))]]
                         (do (files/write-file! f #(chive.core.data.Npy/writeTensor (.toPath ^java.io.File %) ^floats values (int-array shape)))
                             (cond-> {:node node :type type :shape shape :file (str f)}
                               (#{"LIF" "IF" "CubaLIF" "Threshold"} type)
                               (assoc :spikes (long (areduce ^floats values i s 0.0 (+ s (aget ^floats values i)))))))))]
      (println (json/generate-string {:file (str file) :input (:input opts) :dt (:dt opts) :method (:method opts)
                                      :samples (first (:shape (first outs))) :steps (second (:shape (first outs)))
                                      :out (str dir) :nodes written
                                      :wall_s (/ (- (System/nanoTime) t0) 1e9)
                                      :jdk (System/getProperty "java.version")})))))

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
               (not (#{"info" "run"} sub))
               (throw (ex-info (str (if sub (str "unknown subcommand " (pr-str sub)) "name a subcommand") "; valid: info, run (bin/chive nir --help)") {}))
               (nil? file) (throw (ex-info (str "nir " sub ": name a NIR file") {}))
               (seq more) (throw (ex-info (str "nir " sub ": unexpected argument " (pr-str (first more))) {}))
               (= sub "run") (run-command opts file)
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
