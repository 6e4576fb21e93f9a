(ns chive.numpy-test
  "Your own data in and out, checked against numpy and SciPy themselves
  (Debian's python3-numpy and python3-scipy under /usr/bin/python3): numpy
  writes every dtype a user meets, in both byte orders and both layouts,
  as .npy and .npz (stored and compressed), and a float32 array over 2 GB
  made sparse on disk; chive reads them back equal. chive writes .npy, .npz,
  a SciPy CSR matrix and its exports of weights, traces and rates; numpy and
  scipy.sparse.load_npz read them back equal."
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.java.io :as io]
            [clojure.java.shell :as sh]
            [clojure.string :as str]
            [chive.io :as cio]
            [chive.learn :as learn]
            [chive.net :as net]
            [chive.units :refer [ms mV Hz]])
  (:import (java.io File)))

(defn- tmp-dir [] (doto (File/createTempFile "chive-numpy" "") .delete .mkdirs))

(defn- python [script & args]
  (let [r (apply sh/sh "/usr/bin/python3" "-c" script (map str args))]
    (is (zero? (:exit r)) (str "python3: " (:err r)))
    r))

(defn- have-python? [modules]
  (let [ok (and (.canExecute (io/file "/usr/bin/python3"))
                (zero? (:exit (sh/sh "/usr/bin/python3" "-c" (str "import " (str/join ", " modules))))))]
    (when-not ok
      (is (not (System/getenv "CHIVE_REQUIRE_SCIPY")) (str "CHIVE_REQUIRE_SCIPY is set but /usr/bin/python3 lacks " modules))
      (println "chive.numpy-test: /usr/bin/python3 lacks" modules "(bin/chive setup installs python3-numpy and python3-scipy); checks skipped"))
    ok))

(def ^:private dtypes ["bool" "int8" "int16" "int32" "int64" "uint8" "uint16" "uint32" "float32" "float64"])

