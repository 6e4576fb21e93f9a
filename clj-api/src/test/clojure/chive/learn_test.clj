(ns chive.learn-test
  "Surrogate-gradient training through chive.learn: it learns, interrupts keep
  the last finished epoch, checkpoints restore, early stopping stops, and the
  benchmark command prints its JSON keys."
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.java.io :as io]
            [clojure.java.shell]
            [cheshire.core :as json]
            [chive.data]
            [chive.learn :as learn]
            [chive.plot :as plot]
            [chive.impl.cmd.sgbench :as sgbench])
  (:import (java.io File)))

(defn- tmp-dir [] (doto (File/createTempFile "chive-learn" "") .delete .mkdirs))

(defn- small-randman []
  (learn/split-at-fraction (learn/randman {:classes 2 :units 16 :steps 50 :samples 300 :seed 5}) 0.8))

(defn- small-model [seed]
  (learn/model {:inputs 16 :layers [{:n 24 :recurrent true} {:n 2 :recurrent true}] :neuron learn/jax-seed-neuron
                :loss {:type :spike-count :reduction :sum :scale 0.5} :seed seed :threads 2}))

(deftest learns-randman-well-above-chance
  (let [[train test] (small-randman)
        m (small-model 1)
        before (:accuracy (learn/evaluate m test))
        h (learn/train! m train {:epochs 8 :batch 32 :optimizer {:type :sgd :lr 2e-2 :momentum 0.9}
                                 :shuffle-seed 1 :test test :progress false})]
    (is (= 8 (count h)))
    (is (= (range 1 9) (map :epoch h)))
    (is (every? #(contains? % :test-acc) h))
    (is (> (:test-acc (last h)) 0.8) (str "test accuracy " (:test-acc (last h)) " after 8 epochs (before: " before ")"))
    (is (< (:train-loss (last h)) (:train-loss (first h))) "loss goes down")
    (is (= (:test-acc (last h)) (:accuracy (learn/evaluate m test))) "evaluate agrees with the history")))

(deftest spytorch-readout-model-learns
  (let [[train test] (learn/split-at-fraction (learn/randman {:classes 3 :units 20 :steps 40 :samples 200 :seed 9}) 0.75)
        m (learn/model {:inputs 20 :layers [{:n 30} {:n 3 :readout true}] :neuron learn/spytorch-neuron
                        :loss {:type :max-membrane :reduction :mean} :init {:type :normal :scale :spytorch} :seed 2 :threads 1})
        h (learn/train! m train {:epochs 15 :batch 25 :optimizer {:type :adam :lr 5e-3} :shuffle-seed 3 :test test :progress false})]
    (is (> (:test-acc (last h)) 0.6) (str "3 classes, chance 0.33: " (mapv :test-acc h)))))

(deftest interrupt-keeps-the-last-finished-epoch
  (let [[train test] (small-randman)
        m (small-model 2)
        _ (learn/train! m train {:epochs 2 :batch 32 :optimizer {:type :sgd :lr 2e-2 :momentum 0.9} :shuffle-seed 1 :progress false})
        after-2 (mapv #(vec (:values %)) (learn/weights m))
        acc-2 (:accuracy (learn/evaluate m test))
        ;; Interrupt in the middle of epoch 3 (after its 3rd batch), as nREPL's interrupt does:
        ;; it sets the training thread's interrupt flag.
        h (learn/train! m train {:epochs 3 :batch 32 :shuffle-seed 1 :progress false
                                 :on-batch (fn [{:keys [epoch batch]}]
                                             (when (and (= epoch 3) (= batch 3)) (.interrupt (Thread/currentThread))))})]
    (is (= [1 2] (map :epoch h)) "history ends with the last finished epoch")
    (is (:interrupted @(:state m)))
    (is (= after-2 (mapv #(vec (:values %)) (learn/weights m))) "weights are those after epoch 2")
    (is (= acc-2 (:accuracy (learn/evaluate m test))))
    (testing "training again continues with epoch 3"
      (let [h (learn/train! m train {:epochs 1 :batch 32 :shuffle-seed 1 :progress false})]
        (is (= [1 2 3] (map :epoch h)))
        (is (not (:interrupted @(:state m))))))))

(deftest checkpoints-restore-weights-history-and-optimizer
  (let [[train test] (small-randman)
        dir (tmp-dir)
        m (small-model 3)
        opt {:type :sgd :lr 2e-2 :momentum 0.9}
        _ (learn/train! m train {:epochs 2 :batch 32 :optimizer opt :shuffle-seed 1 :checkpoint dir :progress false})
        m2 (learn/load-checkpoint! (small-model 99) dir)]
    (is (= (mapv #(vec (:values %)) (learn/weights m)) (mapv #(vec (:values %)) (learn/weights m2))))
    (is (= (map :epoch (learn/history m)) (map :epoch (learn/history m2))))
    (testing "continuing from the checkpoint equals continuing the original (optimizer momentum restored)"
      (learn/train! m train {:epochs 1 :batch 32 :shuffle-seed 7 :progress false})
      (learn/train! m2 train {:epochs 1 :batch 32 :optimizer opt :shuffle-seed 7 :progress false})
      (is (= (mapv #(vec (:values %)) (learn/weights m)) (mapv #(vec (:values %)) (learn/weights m2))))
      (is (= [1 2 3] (map :epoch (learn/history m2)))))))

(deftest early-stopping-and-callbacks
  (let [[train test] (small-randman)
        m (small-model 4)
        seen (atom [])
        h (learn/train! m train {:epochs 30 :batch 32 :optimizer {:type :sgd :lr 1e-9} :shuffle-seed 1 :test test
                                 :early-stopping {:patience 2 :metric :test-acc} :on-epoch #(swap! seen conj (:epoch %))
                                 :progress false})]
    (is (< (count h) 30) "a learning rate of 1e-9 learns nothing: stopped early")
    (is (= (map :epoch h) @seen) "on-epoch saw every epoch")))

(deftest encoders-of-image-parts
  (let [part (chive.data/take-first (:train (chive.data/dataset "mnist")) 20)
        lat (learn/latency-code part)
        rate (learn/rate-code part {:steps 50 :seed 3})]
    (is (= [20 100 784] [(.samples lat) (.steps lat) (.units lat)]))
    (is (= [20 50 784] [(.samples rate) (.steps rate) (.units rate)]))
    (is (< 0 (.nnz (.events lat)) (* 20 784)) "at most one spike per pixel, some pixels fire")
    (is (pos? (.nnz (.events rate))))
    (is (= (vec (map #(chive.data/label part %) (range 20))) (vec (.labels lat))))
    (let [lin (learn/latency-code part {:linear true :steps 12})
          pixels (count (filter pos? (take (* 20 784) (first (learn/images->floats part)))))]
      (is (= [20 12 784] [(.samples lin) (.steps lin) (.units lin)]))
      (is (= pixels (.nnz (.events lin))) "linear code with thr 0: every non-zero pixel fires once, inside the window"))
    (let [reg (learn/rate-code part {:regular true :steps 12 :max-rate-hz 1000.0})
          xs (take (* 20 784) (first (learn/images->floats part)))
          most (reduce + (map #(long (Math/floor (+ (* 12.0 %) 1e-6))) xs))]
      (is (= [20 12 784] [(.samples reg) (.steps reg) (.units reg)]))
      (is (<= (- most (count (filter pos? xs))) (.nnz (.events reg)) most) "floor(12 x) spikes per pixel, to rounding of the running sum")
      (is (= (.nnz (.events reg)) (.nnz (.events (learn/rate-code part {:regular true :steps 12 :max-rate-hz 1000.0})))) "no noise"))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":seed does not apply" (learn/rate-code part {:regular true :seed 2})))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":tau does not apply" (learn/latency-code part {:linear true :tau 5})))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown key :step.*did you mean :steps" (learn/latency-code part {:step 5})))))

(deftest a-blow-up-names-the-problem-and-keeps-the-last-epoch
  (let [[train] (small-randman)
        m (small-model 6)
        _ (learn/train! m train {:epochs 1 :batch 32 :optimizer {:type :sgd :lr 2e-2} :shuffle-seed 1 :progress false})
        before (mapv #(vec (:values %)) (learn/weights m))]
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"(became|is) (NaN|Infinity|-Infinity).*weights and optimizer of epoch 1 are kept"
                          (learn/train! m train {:epochs 1 :batch 32 :optimizer {:type :adam :lr 1e38} :shuffle-seed 1 :progress false})))
    (is (= before (mapv #(vec (:values %)) (learn/weights m))) "weights of epoch 1 restored")
    (is (= [1] (map :epoch (learn/history m))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"no checkpoint at /nonexistent"
                          (learn/load-checkpoint! m "/nonexistent/ckpt")))))

(deftest bad-specs-name-the-problem
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"layers/0: unknown key :nn in dense layer; did you mean :n\?"
                        (learn/model {:inputs 3 :layers [{:n 2 :nn 4}]})))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown :reset :sideways"
                        (learn/model {:inputs 3 :layers [{:n 2 :reset :sideways}]})))
  (is (thrown-with-msg? chive.core.sim.ChiveException #"spike-count loss needs a spiking output layer"
                        (learn/model {:inputs 3 :layers [{:n 2} {:n 2 :readout true}] :loss {:type :spike-count}})))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"train! :epochs must be an integer >= 1, got 0"
                        (learn/train! (small-model 1) (first (small-randman)) {:epochs 0 :optimizer {:type :sgd :lr 1}}))))

(deftest sg-fmnist-conv-bench-takes-its-input-code
  (doseq [[code norm channels same?] [["latency" "none" nil false] ["rate" "batch" "8,12" false] ["regular" "none" "4,6" true]]]
    (let [out (with-out-str
                (binding [*err* (java.io.StringWriter.)]
                  (sgbench/run (sgbench/parse-args (cond-> ["sg-fmnist-conv" "--data" "mnist" "--epochs" "2" "--train" "64" "--test" "32"
                                                            "--threads" "1" "--code" code "--norm" norm]
                                                     channels (conj "--channels" channels)
                                                     same? (conj "--kernel" "3" "--padding" "1"))))))
          lines (map #(json/parse-string % true) (remove empty? (clojure.string/split-lines out)))]
      (is (= [1 2] (map :epoch lines)))
      (is (= [code norm] ((juxt :code :norm) (first lines))))
      (is (= (case channels nil [16 32] "8,12" [8 12] "4,6" [4 6]) (:channels (first lines))))
      (is (= (if same? [3 1] [5 0]) ((juxt :kernel :padding) (first lines))))
      (is (clojure.string/includes? (:architecture (first lines))
                                    (case channels nil "conv 5x5 32 - LIF" "8,12" "conv 5x5 12 (no bias)" "4,6" "conv 3x3 pad 1 6 - LIF")))
      (is (clojure.string/includes? (:architecture (first lines)) (case channels nil "flatten 512 " "8,12" "flatten 192 " "4,6" "flatten 294 ")))
      (is (= (= norm "batch") (clojure.string/includes? (:architecture (first lines)) "batch norm")))
      (is (clojure.string/includes? (:architecture (first lines)) (str code (when (= code "regular") " rate") " code")))
      (is (= "{:type :cosine, :epochs 2, :min 1.0E-5}" (:lr_schedule (first lines))))
      (is (every? #(<= 0 (:test_acc %) 1) lines))))
  (let [setup (sgbench/fmnist-conv-setup {:data "mnist" :train 16 :test 8 :seed 1 :threads 1 :kernels "java" :code "rate" :epochs 1})
        tr (.dense (.events ^chive.core.learn.Dataset (:train setup)))
        te (.dense (.events ^chive.core.learn.Dataset ((:encode setup) (chive.data/take-first (:train (chive.data/dataset "mnist")) 16))))]
    (is (not= (vec tr) (vec te)) "the same images get other spikes as test images (seed 2, not 1)"))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--code is for sg-fmnist-conv"
                        (sgbench/parse-args ["sg-randman" "--code" "rate"])))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--norm is for sg-fmnist-conv"
                        (sgbench/parse-args ["sg-fmnist" "--norm" "batch"])))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--kernel 13 --padding 0: a 8x8 map leaves -4x-4 after the convolution"
                        (sgbench/fmnist-conv-setup {:data "mnist" :train 16 :test 8 :seed 1 :threads 1 :kernels "java" :epochs 1 :kernel 13})))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--kernel is for sg-fmnist-conv"
                        (sgbench/parse-args ["sg-fmnist" "--kernel" "3"])))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--channels 16: needs 2 comma-separated whole numbers"
                        (sgbench/parse-args ["sg-fmnist-conv" "--channels" "16"]))))

(deftest sg-randman-bench-prints-one-json-line-per-epoch
  (let [out (with-out-str
              (binding [*err* (java.io.StringWriter.)]
                (sgbench/run (assoc (sgbench/parse-args ["sg-randman" "--epochs" "2" "--threads" "1"]) :seed 3))))
        lines (map #(json/parse-string % true) (remove empty? (clojure.string/split-lines out)))]
    (is (= [1 2] (map :epoch lines)))
    (is (every? #(every? (partial contains? %) [:bench :epoch :train_s :test_acc :threads :seed :jdk :data :split]) lines))
    (is (= "sg-randman" (:bench (first lines))))
    (is (= "chive" (:variant (first lines))) "the default variant"))
  (testing "--variant and --export-data"
    (let [dir (.toFile (java.nio.file.Files/createTempDirectory "rm" (make-array java.nio.file.attribute.FileAttribute 0)))
          prefix (str (java.io.File. dir "s3"))
          opts (sgbench/parse-args ["sg-randman" "--epochs" "1" "--threads" "1" "--variant" "jax-seed" "--export-data" prefix])
          out (with-out-str (binding [*err* (java.io.StringWriter.)] (sgbench/run (assoc opts :seed 3))))
          x (chive.core.data.Npy/read (.toPath (java.io.File. (str prefix ".x.npy"))))
          y (chive.core.data.Npy/read (.toPath (java.io.File. (str prefix ".y.npy"))))
          d (:all (sgbench/randman-setup {:seed 3 :threads 1 :kernels "java"}))]
      (is (= "jax-seed" (:variant (json/parse-string (first (clojure.string/split-lines out)) true))))
      (is (= [2000 100 16] (vec (.shape x))) "samples x steps x units")
      (is (= (vec (.dense (.events ^chive.core.learn.Dataset d))) (vec (.floats x nil))) "the same samples the benchmark trains on")
      (is (= (vec (.labels ^chive.core.learn.Dataset d)) (vec (.ints y nil))))
      (is (true? (get-in (sgbench/randman-setup {:seed 1 :variant "jax-seed"}) [:model :layers 1 :recurrent])))
      (is (false? (get-in (sgbench/randman-setup {:seed 1}) [:model :layers 1 :recurrent])))))
  (testing "--validate holds out the last training samples and leaves the test samples unread"
    (let [out (with-out-str (binding [*err* (java.io.StringWriter.)]
                              (sgbench/run (assoc (sgbench/parse-args ["sg-randman" "--epochs" "1" "--threads" "1" "--validate" "320"]) :seed 3))))
          line (json/parse-string (first (clojure.string/split-lines out)) true)
          setup (sgbench/randman-setup {:seed 3 :validate 320})]
      (is (number? (:val_acc line)))
      (is (nil? (:test_acc line)))
      (is (= [1280 320] [(.samples ^chive.core.learn.Dataset (:train setup)) (.samples ^chive.core.learn.Dataset (:test setup))]))
      (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--validate 1600 must be between 1 and the 1600 training samples - 1"
                            (sgbench/randman-setup {:seed 3 :validate 1600})))))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--variant x: must be one of chive, jax-seed"
                        (sgbench/parse-args ["sg-randman" "--variant" "x"])))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--export-data is for sg-randman"
                        (sgbench/parse-args ["sg-fmnist" "--export-data" "/tmp/x"])))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--batch x: needs a whole number"
                        (sgbench/parse-args ["sg-fmnist" "--batch" "x"]))))

(deftest time-constants-are-quantities
  (let [mk (fn [nrn] (learn/model {:inputs 3 :layers [{:n 2} {:n 2 :readout true}] :neuron nrn :loss {:type :max-membrane} :seed 1}))
        layer0 (fn [m] (first (.layers ^chive.core.learn.SpikingNet (:net m))))
        q (mk {:tau-mem (chive.units/ms 10) :tau-syn (chive.units/ms 5) :dt (chive.units/ms 1)})
        err (java.io.StringWriter.)
        ;; the warning is printed once per key and JVM: forget earlier ones
        _ (reset! @#'chive.learn/warned #{})
        plain (binding [*err* err] (mk {:tau-mem 10 :tau-syn 5 :dt 1}))]
    (is (== (float (Math/exp -0.1)) (.mem ^chive.core.learn.Layer (layer0 q))) "tau-mem 10 ms at dt 1 ms gives beta = exp(-0.1)")
    (is (== (.mem ^chive.core.learn.Layer (layer0 q)) (.mem ^chive.core.learn.Layer (layer0 plain))) "plain numbers of ms still work")
    (is (clojure.string/includes? (str err) "deprecated") "with a deprecation warning")
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"tau-mem: expected a time \(ms\), got a voltage"
                          (mk {:tau-mem (chive.units/mV 10) :dt (chive.units/ms 1)})))))

(deftest lsuv-scales-each-layer-to-unit-membrane-variance
  (let [[train _] (small-randman)
        spec {:inputs 16 :layers [{:n 24 :recurrent true} {:n 2 :readout true}] :neuron learn/jax-seed-neuron
              :loss {:type :max-membrane} :seed 2 :threads 1}
        m (learn/model (assoc spec :init {:type :lsuv :data train :batch 100 :target-std 1.0 :tol 0.05}))
        ^chive.core.learn.SpikingNet net (:net m)
        x (.batch ^chive.core.learn.Dataset train (int-array (range 100)))
        u (.recordMembrane net x)
        std (fn [^floats a] (let [n (alength a) mu (/ (reduce + (map double a)) n)]
                              (Math/sqrt (/ (reduce + (map #(let [d (- (double %) mu)] (* d d)) a)) n))))
        report (:lsuv @(:state m))
        plain (learn/model spec)]
    (is (= [0 1] (map :layer report)))
    (doseq [l [0 1]]
      (is (< 0.95 (std (aget u l)) 1.05) (str "layer " l " std " (std (aget u l))))
      (is (< (Math/abs (- (std (aget u l)) (:std (nth report l)))) 1e-9) "the report is what the net gives"))
    (is (= (vec (aget u 1)) (vec (aget (.record net x) 1))) "a readout's record is its membrane")
    (is (not= (vec (.w ^chive.core.learn.Layer (first (.layers net))))
              (vec (.w ^chive.core.learn.Layer (first (.layers ^chive.core.learn.SpikingNet (:net plain))))))
        "the weights were scaled from the same base")
    (is (string? (get-in (:spec m) [:init :data])) "the spec keeps the data's description, not the data")
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":init :lsuv needs :data, a dataset"
                          (learn/model (assoc spec :init {:type :lsuv}))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"init: unknown key :tolerance in :init :lsuv\. Valid keys: :base :batch :data :max-iter :target-std :tol :type"
                          (learn/model (assoc spec :init {:type :lsuv :data train :tolerance 0.1}))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"positive :target-std and :tol"
                          (learn/model (assoc spec :init {:type :lsuv :data train :tol 0}))))))

(deftest n-mnist-layout-event-files-load-and-train
  ;; A folder in N-MNIST's published layout (Train/<digit>/<n>.bin, 40-bit events),
  ;; written here: class 0 flickers in the left half of an 8 x 8 sensor, class 1 in the right.
  (let [root (.toFile (java.nio.file.Files/createTempDirectory "nmnist" (make-array java.nio.file.attribute.FileAttribute 0)))
        rng (java.util.Random. 4)]
    (doseq [label [0 1] k (range 12)]
      (let [n 60
            xs (int-array (repeatedly n #(+ (* 4 label) (.nextInt rng 4))))
            ys (int-array (repeatedly n #(.nextInt rng 8)))
            ps (int-array (repeatedly n #(.nextInt rng 2)))
            ts (int-array (sort (repeatedly n #(.nextInt rng 20000))))
            f (io/file root "Train" (str label) (format "%05d.bin" (inc k)))]
        (io/make-parents f)
        (.write (chive.core.data.NEvents. xs ys ps ts) (.toPath f))))
    (let [d (learn/event-folder (io/file root "Train") {:dt (chive.units/ms 1) :steps 20 :width 8 :height 8})
          m (learn/model {:inputs 128 :layers [{:n 16} {:n 2}] :neuron learn/jax-seed-neuron
                          :loss {:type :spike-count :reduction :sum :scale 0.5}
                          :init {:type :normal :scale 3.0} :seed 1 :threads 1})
          h (learn/train! m d {:epochs 1 :batch 8 :optimizer {:type :sgd :lr 2e-2 :momentum 0.9} :progress false})]
      (is (= [24 20 128 2] [(.samples d) (.steps d) (.units d) (.classes d)]))
      (is (= (concat (repeat 12 0) (repeat 12 1)) (vec (.labels d))) "class by class, labels from the folder names")
      (is (< 0 (.nnz (.events d)) (* 24 60)) "events binned, duplicates in a bin merged")
      (is (= 1 (count (:history @(:state m)))) "one epoch trained")
      (is (Double/isFinite (double (:train-loss (last (:history @(:state m)))))))
      (is (<= 0.0 (:accuracy (learn/evaluate m d)) 1.0)))
    (testing ":augment adds shifted, jittered copies after each sample, reproducibly"
      (let [opts {:dt (chive.units/ms 1) :steps 20 :width 8 :height 8
                  :augment {:copies 2 :shift 1 :jitter (chive.units/ms 0.5) :seed 9}}
            a (learn/event-folder (io/file root "Train") opts)
            b (learn/event-folder (io/file root "Train") opts)
            plain (learn/event-folder (io/file root "Train") {:dt (chive.units/ms 1) :steps 20 :width 8 :height 8})
            rows (fn [^chive.core.learn.Dataset d s] (vec (.dense (.events (.range d s (inc s))))))]
        (is (= 72 (.samples a)))
        (is (= (mapcat #(repeat 3 %) (.labels plain)) (vec (.labels a))))
        (is (= (rows plain 0) (rows a 0)) "the original first")
        (is (not= (rows a 0) (rows a 1)) "then a changed copy")
        (is (= (vec (.dense (.events a))) (vec (.dense (.events b)))) "the same from the same seed")
        (is (thrown-with-msg? clojure.lang.ExceptionInfo #"augment: unknown key :flip in event-folder :augment\. Valid keys: :copies :jitter :seed :shift"
                              (learn/event-folder (io/file root "Train") (assoc opts :augment {:flip true}))))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"no .bin files in its class folders"
                          (learn/event-folder root {})) "the folder above Train: its only 'class' (Train) holds no .bin file")
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"does not exist or is not a folder"
                          (learn/event-folder (io/file root "Nope") {})))
    (is (thrown-with-msg? chive.core.sim.ChiveException #"address \(\d+, \d+\) is outside the 4 x 8 sensor"
                          (learn/event-folder (io/file root "Train") {:width 4 :height 8})))))

(deftest shd-layout-hdf5-loads-and-trains
  ;; An HDF5 file in the Heidelberg spiking data sets' layout (spikes/times and
  ;; spikes/units as variable-length arrays, float16 times as in the published files,
  ;; uint16 units and labels), written by h5py: two classes firing in different channels.
  (let [dir (.toFile (java.nio.file.Files/createTempDirectory "shd" (make-array java.nio.file.attribute.FileAttribute 0)))
        f (io/file dir "shd_train.h5")
        script (str "import h5py, numpy as np, sys\n"
                    "r = np.random.default_rng(3)\n"
                    "n = 30\n"
                    "with h5py.File(sys.argv[1], 'w') as h:\n"
                    "    g = h.create_group('spikes')\n"
                    "    t = g.create_dataset('times', (n,), dtype=h5py.vlen_dtype(np.dtype('float16')))\n"
                    "    u = g.create_dataset('units', (n,), dtype=h5py.vlen_dtype(np.dtype('uint16')))\n"
                    "    lab = np.arange(n) % 2\n"
                    "    for s in range(n):\n"
                    "        k = 40\n"
                    "        ts = np.sort(r.uniform(0, 0.2, k)); us = r.integers(0, 350, k) + 350 * lab[s]\n"
                    "        ts[:2] = [0.001, 0.004]; us[1] = us[0]  # two spikes of one channel in one 10 ms step\n"
                    "        t[s] = ts.astype(np.float16)\n"
                    "        u[s] = us.astype(np.uint16)\n"
                    "    h.create_dataset('labels', data=lab.astype(np.uint16))\n"
                    "    h.create_group('extra').create_dataset('speaker', data=np.zeros(n, np.uint16))\n")
        r (clojure.java.shell/sh "/usr/bin/python3" "-c" script (str f))]
    (is (zero? (:exit r)) (str "h5py under /usr/bin/python3 (Debian's python3-h5py): " (:err r)))
    (when (zero? (:exit r))
      (let [d (learn/shd f {:dt (chive.units/ms 10) :steps 20})
            m (learn/model {:inputs 700 :layers [{:n 16} {:n 2}] :neuron learn/jax-seed-neuron
                            :loss {:type :spike-count :reduction :sum :scale 0.5}
                            :init {:type :normal :scale 3.0} :seed 1 :threads 1})]
        (is (= [30 20 700 2] [(.samples d) (.steps d) (.units d) (.classes d)]))
        (is (= (take 30 (cycle [0 1])) (vec (.labels d))))
        (is (<= (.nnz (.events d)) (* 30 39)) "spikes binned; the two of one channel in one 10 ms step merged")
        (is (< (* 30 35) (.nnz (.events d))) "and little else lost")
        (learn/train! m d {:epochs 1 :batch 10 :optimizer {:type :sgd :lr 2e-2 :momentum 0.9} :progress false})
        (is (= 1 (count (:history @(:state m)))) "one epoch trained")
        (is (thrown-with-msg? chive.core.sim.ChiveException #"channel \d+ is outside 0..349"
                              (learn/shd f {:channels 350})))
        (is (thrown-with-msg? chive.core.sim.ChiveException #"no such file"
                              (learn/shd (io/file dir "missing.h5") {})))
        (testing "other widths: float64 times, int64 units and labels; float units are refused"
          (let [g (io/file dir "wide.h5")
                bad (io/file dir "bad.h5")
                script (str "import h5py, numpy as np, sys\n"
                            "for path, udt in ((sys.argv[1], 'int64'), (sys.argv[2], 'float32')):\n"
                            "    with h5py.File(path, 'w') as h:\n"
                            "        s = h.create_group('spikes')\n"
                            "        t = s.create_dataset('times', (2,), dtype=h5py.vlen_dtype(np.dtype('float64')))\n"
                            "        u = s.create_dataset('units', (2,), dtype=h5py.vlen_dtype(np.dtype(udt)))\n"
                            "        t[0] = np.array([0.001, 0.015]); u[0] = np.array([3, 699], udt)\n"
                            "        t[1] = np.array([0.025]); u[1] = np.array([7], udt)\n"
                            "        h.create_dataset('labels', data=np.array([1, 0], np.int64))\n")
                r (clojure.java.shell/sh "/usr/bin/python3" "-c" script (str g) (str bad))]
            (is (zero? (:exit r)) (:err r))
            (let [d (learn/shd g {:dt (chive.units/ms 10) :steps 5})]
              (is (= [[3 0] [699 1] [7 2]]
                     (let [^floats x (.dense (.events d))]
                       (vec (for [k (range (alength x)) :when (pos? (aget x k))]
                              [(mod k 700) (mod (quot k 700) 5)])))) "channel and step of every spike")
              (is (= [1 0] (vec (.labels d)))))
            (is (thrown-with-msg? chive.core.sim.ChiveException #"spikes/units\[0\] must be integers, got float\[\]"
                                  (learn/shd bad {})))))))))

;; ---------------------------------------------------------------- deep layers

(defn- halves
  "n spike-frame samples of shape [1 8 8] over 10 steps: class 0 has its 25
  events in the left half of the frame, class 1 in the right half."
  [n seed]
  (let [r (java.util.SplittableRandom. (long seed))
        labels (int-array (repeatedly n #(.nextInt r 2)))
        ev (vec (for [s (range n)]
                  (let [x0 (* 4 (aget labels s))]
                    (vec (repeatedly 25 #(vector (+ (* 8 (.nextInt r 8)) x0 (.nextInt r 4)) (.nextInt r 10)))))))]
    (chive.core.learn.Dataset/fromEvents 64 10 (into-array (map #(int-array (map first %)) ev))
                                         (into-array (map #(int-array (map second %)) ev)) labels 2 "halves" true)))

(def ^:private conv-spec
  {:inputs [1 8 8]
   :layers [{:type :conv2d :channels 4 :kernel 3 :padding 1}
            {:type :lif :mem 0.9 :threshold 1.0 :per :channel :learn #{:mem :threshold}}
            {:type :maxpool2d :kernel 2}
            {:type :flatten}
            {:type :dropout :p 0.1}
            {:type :affine :n 2}
            {:type :li :mem 0.9}]
   :loss {:type :max-membrane :reduction :mean}
   :init {:type :kaiming-uniform}
   :seed 3 :threads 2})

(deftest conv-model-learns-and-checkpoints
  (let [train (halves 160 1) test (halves 80 2)
        m (learn/model conv-spec)]
    (is (= [{:layer 0 :type "conv2d" :in [1 8 8] :out [4 8 8]}
            {:layer 1 :type "LIF" :in [4 8 8] :out [4 8 8]}
            {:layer 2 :type "maxpool2d" :in [4 8 8] :out [4 4 4]}
            {:layer 3 :type "flatten" :in [4 4 4] :out [64]}
            {:layer 4 :type "dropout" :in [64] :out [64]}
            {:layer 5 :type "affine" :in [64] :out [2]}
            {:layer 6 :type "LI" :in [2] :out [2]}]
           (learn/shapes m)))
    (is (= [[0 :w [4 1 3 3]] [0 :bias [4]] [1 :mem [4]] [1 :threshold [4]] [5 :w [64 2]] [5 :bias [2]]]
           (map (juxt :layer :name :shape) (learn/weights m))))
    (let [h (learn/train! m train {:epochs 6 :batch 16 :optimizer {:type :adam :lr 1e-2} :shuffle-seed 1 :test test :progress false})
          mem (:values (first (filter #(= :mem (:name %)) (learn/weights m))))]
      (is (>= (:test-acc (last h)) 0.9) (str "conv net separates the halves: " (mapv :test-acc h)))
      (is (not= [0.9 0.9 0.9 0.9] (mapv #(Math/round (* 1000.0 %)) (vec mem))) "the trainable decay moved")
      (is (every? #(<= 0.0 % 1.5) (vec mem)))
      (let [{:keys [values shape]} (learn/feature-maps m test 0 1)
            ^floats spikes (nth (learn/record m test [0]) 1)
            spec (plot/feature-maps values shape {:title "LIF 1"})]
        (is (= [4 8 8] shape))
        (is (== (reduce + (seq spikes)) (reduce + (seq values))) "spike counts summed over the steps")
        (is (plot/spec? spec))
        (is (= "channel" (get-in spec [:facet :title])))
        (is (= (set (range 4)) (set (map :channel (get-in spec [:data :values])))) "every channel has a panel, silent ones too")
        (is (= 256 (count (get-in spec [:data :values]))) "zeros included")
        (is (= ["column" "row" "spikes"] [(get-in spec [:spec :encoding :x :axis :title]) (get-in spec [:spec :encoding :y :axis :title])
                                           (get-in spec [:spec :encoding :color :title])]))
        (is (thrown-with-msg? clojure.lang.ExceptionInfo #"feature-maps: 256 values for shape \[4 8 4\]"
                              (plot/feature-maps values [4 8 4]))))
      (let [dir (tmp-dir)
            _ (learn/save-checkpoint! m dir)
            before (mapv #(vec (:values %)) (learn/weights m))
            acc (:accuracy (learn/evaluate m test))
            m2 (learn/model conv-spec)]
        (learn/load-checkpoint! m2 dir)
        (is (= before (mapv #(vec (:values %)) (learn/weights m2))) "every conv, neuron and affine parameter restored")
        (is (= acc (:accuracy (learn/evaluate m2 test))))
        (is (= (.trainingSteps ^chive.core.learn.SpikingNet (:net m)) (.trainingSteps ^chive.core.learn.SpikingNet (:net m2)))
            "dropout masks continue where the saved run stopped")))))

(deftest batch-norm-trains-checkpoints-its-running-statistics-and-rolls-back
  (let [spec (update conv-spec :layers #(into [(assoc (first %) :bias false) {:type :batchnorm :momentum 0.2}] (rest %)))
        train (halves 160 1) test (halves 80 2)
        m (learn/model spec)]
    (is (= "BatchNorm" (:type (nth (learn/shapes m) 1))))
    (is (= [[1 :weight [4]] [1 :bias [4]]] (map (juxt :layer :name :shape) (filter #(= 1 (:layer %)) (learn/weights m)))))
    (let [h (learn/train! m train {:epochs 4 :batch 16 :optimizer {:type :adam :lr 1e-2} :shuffle-seed 1 :test test :progress false})
          ^chive.core.learn.BatchNorm bn (aget (.modules ^chive.core.learn.SpikingNet (:net m)) 1)
          rm (vec (.runningMean bn)) rv (vec (.runningVar bn))]
      (is (>= (:test-acc (last h)) 0.9) (str "with batch norm the conv net separates the halves: " (mapv :test-acc h)))
      (is (not= [0.0 0.0 0.0 0.0] rm) "running mean moved")
      (is (not= [1.0 1.0 1.0 1.0] rv) "running variance moved")
      (let [dir (tmp-dir)
            _ (learn/save-checkpoint! m dir)
            acc (:accuracy (learn/evaluate m test))
            m2 (learn/model spec)]
        (learn/load-checkpoint! m2 dir)
        (let [^chive.core.learn.BatchNorm bn2 (aget (.modules ^chive.core.learn.SpikingNet (:net m2)) 1)]
          (is (= [rm rv] [(vec (.runningMean bn2)) (vec (.runningVar bn2))]) "running statistics restored")
          (is (= acc (:accuracy (learn/evaluate m2 test))) "evaluation uses them"))
        (is (thrown-with-msg? chive.core.sim.ChiveException #"param-4.npy: shape \[128\], expected \[4\]"
                              (let [plain (learn/model conv-spec) d2 (tmp-dir)]
                                (learn/save-checkpoint! plain d2)
                                (learn/load-checkpoint! m2 d2)))
            "a checkpoint of the model without batch norm does not fit"))
      (testing "a failed epoch restores the running statistics with the weights"
        (is (thrown? clojure.lang.ExceptionInfo
                     (learn/train! m train {:epochs 1 :batch 16 :optimizer {:type :adam :lr 1e38} :shuffle-seed 1 :progress false})))
        (is (= [rm rv] [(vec (.runningMean bn)) (vec (.runningVar bn))])))))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #":momentum must be a finite number in \[0, 1\], got 2"
                        (learn/model (update conv-spec :layers #(into [(first %) {:type :batchnorm :momentum 2}] (rest %)))))))

(deftest conv-event-kernel-is-chosen-for-sparse-spikes
  (let [m (learn/model (assoc conv-spec :threads 1))
        ^chive.core.learn.SpikingNet net (:net m)
        before (.sparseProducts net)]
    (learn/evaluate m (halves 8 4))
    (is (pos? (- (.sparseProducts net) before)) "25 events in 640 units per sample: the conv scatters events")))

(deftest deep-layer-specs-name-the-problem
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"layers/2: unknown layer type :maxpool; did you mean :maxpool2d\?"
                        (learn/model (assoc-in conv-spec [:layers 2] {:type :maxpool :kernel 2}))))
  (is (thrown-with-msg? chive.core.sim.ChiveException #"layer 3 \(affine\): takes 64 inputs .*got shape \[4, 4, 4\] \(put a flatten layer before it\)"
                        (learn/model {:inputs [1 8 8] :layers [{:type :conv2d :channels 4 :kernel 3 :padding 1} {:type :if}
                                                               {:type :maxpool2d :kernel 2} {:type :affine :n 2} {:type :li :mem 0.9}]
                                      :loss {:type :max-membrane}})))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"layers/0: conv2d takes \[C H W\] maps, got shape \[64\]"
                        (learn/model (assoc conv-spec :inputs 64))))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"layers/1: unknown key :kernal in lif layer; did you mean :kernel\?|layers/1: unknown key :kernal in lif layer"
                        (learn/model (assoc-in conv-spec [:layers 1 :kernal] 3))))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"layers/1: if neurons do not leak"
                        (learn/model (assoc-in conv-spec [:layers 1] {:type :if :learn #{:mem}}))))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #":inputs must be a positive integer or a shape \[C H W\]"
                        (learn/model (assoc conv-spec :inputs [1 8])))))

(deftest layer-types-are-an-open-registry
  (is (every? (set (keys (learn/layer-types))) [:dense :conv2d :maxpool2d :avgpool2d :sumpool2d :flatten :affine :lif :if :li :integrator :delay :dropout]))
  (chive.registry/register! :layer :conv3x3
                            {:doc "a 3x3 same-padding convolution" :keys #{:channels}
                             :new (fn [_ spec _ shape _] (chive.core.learn.Conv2d. (int (first shape)) (int (:channels spec)) 3 3 1 1 1 1 1 1 1 true))})
  (try
    (let [m (learn/model (assoc-in conv-spec [:layers 0] {:type :conv3x3 :channels 4}))]
      (is (= [4 8 8] (:out (first (learn/shapes m))))))
    (finally (chive.registry/unregister! :layer :conv3x3))))

(deftest lsuv-scales-the-stage-before-element-wise-neurons
  (let [d (halves 64 3)
        m (learn/model (assoc conv-spec :init {:type :lsuv :data d :batch 32 :base {:type :kaiming-uniform}}))
        report (:lsuv @(:state m))]
    (is (= [1 6] (map :layer report)) "the LIF after the conv and the LI readout after the affine map")
    (doseq [{:keys [std iterations]} report]
      (is (or (< (Math/abs (- std 1.0)) 0.05) (= 10 iterations)) (str "std " std " after " iterations)))))

(deftest lr-schedules-follow-the-models-epoch-count
  (let [[train] (small-randman)
        m (small-model 2)
        rate #(.learningRate ^chive.core.learn.Optimizer (:optimizer @(:state m)))
        seen (atom [])
        opts {:epochs 3 :batch 48 :optimizer {:type :sgd :lr 0.04 :momentum 0.9} :shuffle-seed 1 :progress false
              :lr-schedule {:type :step :every 1 :factor 0.5} :on-epoch (fn [_] (swap! seen conj (rate)))}]
    (learn/train! m train opts)
    (is (= [0.04 0.02 0.01] @seen))
    (learn/train! m train (assoc opts :epochs 1 :lr-schedule {:type :cosine :epochs 8 :min 0.001}))
    (is (< (Math/abs (- (last @seen) (+ 0.001 (* 0.039 0.5 (+ 1 (Math/cos (/ (* Math/PI 3) 8))))))) 1e-12) "epoch 4 of a cosine over 8")
    (learn/train! m train (dissoc (assoc opts :epochs 1) :lr-schedule))
    (is (= 0.04 (last @seen)) "no schedule: the optimizer's own rate")
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"lr-schedule: unknown key :evry in :lr-schedule :step; did you mean :every\?"
                          (learn/train! m train (assoc opts :lr-schedule {:type :step :evry 2 :factor 0.5}))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"lr-schedule: unknown :type :linear"
                          (learn/train! m train (assoc opts :lr-schedule {:type :linear}))))))

(deftest recurrent-neuron-stages
  ;; :recurrent true on a spiking stage: trained n x n weights v, initialised
  ;; uniform in ±1/sqrt(n); readouts and maps are refused by name.
  (let [m (learn/model {:inputs 4 :layers [{:type :affine :n 6} {:type :lif :mem 0.9 :recurrent true} {:type :affine :n 2} {:type :li :mem 0.9}]
                        :loss {:type :max-membrane} :seed 3})
        v (first (filter #(= :v (:name %)) (learn/weights m)))]
    (is (= [1 [6 6]] [(:layer v) (:shape v)]))
    (is (every? #(<= (Math/abs (double %)) (/ 1.0 (Math/sqrt 6))) (:values v)))
    (is (< 0.05 (apply max (map #(Math/abs (double %)) (:values v)))) "not all zero")
    (let [[train] (small-randman)
          m2 (learn/model {:inputs 16 :layers [{:type :affine :n 12} {:type :lif :mem 0.9 :recurrent true :reset :hard-leak} {:type :affine :n 2} {:type :li :mem 0.9}]
                           :loss {:type :max-membrane} :seed 3})
          before (vec (:values (first (filter #(= :v (:name %)) (learn/weights m2)))))]
      (learn/train! m2 train {:epochs 1 :batch 32 :optimizer {:type :adam :lr 1e-2} :progress false})
      (is (not= before (vec (:values (first (filter #(= :v (:name %)) (learn/weights m2)))))) "v trains"))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"li is a readout; :recurrent needs :lif or :if"
                          (learn/model {:inputs 4 :layers [{:type :affine :n 2} {:type :li :mem 0.9 :recurrent true}] :loss {:type :max-membrane}})))
    (is (thrown-with-msg? chive.core.sim.ChiveException #"recurrent neurons take a vector of units, got shape \[2, 4, 4\]"
                          (learn/model {:inputs [1 4 4] :layers [{:type :conv2d :channels 2 :kernel 1} {:type :lif :mem 0.9 :recurrent true}]
                                        :loss {:type :spike-count}})))))

(deftest progress-says-how-long-is-left
  (is (= "42 s" (chive.impl.log/duration 42.2)))
  (is (= "3 min 05 s" (chive.impl.log/duration 185)))
  (is (= "2 h 14 min" (chive.impl.log/duration (+ 7200 840 10))))
  (is (= "ETA 30 s" (chive.impl.log/eta 10 30 10.0)) "30 more at 1 per second")
  (is (= "ETA ?" (chive.impl.log/eta 0 30 0.0)))
  (let [[train] (learn/split-at-fraction (learn/randman {:classes 2 :units 8 :steps 20 :samples 40 :seed 1}) 0.8)
        m (learn/model {:inputs 8 :layers [{:n 8} {:n 2 :readout true}] :neuron learn/spytorch-neuron
                        :loss {:type :max-membrane :reduction :mean} :seed 1 :threads 1})
        err (java.io.StringWriter.)]
    (binding [*err* err] (learn/train! m train {:epochs 2 :batch 8 :optimizer {:type :adam :lr 1e-3} :progress true}))
    (is (re-find #"epoch 1  batch 8/8 .* ETA \d+ s this epoch, ETA \d+ s for all 2 remaining epochs" (str err)) (str err))
    (is (re-find #"epoch 2  batch 8/8 .* ETA \d+ s this epoch" (str err)))))