(defn- expected
  "The values numpy writes for `dtype` (see the script): from base = 0..11."
  [dtype]
  (let [base (range 12)]
    (case dtype
      "bool" (map #(zero? (mod % 3)) base)
      ("int8" "int16" "int32" "int64") (map #(- (* 7 %) 30) base)
      ("uint8" "uint16" "uint32") (map #(* 21 %) base)
      ("float32" "float64") (map #(- (* 0.5 %) 2.25) base))))

(def ^:private numpy-writes
  "import numpy as np, sys
d = sys.argv[1]
base = np.arange(12).reshape(3, 4)
def values(t):
    if t == 'bool': return base % 3 == 0
    if t.startswith('int'): return (base * 7 - 30).astype(t)
    if t.startswith('uint'): return (base * 21).astype(t)
    return (base * 0.5 - 2.25).astype(t)
arrays = {}
for t in sys.argv[2].split(','):
    a = values(t)
    for order in '<>':
        b = a.astype(np.dtype(t).newbyteorder(order)) if np.dtype(t).itemsize > 1 else a
        for layout in 'CF':
            c = np.asfortranarray(b) if layout == 'F' else np.ascontiguousarray(b)
            np.save(f'{d}/{t}_{order == \"<\" and \"le\" or \"be\"}_{layout}.npy', c)
    arrays[t] = a
np.savez(f'{d}/all.npz', **arrays)
np.savez_compressed(f'{d}/all_compressed.npz', **arrays)
")

(deftest chive-reads-what-numpy-writes-in-every-dtype-order-and-layout
  (when (have-python? ["numpy"])
    (let [dir (tmp-dir)]
      (python numpy-writes dir (str/join "," dtypes))
      (doseq [t dtypes, order ["le" "be"], layout ["C" "F"]]
        (let [f (io/file dir (str t "_" order "_" layout ".npy"))
              {:keys [shape data]} (cio/read-npy f)]
          (is (= [3 4] shape) (str f))
          (is (= (map #(if (boolean? %) % (double %)) (expected t))
                 (map #(if (boolean? %) % (double %)) (seq data)))
              (str (.getName f) ": values in C order"))))
      (testing "the Java array types hold every value exactly"
        (is (instance? (Class/forName "[Z") (:data (cio/read-npy (io/file dir "bool_le_C.npy")))))
        (is (instance? (Class/forName "[J") (:data (cio/read-npy (io/file dir "int64_be_F.npy")))))
        (is (instance? (Class/forName "[S") (:data (cio/read-npy (io/file dir "uint8_le_C.npy")))) "uint8 widened to int16")
        (is (instance? (Class/forName "[J") (:data (cio/read-npy (io/file dir "uint32_le_C.npy")))) "uint32 widened to int64"))
      (doseq [z ["all.npz" "all_compressed.npz"]]
        (let [m (cio/read-npz (io/file dir z))]
          (is (= (set dtypes) (set (keys m))) z)
          (doseq [t dtypes]
            (is (= (map #(if (boolean? %) % (double %)) (expected t))
                   (map #(if (boolean? %) % (double %)) (seq (:data (get m t)))))
                (str z " " t)))))
      (testing "corrupt and wrong files are named"
        (spit (io/file dir "not.npz") "hello")
        (is (thrown-with-msg? Exception #"not.npz: not a .npz archive" (cio/read-npz (io/file dir "not.npz"))))
        (let [bytes (java.nio.file.Files/readAllBytes (.toPath (io/file dir "all.npz")))]
          (with-open [o (io/output-stream (io/file dir "cut.npz"))] (.write o bytes 0 (quot (alength bytes) 2))))
        (is (thrown-with-msg? Exception #"cut.npz" (cio/read-npz (io/file dir "cut.npz"))))))))

(deftest numpy-reads-what-chive-writes
  (when (have-python? ["numpy"])
    (let [dir (tmp-dir)
          base (range 12)
          arrays {"f4" {:data (float-array (map #(- (* 0.5 %) 2.25) base)) :shape [3 4]}
                  "f8" {:data (double-array (map #(/ % 3.0) base)) :shape [3 4]}
                  "i4" {:data (int-array (map #(- (* 7 %) 30) base)) :shape [3 4]}
                  "i8" {:data (long-array (map #(* % 1000000000000) base)) :shape [2 6]}
                  "i2" {:data (short-array (map #(- % 6) base)) :shape [12]}
                  "i1" {:data (byte-array (map #(- % 6) base)) :shape [4 3]}
                  "b1" {:data (boolean-array (map odd? base)) :shape [3 2 2]}}]
      (doseq [[k a] arrays] (cio/write-npy! (io/file dir (str k ".npy")) a))
      (cio/write-npz! (io/file dir "all.npz") arrays)
      (cio/write-npz! (io/file dir "allz.npz") arrays :compress true)
      (let [r (python "import numpy as np, sys, json
d = sys.argv[1]
out = {}
for k in ['f4', 'f8', 'i4', 'i8', 'i2', 'i1', 'b1']:
    a = np.load(f'{d}/{k}.npy')
    z = np.load(f'{d}/all.npz')[k]; zc = np.load(f'{d}/allz.npz')[k]
    assert np.array_equal(a, z) and np.array_equal(a, zc) and a.dtype == z.dtype == zc.dtype
    out[k] = [a.dtype.str, list(a.shape), a.ravel().tolist()]
print(json.dumps(out))" dir)
            got (cheshire.core/parse-string (:out r))]
        (doseq [[k {:keys [data shape]}] arrays]
          (let [[dt sh vals] (get got k)]
            (is (= ({"f4" "<f4" "f8" "<f8" "i4" "<i4" "i8" "<i8" "i2" "<i2" "i1" "|i1" "b1" "|b1"} k) dt) k)
            (is (= shape sh) k)
            (is (= (map #(if (boolean? %) % (double %)) (seq data)) (map #(if (boolean? %) % (double %)) vals)) k))))
      (testing "bad arrays and names are refused by name"
        (is (thrown-with-msg? Exception #"12 values do not make an array of shape \[5, 2\]"
                              (cio/write-npy! (io/file dir "x.npy") {:data (float-array 12) :shape [5 2]})))
        (is (thrown-with-msg? Exception #"array name \"a/b\"" (cio/write-npz! (io/file dir "x.npz") {"a/b" (float-array 1)})))
        (is (thrown-with-msg? Exception #"cannot write PersistentVector" (cio/write-npy! (io/file dir "x.npy") [1 2])))
        (is (not (.exists (io/file dir "x.npz"))) "nothing half-written")))))

(deftest a-float32-array-over-2-gb-is-memory-mapped
  (when (have-python? ["numpy"])
    (let [dir (tmp-dir)
          f (io/file dir "big.npy")
          n 600000000]                        ; 2.4 GB of float32, sparse on disk
      (try
        (python "import numpy as np, sys
a = np.lib.format.open_memmap(sys.argv[1], mode='w+', dtype='<f4', shape=(150000000, 4))
a[0, 0] = 1.5; a[100000000, 1] = -2.25; a[149999999, 3] = 7.0
a.flush()" f)
        (is (> (.length f) (* 2 1024 1024 1024)) "the file is over 2 GB")
        (is (thrown-with-msg? Exception #"memory-map it instead" (cio/read-npy f)) "read-npy points to npy-map")
        (let [m (cio/npy-map f)]
          (is (= [150000000 4] (vec (.shape m))))
          (is (= n (.length m)))
          (is (= 1.5 (.get m 0)))
          (is (= -2.25 (.get m (+ (* 100000000 4) 1))) "an element past 2^31 bytes")
          (is (= 7.0 (.get m (dec n))) "the last element")
          (is (= [0.0 -2.25 0.0 0.0] (mapv double (.rows m 100000000 1))))
          (is (thrown-with-msg? Exception #"outside" (.get m n))))
        (finally (.delete f))))))

(def ^:private small-net
  {:dt (ms 0.1) :seed 5
   :groups {:in {:model :poisson :n 30 :rate (Hz 100)}
            :exc {:model :lif :n 12}}
   :projections {:in->exc {:from :in :to :exc :target :ge :connect {:rule :fixed-probability :p 0.3} :weight [:uniform (mV 0.1) (mV 1.0)]}}
   :monitors {:v {:type :state :group :exc :var :v :neurons [0 4 7] :every (ms 1)}
              :rate {:type :rate :group :exc}}})

(deftest scipy-and-numpy-read-the-exports
  (when (have-python? ["numpy" "scipy.sparse"])
    (let [n (net/build small-net)
          dir (tmp-dir)]
      (net/run! n (ms 30) :progress false)
      (let [written (set (map #(.getName (io/file %)) (cio/export! n dir {:weights [:in->exc] :sparse [:in->exc] :traces [:v] :rates [:rate]})))]
        (is (every? #(re-matches #"[A-Za-z0-9_.-]+" %) written) (str "no shell-hostile names: " written))
        (is (contains? written "in_to_exc.weights.csr.npz")))
      (let [r (python "import numpy as np, scipy.sparse as sp, sys, json
d = sys.argv[1]
m = sp.load_npz(d + '/in_to_exc.weights.csr.npz')
w = np.load(d + '/in_to_exc.weights.npy')
v = np.load(d + '/v.v.npy'); t = np.load(d + '/v.times_ms.npy'); nr = np.load(d + '/v.neurons.npy')
rt = np.load(d + '/rate.rates_hz.npy'); rtt = np.load(d + '/rate.times_ms.npy')
print(json.dumps({'format': m.format, 'shape': list(m.shape), 'nnz': int(m.nnz), 'equal': bool(np.array_equal(m.toarray(), w)),
                  'dtype': m.dtype.str, 'v': [list(v.shape), v.dtype.str, float(v[-1, 1])], 't': [len(t), float(t[-1])],
                  'neurons': nr.tolist(), 'rates': [len(rt), len(rtt), float(rt.sum())]}))" dir)
            got (cheshire.core/parse-string (:out r) true)
            {:keys [pre]} (net/connections n :in->exc)
            tr (net/trace n :v)
            rates (net/rates n :rate)]
        (is (= "csr" (:format got)))
        (is (= [30 12] (:shape got)))
        (is (= (alength ^ints pre) (:nnz got)) "one entry per synapse")
        (is (true? (:equal got)) "scipy's matrix equals the dense export")
        (is (= "<f4" (:dtype got)))
        (is (= [[(count (:values tr)) 3] "<f4" (double (aget ^floats (last (:values tr)) 1))] (:v got)) "the state trace, [records, neurons]")
        (is (= [(alength ^doubles (:times-ms tr)) (last (:times-ms tr))] (:t got)))
        (is (= [0 4 7] (:neurons got)))
        (let [[n1 n2 total] (:rates got)]
          (is (= [(alength ^doubles (:rates-hz rates)) (alength ^doubles (:rates-hz rates))] [n1 n2]))
          (is (< (Math/abs (- total (reduce + (:rates-hz rates)))) 1e-9) "the rates, float64 (sums in another order)"))
        (testing "chive reads the CSR back, and SciPy's own save_npz too"
          (let [c (cio/read-csr (io/file dir "in_to_exc.weights.csr.npz"))]
            (is (= [30 12] (:shape c)))
            (is (= (alength ^ints pre) (alength ^ints (:indices c)))))
          (python "import numpy as np, scipy.sparse as sp, sys
sp.save_npz(sys.argv[1] + '/eye.npz', sp.csr_matrix(np.eye(4, 5, dtype=np.float32) * 3))
sp.save_npz(sys.argv[1] + '/coo.npz', sp.coo_matrix(np.eye(3)))" dir)
          (let [c (cio/read-csr (io/file dir "eye.npz"))]
            (is (= [4 5] (:shape c)))
            (is (= [0 1 2 3 4] (vec (:indptr c))))
            (is (= [0 1 2 3] (vec (:indices c))))
            (is (= [3.0 3.0 3.0 3.0] (map double (:data c)))))
          (is (thrown-with-msg? Exception #"format \"coo\"; chive reads csr" (cio/read-csr (io/file dir "coo.npz"))))))
      (testing "two parts that would share a file name are refused before anything is written"
        (is (thrown-with-msg? Exception #"would write the same file names"
                              (cio/export! (assoc-in n [:projections :in_to_exc] (get-in n [:projections :in->exc])) (tmp-dir)
                                           {:weights [:in->exc :in_to_exc]})))))))

(deftest a-users-npy-spike-dataset-with-3-classes-trains-and-evaluates
  (when (have-python? ["numpy"])
    (let [dir (tmp-dir)]
      ;; numpy makes the data as a user would: bool rasters [samples, steps, units], int64 labels;
      ;; class c drives units 4c..4c+3 (30 % per step), all units fire at 2 % as noise.
      (python "import numpy as np, sys
d = sys.argv[1]
rng = np.random.default_rng(7)
n, T, U = 300, 40, 12
y = rng.permutation(np.repeat(np.arange(3), n // 3)).astype(np.int64)
x = rng.random((n, T, U)) < 0.02
for i, c in enumerate(y):
    x[i, :, 4*c:4*c+4] |= rng.random((T, 4)) < 0.3
np.save(d + '/x.npy', x); np.save(d + '/y.npy', y)
np.savez(d + '/d.npz', x=x, y=y)
k = np.nonzero(x)
np.savez(d + '/events.npz', sample=k[0].astype(np.int32), t=k[1].astype(np.int16), unit=k[2].astype(np.uint8), y=y)
with open(d + '/dense.csv', 'w') as f:
    f.write('label,' + ','.join(f'u{j}' for j in range(U)) + '\\n')
    for i in range(n):
        f.write(str(y[i]) + ',' + ','.join(f'{v:.4f}' for v in x[i].mean(axis=0)) + '\\n')
with open(d + '/events.csv', 'w') as f:
    f.write('sample,t,unit,label\\n')
    for s, t, u in zip(*k):
        f.write(f'{s},{t},{u},{y[s]}\\n')" dir)
      (let [ds (learn/read-dataset {:x (io/file dir "x.npy") :y (io/file dir "y.npy")})
            [train test] (learn/split-at-fraction ds 0.8)
            m (learn/model {:inputs 12 :layers [{:n 20} {:n 3 :readout true}] :neuron learn/spytorch-neuron
                            :loss {:type :max-membrane :reduction :mean} :seed 3 :threads 1})
            h (learn/train! m train {:epochs 8 :batch 20 :optimizer {:type :adam :lr 5e-3} :shuffle-seed 1 :test test :progress false})]
        (is (= [300 40 12 3] [(.samples ds) (.steps ds) (.units ds) (.classes ds)]))
        (is (> (:accuracy (learn/evaluate m test)) 0.9) (str "3 classes, chance 0.33: " (mapv :test-acc h)))
        (testing "the same data as NPZ, as an event list (NPZ and CSV) are the same dataset"
          (doseq [other [(learn/read-dataset {:npz (io/file dir "d.npz")})
                         (learn/read-dataset {:npz (io/file dir "events.npz")} {:steps 40 :units 12})
                         (learn/read-dataset {:csv (io/file dir "events.csv")} {:steps 40 :units 12})]]
            (is (= (vec (.labels ds)) (vec (.labels other))) (.description other))
            (is (= (vec (.rowPtr (.events ds))) (vec (.rowPtr (.events other)))) (.description other))
            (is (= (vec (.idx (.events ds))) (vec (.idx (.events other)))) (.description other))))
        (testing "dense features from CSV are rate-coded, any class count"
          (let [d (learn/read-dataset {:csv (io/file dir "dense.csv")} {:code {:type :regular :steps 40 :max-rate-hz 1000}})]
            (is (= [300 40 12 3] [(.samples d) (.steps d) (.units d) (.classes d)])))))
      (testing "bad data is named"
        (is (thrown-with-msg? Exception #"3 labels for 2 samples"
                              (learn/array-dataset {:shape [2 3 4] :data (boolean-array 24)} (int-array [0 1 2]))))
        (is (thrown-with-msg? Exception #"label -1.0 of sample 1 is not a whole number"
                              (learn/array-dataset {:shape [2 3 4] :data (boolean-array 24)} (long-array [0 -1]))))
        (is (thrown-with-msg? Exception #"value 1.5 at sample 0, feature 1 is outside \[0, 1\]"
                              (learn/array-dataset {:shape [2 2] :data (double-array [0 1.5 0 0])} (int-array [0 1]))))
        (is (thrown-with-msg? Exception #"event 0 belongs to sample 5"
                              (learn/event-dataset {:sample (int-array [5]) :t (int-array [0]) :unit (int-array [0])} (int-array [0 1]))))
        (let [ev {:sample (int-array [0 0]) :t (double-array [1.0 1e12]) :unit (int-array [0 1])}]
          (is (thrown-with-msg? Exception #"bin width dt must be a time > 0, got 0.0 ms"
                                (learn/event-dataset ev (int-array [0]) {:dt (ms 0)})))
          (is (thrown-with-msg? Exception #"time 1.0E12 ms of event 1 is step 1000000000000 at dt 1.0 ms, past the 2147483647 steps"
                                (learn/event-dataset ev (int-array [0]) {:dt (ms 1)})))
          (is (thrown-with-msg? Exception #"t 3.0E9 of event 1 is not a whole number >= 0 below 2147483647"
                                (learn/event-dataset (assoc ev :t (long-array [1 3000000000])) (int-array [0])))))
        (is (thrown-with-msg? Exception #"no array named x or X or data or spikes"
                              (do (cio/write-npz! (io/file dir "bad.npz") {"foo" (float-array 1)})
                                  (learn/read-dataset {:npz (io/file dir "bad.npz")}))))))))
