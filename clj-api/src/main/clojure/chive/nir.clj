(ns chive.nir
  "NIR, the Neuromorphic Intermediate Representation (Pedersen et al., Nature
  Communications 2024; github.com/neuromorphs/NIR): read and write NIR HDF5
  files (format version 1.x, the layout of `nir/serialization.py`), as
  Clojure data.

  A graph is a map
    {:type \"NIRGraph\" :nodes {\"name\" node ...} :edges [[\"from\" \"to\"] ...]
     :metadata {...}}
  and a node a map with its NIR type name and the parameters the spec names,
  e.g. {:type \"LIF\" :tau a :r a :v_leak a :v_threshold a :v_reset a}.
  Parameter arrays are maps {:shape [d ...] :dtype \"float32\" :data <flat
  primitive array, row-major>}; `array` makes one from numbers or nested
  vectors, `->vec` gives nested vectors back. Integer parameters (stride,
  groups, ...) may be numbers or arrays, as in NIR; a conv padding may be
  \"same\" or \"valid\". Nested graphs are nodes of type \"NIRGraph\".

  `check` validates a graph against the spec's primitives (Input, Output,
  Affine, Linear, Scale, Threshold, Delay, Flatten, Conv1d, Conv2d,
  SumPool2d, AvgPool2d, I, IF, LI, LIF, CubaLI, CubaLIF, NIRGraph): unknown
  types, missing or misshapen parameters, edges naming no node and shapes
  that do not meet along an edge are refused with an error naming the node.
  It returns each node's input and output shapes, inferred forwards from the
  Input nodes where a node's parameters leave them open (pooling, a
  convolution without input_shape), through recurrent edges too.

  The node equations (what the parameters mean) are the spec's
  (docs/source/primitives.md), continuous in time:
    LI       tau dv/dt = (v_leak - v) + R I
    LIF      the same, spiking when v > v_threshold, then v = v_reset
    I, IF    dv/dt = R I (IF spiking as LIF)
    CubaLI   tau_syn dI/dt = -I + w_in S;  tau_mem dv/dt = (v_leak - v) + R I
    CubaLIF  the same, spiking as LIF
    Affine   y = W x + b;  Linear  y = W x;  Scale  y = s ⊙ x
    Threshold z = H(x - threshold);  Delay  y(t) = x(t - delay)"
  (:refer-clojure :exclude [read])
  (:require [chive.impl.files :as files]
            [chive.learn :as learn]
            [chive.net :as net]
            [chive.units]
            [clojure.string :as str])
  (:import (io.jhdf HdfFile WritableHdfFile)
           (io.jhdf.api Dataset Group Node WritableGroup)
           (java.nio.file Path Paths)))

(set! *warn-on-reflection* true)

(def format-version
  "The NIR file format version chive writes; it reads 1.x."
  "1.0.0")

(defn- fail [msg data] (throw (ex-info msg data)))

;; ---------------------------------------------------------------- arrays

(def ^:private dtypes
  "Java component type -> NIR/numpy dtype name."
  {Float/TYPE "float32" Double/TYPE "float64" Integer/TYPE "int32" Long/TYPE "int64"
   Short/TYPE "int16" Byte/TYPE "int8"})

(defn array?
  "True for a parameter array map {:shape :dtype :data}."
  [x]
  (and (map? x) (contains? x :shape) (contains? x :data)))

(defn- flat-data
  "Flat primitive array of `dtype` from a seq of numbers."
  [dtype xs]
  (case dtype
    "float32" (float-array xs)
    "float64" (double-array xs)
    "int32" (int-array xs)
    "int64" (long-array xs)
    "int16" (short-array xs)
    "int8" (byte-array xs)
    (fail (str "NIR array: unknown dtype " (pr-str dtype) "; valid: float32, float64, int32, int64, int16, int8") {:dtype dtype})))

(defn- shape-of-nested [x]
  (if (sequential? x)
    (let [inner (map shape-of-nested x)]
      (when (and (seq inner) (not (apply = inner)))
        (fail (str "NIR array: ragged nested vectors (rows of shapes " (pr-str (distinct inner)) ")") {:value x}))
      (into [(count x)] (first inner)))
    []))

(defn array
  "A parameter array from a number, a (nested) vector of numbers, or a
  primitive array, with `shape` (default: the nesting) and `dtype` (default
  float64 for numbers, the array's own type for a primitive array)."
  ([x] (array x {}))
  ([x {:keys [shape dtype]}]
   (cond
     (array? x) (if (or shape dtype)
                  (array (seq (:data x)) {:shape (or shape (:shape x)) :dtype (or dtype (:dtype x))})
                  x)
     (and (some? x) (.isArray ^Class (class x)))
     (let [dt (or dtype (dtypes (.getComponentType ^Class (class x)))
                  (fail (str "NIR array: unsupported element type " (.getComponentType ^Class (class x))) {}))
           n (java.lang.reflect.Array/getLength x)
           shape (vec (or shape [n]))]
       (when-not (= n (reduce * 1 shape))
         (fail (str "NIR array: " n " values do not fill shape " shape) {:shape shape :n n}))
       {:shape shape :dtype dt :data (if (= dt (dtypes (.getComponentType ^Class (class x)))) x (flat-data dt (seq x)))})
     (number? x) (array [x] {:shape (or shape []) :dtype dtype})
     (sequential? x)
     (let [nested-shape (shape-of-nested x)
           xs (if (seq nested-shape) (flatten x) [])
           shape (vec (or shape nested-shape))]
       (when-not (every? number? xs) (fail (str "NIR array: not all numbers: " (pr-str (take 5 (remove number? xs)))) {}))
       (when-not (= (count xs) (reduce * 1 shape))
         (fail (str "NIR array: " (count xs) " values do not fill shape " shape) {:shape shape}))
       {:shape shape :dtype (or dtype "float64") :data (flat-data (or dtype "float64") xs)})
     :else (fail (str "NIR array: cannot make an array of " (pr-str x)) {:value x}))))

(defn size "Number of elements of array `a`." ^long [a] (reduce * 1 (:shape a)))

(defn ->vec
  "Array `a` as nested vectors of numbers (a number for a 0-d array)."
  [a]
  (let [xs (vec (:data a))
        build (fn build [shape off]
                (if (empty? shape)
                  (nth xs off)
                  (let [stride (reduce * 1 (rest shape))]
                    (mapv #(build (rest shape) (+ off (* % stride))) (range (first shape))))))]
    (build (:shape a) 0)))

(defn- ints-of
  "An integer parameter (a number or an array) as a vector of longs."
  [x]
  (cond (number? x) [(long x)]
        (array? x) (mapv long (:data x))
        (sequential? x) (mapv long x)
        :else nil))

;; ---------------------------------------------------------------- reading

(defn- dataset-value [^Dataset d]
  (let [jt (.getJavaType d)
        dims (vec (.getDimensions d))]
    (cond
      (= jt String) (let [v (.getData d)]
                      (cond (string? v) v
                            (empty? dims) (str v)
                            :else (letfn [(walk [x] (if (string? x) x (mapv walk (seq x))))] (walk v))))
      (.isScalar d) (let [v (.getData d)]
                      (if (.isArray ^Class (class v)) (java.lang.reflect.Array/get v 0) v))
      (dtypes jt) {:shape dims :dtype (dtypes jt) :data (.getDataFlat d)}
      (#{Boolean/TYPE Boolean} jt) {:shape dims :dtype "bool" :data (.getDataFlat d)}
      :else (fail (str "NIR file: dataset " (.getPath d) " has unsupported type " jt) {:path (.getPath d)}))))

(defn- group->map [^Group g]
  (into {} (for [[k ^Node v] (.getChildren g)]
             [k (if (instance? Group v) (group->map v) (dataset-value v))])))

(defn- unwrap
  "A numeric value read where NIR stores an array or a number: the number
  for a 0-d array or a one-element integer parameter, else the array."
  [x]
  (if (and (array? x) (empty? (:shape x))) (first (seq (:data x))) x))

(declare node-from-file)

(defn- edges-from-file [path e]
  (cond
    (nil? e) []
    (and (vector? e) (every? #(and (vector? %) (= 2 (count %)) (every? string? %)) e)) e
    (and (array? e) (zero? (size e))) []
    :else (fail (str "NIR file: " path "/edges is not a list of [from to] name pairs: " (pr-str e)) {:path path})))

(defn- node-from-file [path m]
  (let [type (get m "type")]
    (when-not (string? type)
      (fail (str "NIR file: node " path " has no type") {:path path}))
    (if (= type "NIRGraph")
      (cond-> {:type "NIRGraph"
               :nodes (into (sorted-map) (for [[k v] (get m "nodes")] [k (node-from-file (str path "/nodes/" k) v)]))
               :edges (edges-from-file path (get m "edges"))}
        (seq (get m "metadata")) (assoc :metadata (get m "metadata")))
      (into {:type type}
            (for [[k v] m
                  :when (not (#{"type" "input_type" "output_type"} k))]
              [(keyword k) (cond (= k "metadata") v
                                 ;; Flatten stores its input shape as an array under input_type (handled below).
                                 :else (unwrap v))])))))

(defn- flatten-input-type
  "Flatten keeps its input shape in the file as input_type (an array)."
  [m node]
  (if (and (= "Flatten" (:type node)) (array? (get m "input_type")))
    (assoc node :input_type (mapv long (:data (get m "input_type"))))
    node))

(defn- fix-flatten [path m node]
  (if (= "NIRGraph" (:type node))
    (update node :nodes (fn [ns] (into (sorted-map) (for [[k n] ns] [k (fix-flatten (str path "/nodes/" k) (get-in m ["nodes" k]) n)]))))
    (flatten-input-type m node)))

(defn- path-of ^Path [p] (if (instance? Path p) p (Paths/get (str p) (make-array String 0))))

(declare check)

(defn read
  "Reads the NIR HDF5 file at `path` into a graph (see the namespace doc) and
  checks it (`check`). Throws, naming the file and the node, on a file that
  is not NIR, a version other than 1.x, an unknown node type or
  inconsistent shapes. Options: :check false skips the check."
  ([path] (read path {}))
  ([path {:keys [check?] :or {check? true}}]
   (let [p (path-of path)]
     (when-not (java.nio.file.Files/isRegularFile p (make-array java.nio.file.LinkOption 0))
       (fail (str "NIR file " p " does not exist or is not a file") {:path (str p)}))
     (let [[version raw]
           (try
             (with-open [f (HdfFile. p)]
               (let [root (group->map f)]
                 [(get root "version") (get root "node")]))
             (catch clojure.lang.ExceptionInfo e (throw e))
             (catch Exception e
               (fail (str "NIR file " p " is not a readable HDF5 file: " (.getMessage e)) {:path (str p)})))]
       (when-not (string? version)
         (fail (str "NIR file " p " has no version string (not a NIR file?)") {:path (str p)}))
       (when-not (re-matches #"1(\.\d+)*([.+-].*)?" version)
         (fail (str "NIR file " p ": format version " (pr-str version) " is not supported (chive reads 1.x)") {:path (str p) :version version}))
       (when-not (map? raw)
         (fail (str "NIR file " p " has no node group") {:path (str p)}))
       (let [g (fix-flatten "node" raw (node-from-file "node" raw))
             g (assoc g :version version)]
         (when check? (check g))
         g)))))

;; ---------------------------------------------------------------- shapes

(def primitives
  "NIR node type -> its required and optional parameters."
  {"Input" {:req [:shape]}
   "Output" {:req [:shape]}
   "Affine" {:req [:weight :bias]}
   "Linear" {:req [:weight]}
   "Scale" {:req [:scale]}
   "Threshold" {:req [:threshold]}
   "Delay" {:req [:delay]}
   "Flatten" {:req [] :opt [:input_type :start_dim :end_dim]}
   "Conv1d" {:req [:weight :stride :padding :dilation :groups :bias] :opt [:input_shape]}
   "Conv2d" {:req [:weight :stride :padding :dilation :groups :bias] :opt [:input_shape]}
   "SumPool2d" {:req [:kernel_size :stride :padding]}
   "AvgPool2d" {:req [:kernel_size :stride :padding]}
   "I" {:req [:r]}
   "IF" {:req [:r :v_threshold] :opt [:v_reset]}
   "LI" {:req [:tau :r :v_leak]}
   "LIF" {:req [:tau :r :v_leak :v_threshold] :opt [:v_reset]}
   "CubaLI" {:req [:tau_syn :tau_mem :r :v_leak] :opt [:w_in]}
   "CubaLIF" {:req [:tau_syn :tau_mem :r :v_leak :v_threshold] :opt [:v_reset :w_in]}
   "NIRGraph" {:req [:nodes :edges]}})

(def ^:private neuron-params
  {"I" [:r] "IF" [:r :v_threshold :v_reset] "LI" [:tau :r :v_leak] "LIF" [:tau :r :v_leak :v_threshold :v_reset]
   "CubaLI" [:tau_syn :tau_mem :r :v_leak :w_in] "CubaLIF" [:tau_syn :tau_mem :r :v_leak :v_threshold :v_reset :w_in]})

(defn- shape-of [x] (cond (array? x) (:shape x) (number? x) [] (sequential? x) (shape-of-nested x) :else nil))

(defn- conv-out
  "Output length of one spatial axis (PyTorch's formula, as NIR's calculate_conv_output)."
  [in pad dil k stride]
  (inc (Math/floorDiv (long (- (+ in (* 2 pad)) (* dil (dec k)) 1)) (long stride))))

(defn- per-axis [where nm x n]
  (let [v (ints-of x)]
    (cond (nil? v) (fail (str where ": " (name nm) " must be an integer or " n " integers, got " (pr-str x)) {nm x})
          (= 1 (count v)) (vec (repeat n (first v)))
          (= n (count v)) v
          :else (fail (str where ": " (name nm) " must be an integer or " n " integers, got " (pr-str v)) {nm v}))))

(defn- conv-shapes
  "[in out] of a Conv1d/Conv2d node `n` (nd = 1 or 2); spatial input from
  input_shape, else from `in` (the incoming [C ...] shape), else unknown."
  [where n nd in]
  (let [w (:weight n)
        ws (shape-of w)
        _ (when-not (and ws (= (+ 2 nd) (count ws)))
            (fail (str where ": weight must have " (+ 2 nd) " dimensions (out, in/groups, kernel...), got shape " (pr-str ws)) {:shape ws}))
        [cout cin-g & ks] ws
        groups (first (per-axis where :groups (:groups n) 1))
        _ (when-not (and (pos? groups) (zero? (mod cout groups)))
            (fail (str where ": groups " groups " must divide the " cout " output channels") {:groups groups}))
        cin (* cin-g groups)
        stride (per-axis where :stride (:stride n) nd)
        dil (per-axis where :dilation (:dilation n) nd)
        pad (:padding n)
        b (:bias n)
        _ (when-not (or (number? b) (= [cout] (shape-of b)))
            (fail (str where ": bias must have shape [" cout "], got " (pr-str (shape-of b))) {:shape (shape-of b)}))
        spatial (cond (some? (:input_shape n)) (per-axis where :input_shape (:input_shape n) nd)
                      in (do (when-not (= (inc nd) (count in))
                               (fail (str where ": takes [C" (apply str (repeat nd " x")) "] input, got shape " (pr-str in)) {:shape in}))
                             (vec (rest in)))
                      :else nil)]
    (when (and in (not= (first in) cin))
      (fail (str where ": takes " cin " input channels (weight " (pr-str ws) ", groups " groups "), got shape " (pr-str in)) {:shape in}))
    (when (and (some #(not (pos? %)) stride)) (fail (str where ": stride must be positive, got " stride) {}))
    (if spatial
      (let [out (cond (= pad "same") spatial
                      (or (= pad "valid") (string? pad))
                      (if (= pad "valid")
                        (mapv #(conv-out %1 0 %2 %3 %4) spatial dil ks stride)
                        (fail (str where ": padding must be \"same\", \"valid\" or integers, got " (pr-str pad)) {:padding pad}))
                      :else (mapv conv-out spatial (per-axis where :padding pad nd) dil ks stride))]
        (when (some #(< % 1) out)
          (fail (str where ": input " (pr-str spatial) " is smaller than the kernel " (pr-str (vec ks)) " (output " (pr-str out) ")") {:out out}))
        [(into [cin] spatial) (into [cout] out)])
      [nil nil])))

(defn- pool-shapes [where n in]
  (let [k (per-axis where :kernel_size (:kernel_size n) 2)
        s (per-axis where :stride (:stride n) 2)
        p (per-axis where :padding (:padding n) 2)]
    (if in
      (do (when-not (= 3 (count in)) (fail (str where ": takes [C H W] input, got shape " (pr-str in)) {:shape in}))
          (let [out (mapv #(conv-out %1 %2 1 %3 %4) (rest in) p k s)]
            (when (some #(< % 1) out) (fail (str where ": input " (pr-str in) " is smaller than the kernel " k) {}))
            [in (into [(first in)] out)]))
      [nil nil])))

(defn- flatten-shape [where in start end]
  (let [nd (count in)
        s (if (neg? start) (+ nd start) start)
        e (if (neg? end) (+ nd end) end)]
    (when-not (<= 0 s e (dec nd))
      (fail (str where ": start_dim " start " and end_dim " end " do not fit input shape " (pr-str in)) {:shape in}))
    (vec (concat (subvec in 0 s) [(reduce * 1 (subvec in s (inc e)))] (subvec in (inc e))))))

(defn- elementwise
  "[in out] of an elementwise node whose parameters have shape `s`: a node
  of scalar parameters (shape []) takes the shape arriving at it."
  [s in]
  (if (and (= [] s) in) [in in] [s s]))

(defn- node-shapes
  "[in out] shapes of node `n` (nil where its parameters leave one open),
  given the shape arriving at it (`in`, or nil); checks its parameters."
  [where n in]
  (let [t (:type n)
        {:keys [req opt]} (or (primitives t)
                              (fail (str where ": unknown NIR node type " (pr-str t) "; known: " (str/join ", " (sort (keys primitives))))
                                    {:type t}))]
    (doseq [k req]
      (when (nil? (get n k)) (fail (str where " (" t "): missing parameter " (name k)) {:param k})))
    (when-let [extra (seq (remove (set (concat [:type :metadata] req opt)) (keys n)))]
      (fail (str where " (" t "): unknown parameter " (name (first extra)) "; " t " takes " (str/join ", " (map name (concat req opt))))
            {:param (first extra)}))
    (case t
      ("Input" "Output") (let [s (ints-of (:shape n))] [s s])
      ("Affine" "Linear")
      (let [ws (shape-of (:weight n))]
        (when-not (= 2 (count ws)) (fail (str where " (" t "): weight must be a matrix (out x in), got shape " (pr-str ws)) {:shape ws}))
        (when (= t "Affine")
          (let [bs (shape-of (:bias n))]
            (when-not (or (= [] bs) (= [(first ws)] bs))
              (fail (str where " (Affine): bias must have shape [" (first ws) "], got " (pr-str bs)) {:shape bs}))))
        [[(second ws)] [(first ws)]])
      "Scale" (elementwise (shape-of (:scale n)) in)
      "Threshold" (elementwise (shape-of (:threshold n)) in)
      "Delay" (do (when (some neg? (seq (:data (array (:delay n))))) (fail (str where " (Delay): delays must be >= 0") {}))
                  (elementwise (shape-of (:delay n)) in))
      "Flatten" (let [in (or (some-> (:input_type n) ints-of) in)]
                  (if in
                    [in (flatten-shape where in (long (or (:start_dim n) 1)) (long (or (:end_dim n) -1)))]
                    [nil nil]))
      "Conv1d" (conv-shapes where n 1 in)
      "Conv2d" (conv-shapes where n 2 in)
      ("SumPool2d" "AvgPool2d") (pool-shapes where n in)
      "NIRGraph" [nil nil]
      ;; neurons: every parameter of one shape
      (let [ps (neuron-params t)
            shapes (into {} (for [k ps :when (some? (get n k))] [k (shape-of (get n k))]))
            ;; the node's shape: that of its array parameters (numbers and 0-d arrays broadcast)
            s (or (first (remove #(= [] %) (keep shapes ps))) [])
            ref-param (or (first (filter #(= s (shapes %)) ps)) (first ps))]
        (doseq [[k sk] shapes]
          (when (nil? sk) (fail (str where " (" t "): " (name k) " must be an array or a number, got " (pr-str (get n k))) {:param k}))
          (when-not (or (= sk s) (= sk []))
            (fail (str where " (" t "): " (name k) " has shape " (pr-str sk) " but " (name ref-param) " has " (pr-str s)
                       " (all parameters must have one shape)")
                  {:param k :shape sk})))
        (when (some #(and (#{:tau :tau_mem :tau_syn} %) (some (fn [x] (not (pos? (double x)))) (seq (:data (array (get n %)))))) (keys shapes))
          (fail (str where " (" t "): time constants must be > 0") {}))
        (elementwise s in)))))

(defn check
  "Checks graph `g` (see the namespace doc): every node's type and
  parameters, every edge's ends, and that shapes meet along each edge, with
  shapes inferred forwards from the Input nodes (through cycles, to a fixed
  point). Returns {name {:input shape :output shape}} (nested graphs as
  {:nodes {...}}); throws ex-info naming the node otherwise."
  ([g] (check g "graph"))
  ([g where]
   (when-not (= "NIRGraph" (:type g))
     (fail (str where ": a NIR graph has :type \"NIRGraph\", got " (pr-str (:type g))) {}))
   (let [nodes (:nodes g)
         _ (when-not (and (map? nodes) (seq nodes)) (fail (str where ": :nodes must be a non-empty map of name -> node") {}))
         _ (doseq [[a b :as e] (:edges g)]
             (when-not (and (string? a) (string? b)) (fail (str where ": edge " (pr-str e) " is not a pair of node names") {:edge e}))
             (doseq [x [a b]]
               (when-not (contains? nodes x)
                 (fail (str where ": edge " (pr-str e) " names node " (pr-str x) ", which the graph does not have") {:edge e}))))
         incoming (group-by second (:edges g))
         where-of #(str where " node " (pr-str %))
         ;; Static shapes first; then propagate along edges until nothing changes.
         sub (into {} (for [[k n] nodes :when (= "NIRGraph" (:type n))] [k (check n (where-of k))]))
         shape-in (fn [shapes k]
                    (let [outs (distinct (keep #(get-in shapes [(first %) :output]) (incoming k)))]
                      (when (> (count outs) 1)
                        (fail (str (where-of k) ": inputs of different shapes arrive: " (str/join ", " (map pr-str outs))) {:shapes outs}))
                      (first outs)))
         step (fn [shapes]
                (into {} (for [[k n] nodes]
                           (if (= "NIRGraph" (:type n))
                             [k {:input nil :output nil :nodes (:nodes (sub k))}]
                             (let [[i o] (node-shapes (where-of k) n (shape-in shapes k))]
                               [k {:input i :output o}])))))
         shapes (loop [s (step {}) k 0]
                  (let [s2 (step s)]
                    (if (or (= s s2) (> k (count nodes))) s2 (recur s2 (inc k)))))]
     (doseq [[a b] (:edges g)
             :let [o (get-in shapes [a :output]) i (get-in shapes [b :input])]
             :when (and o i (not= o i))]
       (fail (str where ": edge " a " -> " b ": " a " gives shape " (pr-str o) " but " b " takes " (pr-str i)) {:edge [a b] :from o :to i}))
     {:nodes shapes})))

;; ---------------------------------------------------------------- writing

(defn- nested
  "Flat primitive array `data` as the nested Java array jHDF writes for `shape`."
  [data shape]
  (if (<= (count shape) 1)
    data
    (let [stride (reduce * 1 (rest shape))
          ct (.getComponentType ^Class (class data))
          rows (for [r (range (first shape))]
                 (let [part (java.lang.reflect.Array/newInstance ct (int stride))]
                   (System/arraycopy data (* r stride) part 0 stride)
                   (nested part (vec (rest shape)))))]
      (into-array (class (first rows)) rows))))

(defn- put-value! [^WritableGroup g ^String k v where]
  (cond
    (string? v) (.putDataset g k v)
    (map? v) (if (array? v)
               (let [a (array v)]
                 (when (zero? (size a))
                   (fail (str where ": " k " is empty; jHDF 0.9.4 cannot write an empty dataset") {}))
                 (if (empty? (:shape a))
                   (.putDataset g k (java.lang.reflect.Array/get (:data a) 0))
                   (.putDataset g k (nested (:data a) (:shape a)))))
               (let [sub (.putGroup g k)]
                 (doseq [[kk vv] v] (put-value! sub (name kk) vv (str where "/" k)))))
    (integer? v) (.putDataset g k (long v))
    (number? v) (.putDataset g k (double v))
    (boolean? v) (.putDataset g k (if v (long 1) (long 0)))
    (and (vector? v) (every? string? v)) (.putDataset g k (into-array String v))
    (sequential? v) (put-value! g k (array v) where)
    :else (fail (str where ": cannot write " k " = " (pr-str v)) {:key k})))

(defn- as-array
  "A numeric parameter as an array of at least shape `shape` (numbers broadcast)."
  [x shape]
  (cond (array? x) (if (and (empty? (:shape x)) (seq shape))
                     (array (repeat (reduce * 1 shape) (first (seq (:data x)))) {:shape shape :dtype (:dtype x)})
                     x)
        (number? x) (array (repeat (reduce * 1 shape) x) {:shape shape :dtype "float32"})
        :else (array x)))

(def ^:private metadata-types
  "Node types whose NIR class has a metadata field (NIR's reader passes every
  key of a node group to the class, so no other type may carry one)."
  #{"Input" "Output" "Threshold" "I" "IF" "LI" "LIF" "CubaLI" "CubaLIF" "NIRGraph"})

(defn- write-node! [^WritableGroup g k n shapes where]
  (let [t (:type n)
        sh (get shapes k)]
    (.putDataset g "type" ^String t)
    (case t
      "NIRGraph"
      (let [nodes (.putGroup g "nodes")]
        (doseq [[kk nn] (:nodes n)]
          (write-node! (.putGroup nodes kk) kk nn (:nodes sh) (str where "/nodes/" kk)))
        (if (seq (:edges n))
          (.putDataset g "edges" (into-array (map #(into-array String %) (:edges n))))
          (fail (str where ": a graph without edges cannot be written (jHDF 0.9.4 cannot write an empty dataset)") {}))
        (let [ins (for [[kk nn] (:nodes n) :when (= "Input" (:type nn))] [kk (ints-of (:shape nn))])
              outs (for [[kk nn] (:nodes n) :when (= "Output" (:type nn))] [kk (ints-of (:shape nn))])]
          (when (seq ins) (put-value! g "input_type" (into {} (for [[kk s] ins] [kk (array s {:dtype "int64"})])) where))
          (when (seq outs) (put-value! g "output_type" (into {} (for [[kk s] outs] [kk (array s {:dtype "int64"})])) where))))
      ("Input" "Output")
      (let [s (array (ints-of (:shape n)) {:dtype "int64"})]
        (put-value! g "shape" s where)
        (put-value! g (if (= t "Input") "input_type" "output_type") {(if (= t "Input") "input" "output") s} where))
      "Flatten"
      (do (when-let [i (:input sh)] (put-value! g "input_type" (array i {:dtype "int64"}) where))
          (put-value! g "start_dim" (long (or (:start_dim n) 1)) where)
          (put-value! g "end_dim" (long (or (:end_dim n) -1)) where))
      ("Conv1d" "Conv2d")
      (let [nd (if (= t "Conv1d") 1 2)
            spatial (or (some-> (:input_shape n) ints-of) (some-> (:input sh) rest vec))]
        (put-value! g "weight" (:weight n) where)
        (put-value! g "bias" (as-array (:bias n) [(first (:shape (:weight n)))]) where)
        (doseq [p [:stride :dilation]]
          (put-value! g (name p) (if (= nd 1) (first (ints-of (get n p))) (array (per-axis where p (get n p) 2) {:dtype "int64"})) where))
        (put-value! g "padding" (let [p (:padding n)]
                                  (cond (string? p) p
                                        (= nd 1) (first (ints-of p))
                                        :else (array (per-axis where :padding p 2) {:dtype "int64"})))
                    where)
        (put-value! g "groups" (first (ints-of (:groups n))) where)
        (when-not spatial
          (fail (str where " (" t "): its input shape is unknown; give :input_shape or an Input node upstream (NIR files carry it)") {}))
        (put-value! g "input_shape" (if (= nd 1) (first spatial) (array spatial {:dtype "int64"})) where))
      ("SumPool2d" "AvgPool2d")
      (doseq [p [:kernel_size :stride :padding]]
        (put-value! g (name p) (array (per-axis where p (get n p) 2) {:dtype "int64"}) where))
      ;; parameter arrays, neuron types broadcast to one shape
      (let [ps (or (neuron-params t) (:req (primitives t)))
            ;; a neuron's own shape (its array parameters'), so 0-d parameters stay 0-d
            s (first (remove #(= [] %) (keep #(shape-of (get n %)) ps)))]
        (doseq [p ps
                :let [v (cond (and (= t "Affine") (= p :bias)) (as-array (:bias n) [(first (:shape (:weight n)))])
                              (some? (get n p)) (get n p)
                              (= p :v_reset) 0.0
                              (= p :w_in) 1.0)]
                :when (some? v)]
          (put-value! g (name p) (if (and (neuron-params t) s) (as-array v s) (as-array v [])) where))
        (when (and (neuron-params t) (seq s))
          (put-value! g "input_type" {"input" (array s {:dtype "int64"})} where)
          (put-value! g "output_type" {"output" (array s {:dtype "int64"})} where))))
    (when (seq (:metadata n))
      (when-not (metadata-types t)
        (fail (str where " (" t "): NIR's " t " has no metadata field; remove :metadata to write it") {:type t}))
      (put-value! g "metadata" (:metadata n) where))))

(defn write!
  "Writes graph `g` to `path` as a NIR HDF5 file (format version 1.0.0, the
  layout of NIR's serialization.py), after `check`; the file is replaced as
  one unit (a crash leaves the old file or the new one). Returns the path."
  [path g]
  (let [shapes (:nodes (check g))]
    (files/write-file! (.toFile (path-of path))
                       (fn [^java.io.File tmp]
                         (with-open [^WritableHdfFile w (HdfFile/write (.toPath tmp))]
                           (.putDataset w "version" ^String format-version)
                           (write-node! (.putGroup w "node") "node" g {"node" {:nodes shapes}} "node"))))
    path))

;; ---------------------------------------------------------------- summary

(defn- summarise [x]
  (cond (and (array? x) (str/starts-with? (str (:dtype x)) "int") (<= (size x) 8))
        (str (:dtype x) " " (pr-str (vec (seq (:data x)))))
        (array? x) (let [d (:data x) n (size x)
                         xs (when (pos? n) (map double (seq d)))]
                     (if (and xs (not= "bool" (:dtype x)))
                       (format "%s %s [%.4g .. %.4g]" (:dtype x) (pr-str (:shape x)) (apply min xs) (apply max xs))
                       (str (:dtype x) " " (pr-str (:shape x)))))
        :else (pr-str x)))

(defn info
  "Rows describing graph `g`: one per node (nested graphs indented) with its
  type, input and output shapes and a summary of each parameter."
  ([g] (info g (:nodes (check g)) ""))
  ([g shapes indent]
   (vec (mapcat (fn [[k n]]
                  (let [sh (get shapes k)]
                    (cons {:node (str indent k) :type (:type n) :input (:input sh) :output (:output sh)
                           :params (into (sorted-map) (for [[p v] n :when (not (#{:type :nodes :edges :metadata} p))] [p (summarise v)]))}
                          (when (= "NIRGraph" (:type n)) (info n (:nodes sh) (str indent k "/"))))))
                (:nodes g)))))

;; ---------------------------------------------------------------- Conv1d as Conv2d

(defn- conv1d->2d
  "NIR Conv1d node `n` as the Conv2d node over [C 1 L] that computes the same
  (weights [Cout Cin/g 1 K], height 1): chive's 1-D convolution."
  [where n]
  (let [w (array (:weight n))
        [cout cin-g k] (:shape w)
        one (fn [p] (first (per-axis where p (get n p) 1)))
        pad (:padding n)]
    (cond-> {:type "Conv2d" :weight (array (:data w) {:shape [cout cin-g 1 k] :dtype (:dtype w)})
             :stride [1 (one :stride)] :dilation [1 (one :dilation)] :groups (first (ints-of (:groups n)))
             :padding (if (string? pad) pad [0 (one :padding)]) :bias (:bias n)}
      (some? (:input_shape n)) (assoc :input_shape [1 (first (ints-of (:input_shape n)))]))))

;; ---------------------------------------------------------------- nested graphs

(defn inline
  "Graph `g` with every nested graph (a node of type NIRGraph) replaced by
  its nodes, named outer/inner: an edge into the subgraph goes to the
  nodes its Input feeds, an edge out of it leaves from the node that feeds
  its Output, and the subgraph's Input and Output nodes disappear. Nested
  graphs inside nested graphs are inlined first. A subgraph with more than
  one Input or Output is refused (NIR gives no port names in edges)."
  [g]
  (let [nodes (:nodes g)]
    (if-not (some #(= "NIRGraph" (:type %)) (vals nodes))
      g
      (let [parts
            (for [[k n] nodes]
              (if (= "NIRGraph" (:type n))
                (let [sub (inline n)
                      ins (filter #(= "Input" (:type ((:nodes sub) %))) (keys (:nodes sub)))
                      outs (filter #(= "Output" (:type ((:nodes sub) %))) (keys (:nodes sub)))
                      _ (when-not (and (= 1 (count ins)) (= 1 (count outs)))
                          (fail (str "nested graph " (pr-str k) ": chive inlines subgraphs with one Input and one Output, this one has "
                                     (count ins) " and " (count outs))
                                {:node k}))
                      [in] ins [out] outs
                      q #(str k "/" %)
                      inner (remove (set [in out]) (keys (:nodes sub)))
                      sedges (:edges sub)]
                  {:nodes (into {} (for [x inner] [(q x) ((:nodes sub) x)]))
                   :edges (vec (for [[a b] sedges :when (and (not= a in) (not= b out))] [(q a) (q b)]))
                   :entry (vec (for [[a b] sedges :when (= a in)] (if (= b out) ::through (q b))))
                   :exit (vec (for [[a b] sedges :when (= b out)] (if (= a in) ::through (q a))))
                   :name k})
                {:nodes {k n} :edges [] :name k}))
            by-name (into {} (map (juxt :name identity) parts))
            ;; an outer edge a -> b becomes edges from a's exits to b's entries
            ends (fn ends [k side] (let [p (by-name k)]
                                     (if (contains? p side) (get p side) [k])))
            outer (for [[a b] (:edges g)
                        x (ends a :exit) y (ends b :entry)]
                    (cond (and (= x ::through) (= y ::through)) (fail (str "nested graphs " a " and " b " both pass their input straight through") {})
                          (= x ::through) (fail (str "nested graph " a " passes its Input straight to its Output: nothing to inline") {})
                          (= y ::through) (fail (str "nested graph " b " passes its Input straight to its Output: nothing to inline") {})
                          :else [x y]))]
        (cond-> {:type "NIRGraph"
                 :nodes (into (sorted-map) (mapcat :nodes parts))
                 :edges (vec (distinct (concat (mapcat :edges parts) outer)))}
          (:metadata g) (assoc :metadata (:metadata g))
          (:version g) (assoc :version (:version g)))))))

;; ---------------------------------------------------------------- chive.learn


(defn- recurrent-loops
  "{neuron loop-node} for each spiking neuron node whose output comes back to
  it through one Linear or Affine node that nothing else touches (snnTorch's
  RLeaky/RSynaptic, Norse's recurrent cells, as NIR writes them)."
  [g]
  (let [nodes (:nodes g)
        outs (group-by first (:edges g))
        ins (group-by second (:edges g))]
    (into {} (for [[k n] nodes
                   :when (#{"Linear" "Affine"} (:type n))
                   :let [p (map first (ins k)) s (map second (outs k))]
                   :when (and (= 1 (count p)) (= p s) (#{"LIF" "IF" "CubaLIF"} (:type (nodes (first p)))))]
               [(first p) k]))))

(defn- chain
  "The node names of `g` from its one Input to its Output, in order, leaving
  out `loops` (recurrent-loops of g); refuses branches, merges, other cycles
  and nodes off that path, naming the node."
  [g loops]
  (let [loop-nodes (set (vals loops))
        nodes (apply dissoc (:nodes g) loop-nodes)
        edges (remove (fn [[a b]] (or (loop-nodes a) (loop-nodes b))) (:edges g))
        outs (group-by first edges)
        ins (group-by second edges)
        inputs (sort (filter #(= "Input" (:type (nodes %))) (keys nodes)))]
    (when-not (= 1 (count inputs))
      (fail (str "chive.learn imports a graph with one Input node; this one has " (count inputs) (when (seq inputs) (str ": " (str/join ", " inputs))))
            {:inputs inputs}))
    ;; a recurrent edge first: it is the usual reason a graph is not a chain
    (let [back (loop [stack [[(first inputs) []]] done #{}]
                 (when-let [[k trail] (peek stack)]
                   (let [stack (pop stack)
                         on (set trail)
                         hit (first (filter on (map second (outs k))))]
                     (cond hit [k hit]
                           (done k) (recur stack done)
                           :else (recur (into stack (for [[_ b] (outs k)] [b (conj trail k)])) (conj done k))))))]
      (when-let [[a b] back]
        (fail (str "edge " a " -> " b " closes a cycle: chive.learn imports chains, with recurrence only as a spiking node's loop through one Linear or Affine node (chive.nir/import-net takes any cycle)") {:edge [a b]})))
    (let [path (loop [k (first inputs) acc [k] seen #{k}]
                 (let [succ (map second (outs k))]
                   (cond
                     (empty? succ) (if (= "Output" (:type (nodes k)))
                                     acc
                                     (fail (str "node " (pr-str k) " (" (:type (nodes k)) ") leads nowhere: chive.learn needs a path from the Input to an Output") {:node k}))
                     (> (count succ) 1) (fail (str "node " (pr-str k) " feeds " (count succ) " nodes (" (str/join ", " succ) "): chive.learn imports a chain of nodes, without branches") {:node k})
                     :else (let [nxt (first succ)]
                             (when (seen nxt)
                               (fail (str "edge " k " -> " nxt " closes a cycle: chive.learn imports chains, with recurrence only as a spiking node's loop through one Linear or Affine node") {:edge [k nxt]}))
                             (when (> (count (ins nxt)) 1)
                               (fail (str "node " (pr-str nxt) " has " (count (ins nxt)) " inputs (" (str/join ", " (map first (ins nxt))) "): chive.learn imports a chain of nodes") {:node nxt}))
                             (recur nxt (conj acc nxt) (conj seen nxt))))))]
      (when-let [off (seq (remove (set path) (keys nodes)))]
        (fail (str "nodes off the path from the Input to the Output: " (str/join ", " (sort off))) {:nodes off}))
      path)))

(defn- doubles-of
  "Parameter `x` of a node as a double[] of `n` values (a number or 0-d array broadcast)."
  ^doubles [where nm x n]
  (let [a (array x)
        k (size a)]
    (cond (= k n) (double-array (map double (seq (:data a))))
          (= k 1) (double-array n (double (first (seq (:data a)))))
          :else (fail (str where ": " (name nm) " has " k " values for " n " units") {:param nm}))))


(defn- neuron-terms
  "How NIR neuron node `n` (of `units` units) is stepped at `dt`: the decays
  per step (:beta, :alpha), the gain from its input to the membrane (:gain,
  per unit) and a constant drive per step (:drive), :threshold, and the
  learn layer spec. See import-learn's doc for the equations."
  [where n units dt method]
  (let [t (:type n)
        d #(doubles-of where % (get n %) units)
        exact? (= method :exact)
        decay (fn [^doubles tau] (double-array (map #(if exact? (Math/exp (- (/ dt %))) (- 1.0 (/ dt %))) tau)))
        frac (fn [^doubles beta] (double-array (map #(- 1.0 %) beta)))      ; 1 - beta: dt/tau for Euler
        times (fn [& as] (apply mapv * as))
        ;; v_reset != 0: chive steps u = v - v_reset (reset to u = 0, threshold
        ;; v_threshold - v_reset, leak towards v_leak - v_reset): an exact change of
        ;; variables, starting from v = v_reset
        vr (if (and (contains? n :v_reset) (#{"LIF" "IF" "CubaLIF"} t)) (vec (d :v_reset)) (vec (repeat units 0.0)))
        shifted-th (fn [] (double-array (map - (d :v_threshold) vr)))
        check-beta (fn [nm ^doubles b tau-k]
                     (when-let [bad (first (filter #(not (<= 0.0 % 1.0)) b))]
                       (fail (str where " (" t "): dt " dt " gives " nm " = " bad " outside [0, 1] (" (name tau-k) " must be >= dt for the Euler step; try :method :exact)") {}))
                     b)]
    (case t
      ("LIF" "LI")
      (let [tau (d :tau) beta (check-beta "beta" (decay tau) :tau) f (frac beta)]
        {:beta beta :gain (times f (d :r)) :drive (times f (mapv - (d :v_leak) vr))
         :threshold (when (= t "LIF") (shifted-th)) :v-reset vr :layer (if (= t "LIF") :lif :li)})
      ("IF" "I")
      {:beta nil :gain (mapv #(* dt %) (d :r)) :drive (vec (repeat units 0.0))
       :threshold (when (= t "IF") (shifted-th)) :v-reset vr :layer (if (= t "IF") :if :integrator)}
      ("CubaLIF" "CubaLI")
      (let [beta (check-beta "beta" (decay (d :tau_mem)) :tau_mem)
            alpha (check-beta "alpha" (decay (d :tau_syn)) :tau_syn)]
        ;; the leak towards v_leak (- v_reset) drives the membrane itself, not the
        ;; current: a drive added after the current (Neuron/setDrive, NirNeuron vdrive)
        {:beta beta :alpha alpha
         :gain (times (frac alpha) (d :w_in) (frac beta) (d :r)) :drive (vec (repeat units 0.0))
         :vdrive (let [vd (times (frac beta) (mapv - (d :v_leak) vr))] (when (some #(not (zero? %)) vd) vd))
         :threshold (when (= t "CubaLIF") (shifted-th)) :v-reset vr :layer (if (= t "CubaLIF") :lif :li)})
      "Threshold"
      {:beta (double-array units 0.0) :gain (vec (repeat units 1.0)) :drive (vec (repeat units 0.0))
       :threshold (d :threshold) :layer :lif})))

(defn- fold!
  "Multiplies weighted stage `st` (the stage before a neuron) per output unit
  by `gain` and adds `drive` to its bias; returns the new stage."
  [st gain drive where]
  (case (:kind st)
    :affine (let [{:keys [^doubles W b out in]} st
                  W2 (double-array (* out in))
                  b2 (double-array out)]
              (dotimes [j out]
                (let [g (double (nth gain j))]
                  (dotimes [i in] (aset W2 (+ (* j in) i) (* g (aget W (+ (* j in) i)))))
                  (aset b2 j (+ (* g (if b (aget ^doubles b j) 0.0)) (double (nth drive j))))))
              (assoc st :W W2 :b (if (or b (some #(not (zero? %)) b2)) b2 nil)))
    :conv (let [{:keys [^doubles w b cout]} st
                per (quot (count gain) cout)
                per-channel (fn [v nm]
                              (vec (for [c (range cout)]
                                     (let [xs (subvec (vec v) (* c per) (* (inc c) per))]
                                       (when-not (apply = xs)
                                         (fail (str where ": its " nm " differs within channel " c "; folding it into the convolution before needs one value per channel") {}))
                                       (double (first xs))))))
                g (per-channel gain "gain (dt·r/tau)")
                dv (per-channel drive "leak drive")
                kper (quot (alength w) cout)
                w2 (double-array (alength w))
                b2 (double-array cout)]
            (dotimes [c cout]
              (dotimes [k kper] (aset w2 (+ (* c kper) k) (* (double (g c)) (aget w (+ (* c kper) k)))))
              (aset b2 c (+ (* (double (g c)) (if b (aget ^doubles b c) 0.0)) (double (dv c)))))
            (assoc st :w w2 :b (if (or b (some #(not (zero? %)) b2)) b2 nil)))))

(defn- flat-doubles ^doubles [x] (double-array (map double (seq (:data (array x))))))

(defn import-learn
  "A chive.learn model from NIR graph `g` (a chain Input -> ... -> Output),
  stepped at `:dt` (in the graph's time unit, seconds for snnTorch and
  Norse exports), ready for `learn/evaluate`, `record` and `train!`.

  Discretisation (`:method :euler`, the default, as snnTorch and Norse
  step these equations; `:exact` uses exp(-dt/tau) for each decay and
  (1 - decay) for its input, exact for input held over a step):
    LIF, LI   v_t = beta v_{t-1} + (dt/tau)(r x_t + v_leak),  beta = 1 - dt/tau
    IF, I     v_t = v_{t-1} + dt r x_t
    CubaLIF, CubaLI
              i_t = alpha i_{t-1} + (dt/tau_syn) w_in x_t,  alpha = 1 - dt/tau_syn
              v_t = beta v_{t-1} + (dt/tau_mem) r i_t       (the new current)
    spiking   z_t = H(v_t - v_threshold), and v = v_reset after a spike, before
              the next step's input (chive's :hard-leak reset; a v_reset other
              than 0 is stepped as u = v - v_reset, threshold v_threshold -
              v_reset, leak towards v_leak - v_reset: exact, starting from
              v = v_reset)
    Threshold z_t = H(x_t - threshold) (a LIF with beta = 0)
    Affine, Linear, Conv2d, SumPool2d, AvgPool2d, Flatten (to one vector),
    Scale and Delay (a whole number of steps) act within each step.
  The input gains (dt/tau)·r and constant drives (dt/tau)·v_leak are folded
  into the Affine, Linear or Conv2d just before the neuron (per output unit;
  per channel for a convolution); with nothing weighted just before it (the
  Input, pooling, another neuron), a stage of its own carries them (a
  diagonal linear map for vectors, a depthwise 1x1 convolution for maps).
  A spiking node with a loop through one Linear or Affine node is one
  recurrent stage (:recurrent true). Nested graphs are inlined first
  (`inline`). For current-based neurons the leak towards v_leak drives the
  membrane directly: v_t = beta v_{t-1} + (dt/tau_mem)(r i_t + v_leak). chive.learn
  requires v_threshold > v_reset and one whole number of steps for all units
  of a Delay.
  Options: :method, :surrogate (default [:superspike 10]), :loss (default
  max-membrane cross-entropy for an LI/I readout, else spike counts),
  :learn (a set of #{:mem :syn :threshold} trained in every neuron stage),
  :seed, :threads, :kernels."
  [g {:keys [dt method surrogate loss learn seed threads kernels]
      :or {method :euler surrogate [:superspike 10] seed 0 threads 1 kernels :auto}}]
  (when-not (and (number? dt) (pos? dt)) (fail (str "import-learn needs :dt > 0 (in the graph's time unit), got " (pr-str dt)) {:dt dt}))
  (when-not (#{:euler :exact} method) (fail (str ":method must be :euler or :exact, got " (pr-str method)) {:method method}))
  (let [g (inline g)
        shapes (:nodes (check g))
        loops (recurrent-loops g)
        path (chain g loops)
        nodes (:nodes g)
        in-shape (:output (shapes (first path)))
        _ (when-not (#{1 2 3} (count in-shape))
            (fail (str "chive.learn takes inputs of shape [n], [C L] (as [C 1 L]) or [C H W]; the Input has " (pr-str in-shape)) {:shape in-shape}))
        learn-in (if (= 2 (count in-shape)) [(first in-shape) 1 (second in-shape)] in-shape)
        ;; stages: weighted ones carry their weights as doubles until the model exists
        stages
        (reduce
         (fn [acc k]
           (let [where (str "node " (pr-str k))
                 n (let [n (nodes k)] (if (= "Conv1d" (:type n)) (conv1d->2d where n) n))
                 t (:type n)
                 {:keys [input output]} (shapes k)
                 units (reduce * 1 output)
                 prev-idx (loop [i (dec (count acc))]
                            (cond (neg? i) nil
                                  (#{:affine :conv} (:kind (acc i))) i
                                  (= :delay (:kind (acc i))) (recur (dec i))
                                  :else nil))
                 ;; a gain within float32 rounding of 1 is 1: NIR files hold tau and r as
                 ;; float32, so (dt/tau)·r of an exported tau = dt/(1 - beta), r = tau/dt
                 ;; misses 1 by an ulp or two, which would move weights by an ulp
                 fold-into (fn [acc gain drive]
                             (if (and (every? #(< (Math/abs (- 1.0 (double %))) 1e-6) gain) (every? zero? drive))
                               acc
                               (if prev-idx
                                 (update acc prev-idx fold! gain drive where)
                                 ;; nothing weighted before it: a stage of its own carries the gain,
                                 ;; a diagonal affine map for vectors, a depthwise 1x1 convolution for maps
                                 (let [inserted
                                       (if (= 1 (count input))
                                         {:kind :affine :node (str k "_gain") :inserted true :out units :in units
                                          :W (let [W (double-array (* units units))] (dotimes [j units] (aset W (+ (* j units) j) 1.0)) W) :b nil}
                                         (let [c (first input)]
                                           {:kind :conv :node (str k "_gain") :inserted true :cout c :w (double-array c 1.0) :b nil
                                            :spec {:type :conv2d :channels c :kernel 1 :groups c :bias false}}))]
                                   (conj acc (fold! inserted gain drive where))))))]
             (case t
               "Output" acc
               ("Affine" "Linear")
               (let [[out in] (:shape (array (:weight n)))]
                 (conj acc {:kind :affine :node k :out out :in in :W (flat-doubles (:weight n))
                            :b (when (= t "Affine") (doubles-of where :bias (:bias n) out))}))
               "Conv2d"
               (let [[cout] (:shape (array (:weight n)))
                     [kh kw] (drop 2 (:shape (array (:weight n))))
                     nd2 #(per-axis where % (get n %) 2)
                     dil (nd2 :dilation)
                     pad (let [p (:padding n)]
                           (cond (= p "valid") [0 0]
                                 (= p "same") (mapv (fn [d k] (let [tot (* d (dec k))]
                                                                (when (odd? tot) (fail (str where ": padding \"same\" with an even kernel is asymmetric; chive.learn pads both sides equally") {}))
                                                                (quot tot 2)))
                                                    dil [kh kw])
                                 :else (nd2 :padding)))]
                 (conj acc {:kind :conv :node k :cout cout :w (flat-doubles (:weight n)) :b (doubles-of where :bias (:bias n) cout)
                            :spec {:type :conv2d :channels cout :kernel [kh kw] :stride (nd2 :stride) :padding pad
                                   :dilation dil :groups (first (ints-of (:groups n)))}}))
               ("SumPool2d" "AvgPool2d")
               (conj acc {:kind :plain :node k :spec {:type (if (= t "SumPool2d") :sumpool2d :avgpool2d)
                                                      :kernel (per-axis where :kernel_size (:kernel_size n) 2)
                                                      :stride (per-axis where :stride (:stride n) 2)
                                                      :padding (per-axis where :padding (:padding n) 2)}})
               "Flatten"
               (do (when-not (= 1 (count output))
                     (fail (str where " (Flatten): chive.learn flattens to one vector; this one gives " (pr-str output)) {}))
                   (conj acc {:kind :plain :node k :spec {:type :flatten}}))
               "Delay"
               (let [steps (map #(/ (double %) dt) (seq (doubles-of where :delay (:delay n) units)))
                     s0 (Math/round (double (first steps)))]
                 (when-not (every? #(< (Math/abs (- (double %) (double s0))) 1e-6) steps)
                   (fail (str where " (Delay): chive.learn delays every unit by one whole number of steps; delays / dt are " (pr-str (distinct (take 5 steps)))) {}))
                 (conj acc {:kind :delay :node k :spec {:type :delay :steps s0}}))
               "Scale"
               (fold-into acc (vec (doubles-of where :scale (:scale n) units)) (vec (repeat units 0.0)))
               ("LIF" "LI" "IF" "I" "CubaLIF" "CubaLI" "Threshold")
               (let [terms (neuron-terms where n units dt method)
                     ;; a recurrent loop: its weights (times the gain) become the stage's v,
                     ;; row i out of neuron i; an Affine loop's bias is a constant drive
                     lp (some-> (loops k) nodes)
                     rec (when lp
                           (let [^doubles W (flat-doubles (:weight lp)) gain (vec (:gain terms))
                                 V (double-array (* units units))]
                             (dotimes [j units] (dotimes [i units] (aset V (+ (* i units) j) (* (double (gain j)) (aget W (+ (* j units) i))))))
                             V))
                     drive (if (and lp (= "Affine" (:type lp)))
                             (mapv (fn [d g b] (+ (double d) (* (double g) b))) (:drive terms) (:gain terms) (doubles-of where :bias (:bias lp) units))
                             (vec (:drive terms)))
                     acc (fold-into acc (vec (:gain terms)) drive)]
                 (when-let [th (:threshold terms)]
                   (when-let [bad (first (remove pos? th))]
                     (fail (str where " (" t "): chive.learn thresholds must be > 0, got " bad) {})))
                 (conj acc {:kind :neuron :node k :terms terms :units units :rec rec
                            :spec (cond-> {:type (:layer terms) :per :neuron
                                           ;; chive's own export marks resets NIR cannot express
                                           :reset (case (get-in n [:metadata "chive_reset"]) "soft" :soft "hard" :hard :hard-leak)}
                                    (:beta terms) (assoc :mem (double (aget ^doubles (:beta terms) 0)))
                                    (:alpha terms) (assoc :syn (double (aget ^doubles (:alpha terms) 0)))
                                    (:threshold terms) (assoc :threshold (double (aget ^doubles (:threshold terms) 0)))
                                    rec (assoc :recurrent true)
                                    ;; what each kind can train: decays of leaky ones, thresholds of spiking ones
                                    learn (assoc :learn (set (filter (cond-> (case (:layer terms) :lif #{:mem :threshold} :li #{:mem} :if #{:threshold} #{})
                                                                       (:alpha terms) (conj :syn))
                                                                     learn))))}))
               (fail (str where ": NIR " t " nodes have no chive.learn stage") {:type t}))))
         []
         (rest path))
        specs (mapv (fn [st]
                      (case (:kind st)
                        :affine {:type :affine :n (:out st) :bias (some? (:b st))}
                        :conv (assoc (:spec st) :bias (some? (:b st)))
                        (:spec st)))
                    stages)
        last-neuron (last (filter #(= :neuron (:kind %)) stages))
        model (learn/model
               {:inputs (if (= 1 (count learn-in)) (first learn-in) learn-in)
                :layers specs
                :neuron {:surrogate surrogate}
                :loss (or loss (if (and last-neuron (#{:li :integrator} (get-in last-neuron [:terms :layer])))
                                 {:type :max-membrane :reduction :mean}
                                 {:type :spike-count :reduction :mean}))
                :init {:type :glorot-uniform} :seed seed :threads threads :kernels kernels})
        modules (.modules ^chive.core.learn.SpikingNet (:net model))]
    (doseq [[i st] (map-indexed vector stages)
            :let [m (aget modules i)]]
      (case (:kind st)
        :affine (let [^chive.core.learn.Affine a m
                      ^doubles W (:W st) out (:out st) in (:in st)
                      ^floats w (.w a)]
                  (dotimes [j out] (dotimes [i in] (aset w (+ (* i out) j) (float (aget W (+ (* j in) i))))))
                  (when-let [^doubles b (:b st)] (let [^floats bb (.b a)] (dotimes [j out] (aset bb j (float (aget b j)))))))
        :conv (let [^chive.core.learn.Conv2d c m
                    ^doubles src (:w st) ^floats w (.w c)]
                (dotimes [k (alength w)] (aset w k (float (aget src k))))
                (when-let [^doubles b (:b st)] (let [^floats bb (.b c)] (dotimes [j (alength bb)] (aset bb j (float (aget b j)))))))
        :neuron (let [^chive.core.learn.Neuron nm m
                      {:keys [beta alpha threshold]} (:terms st)
                      put! (fn [^floats dst ^doubles src] (when (and dst src) (dotimes [j (alength dst)] (aset dst j (float (aget src j))))))]
                  (put! (.beta nm) beta)
                  (put! (.alpha nm) alpha)
                  (put! (.threshold nm) threshold)
                  (put! (.recurrentWeights nm) (:rec st))
                  (when-let [vd (:vdrive (:terms st))] (.setDrive nm (float-array (map double vd)))))
        nil))
    (vary-meta model assoc ::nodes (mapv :node stages) ::graph g)))

(defn- floats->array [^floats a shape] (array (aclone a) {:shape shape :dtype "float32"}))

(defn- dense-layer-nodes
  "The NIR nodes of a :dense layer (chive.core.learn.Layer, not recurrent):
  its membrane takes the current of the step before (U_t = mem·U_{t-1} +
  mem_gain·I_{t-1}, I_t = syn·I_{t-1} + in_gain·x_t·w), which is an Affine
  (in_gain·w), a Delay of one step and a CubaLIF (a LIF when syn = 0; LI,
  CubaLI for a readout) whose input gain is mem_gain: tau_syn = dt/(1 -
  syn), w_in = 1/(1 - alpha_euler), tau_mem = dt/(1 - mem), r =
  mem_gain·tau_mem/dt (r = mem_gain/dt when mem = 1: IF, I)."
  [^chive.core.learn.Layer l i where nm dt soft-reset]
  (when (.recurrent l)
    (fail (str where ": a recurrent :dense layer has its own decay for the recurrent current and feeds spikes back two steps later; NIR has no node for that (build the model from :affine and {:type :lif :recurrent true})") {:layer i}))
  (let [n (.n l) k (.nIn l)
        ^floats w (.w l)
        W (float-array (* n k))
        _ (dotimes [j n] (dotimes [ii k] (aset W (+ (* j k) ii) (float (* (.inGain l) (aget w (+ (* ii n) j)))))))
        mem (double (.mem l)) syn (double (.syn l)) mg (double (.memGain l))
        spiking? (.spiking l)
        reset (.reset l)
        _ (when (and spiking? (not= reset chive.core.learn.Layer$Reset/HARD_LEAK) (not= soft-reset :allow))
            (fail (str where ": its reset is " (str/lower-case (.name reset)) "; NIR's neurons reset to v_reset after the spike (chive's :hard-leak). "
                       "Pass :soft-reset :allow to export anyway (other tools will reset to 0)") {:layer i}))
        _ (when (>= syn 1.0) (fail (str where ": syn = 1 has no finite time constant") {:layer i}))
        arr (fn [x] (array (float-array (repeat n (double x))) {:shape [n]}))
        current? (pos? syn)
        leaky? (< mem 1.0)
        tm (when leaky? (/ dt (- 1.0 mem)))
        ts (when current? (/ dt (- 1.0 syn)))
        r (if leaky? (/ (* mg tm) dt) (/ mg dt))
        th (arr (.threshold l))
        z (arr 0.0)
        neuron (cond
                 (and current? leaky?) (cond-> {:type (if spiking? "CubaLIF" "CubaLI") :tau_mem (arr tm) :tau_syn (arr ts) :r (arr r) :v_leak z
                                                :w_in (arr (/ 1.0 (- 1.0 syn)))}
                                         spiking? (assoc :v_threshold th :v_reset z))
                 current? (fail (str where ": a current-based :dense layer with mem = 1 has no NIR node (CubaLIF leaks)") {:layer i})
                 leaky? (cond-> {:type (if spiking? "LIF" "LI") :tau (arr tm) :r (arr r) :v_leak z}
                          spiking? (assoc :v_threshold th :v_reset z))
                 :else (cond-> {:type (if spiking? "IF" "I") :r (arr r)}
                         spiking? (assoc :v_threshold th :v_reset z)))
        neuron (cond-> neuron
                 (and spiking? (not= reset chive.core.learn.Layer$Reset/HARD_LEAK))
                 (assoc :metadata {"chive_reset" (if (= reset chive.core.learn.Layer$Reset/SOFT) "soft" "hard")}))]
    {::seq [[(str "dense_" i "_w") {:type "Linear" :weight (array W {:shape [n k]})}]
            [(str "dense_" i "_delay") {:type "Delay" :delay (arr dt)}]
            [nm neuron]]}))

(defn export-learn
  "NIR graph of chive.learn model `m`, for stepping at `:dt` (the time unit
  of the graph: give seconds for snnTorch, Norse and most NIR tools), the
  inverse of import-learn's Euler discretisation: a neuron stage with decay
  beta becomes tau = dt/(1 - beta) and r = tau/dt (so that (dt/tau)·r = 1,
  snnTorch's convention), v_leak = 0, v_reset = 0; a current-based one a
  CubaLIF/CubaLI with tau_syn = dt/(1 - alpha) and w_in = tau_syn/dt; IF and
  I get r = 1/dt. Affine and Conv2d stages keep their weights (a Conv2d
  without bias gets zeros: NIR's Conv2d has one), sum and average pooling,
  Flatten and Delay (steps·dt) map one to one, Dropout (the identity after
  training) is left out. Refused, naming the layer: max pooling and batch
  norm (no NIR primitive), dense :dense layers (their input arrives a step
  late: use :affine with :lif stages), decays of 1 on leaky neurons, and
  resets other than :hard-leak, which is NIR's reset to v_reset after the
  spike, unless :soft-reset :allow (the graph then resets to 0 in other
  tools; each such node's metadata says chive_reset = soft or hard, and
  import-learn restores it)."
  [m {:keys [dt soft-reset]}]
  (when-not (and (number? dt) (pos? dt)) (fail (str "export-learn needs :dt > 0 (the graph's time unit per step), got " (pr-str dt)) {:dt dt}))
  (let [^chive.core.learn.SpikingNet net (:net m)
        modules (vec (.modules net))
        in0 (vec (.inShape ^chive.core.learn.Module (first modules)))
        named (keep-indexed
               (fn [i ^chive.core.learn.Module md]
                 (let [where (str "layer " i " (" (.kind md) ")")
                       out (vec (.outShape md))
                       in (vec (.inShape md))
                       nm (str (str/replace (str/lower-case (.kind md)) #"[^a-z0-9_]" "_") "_" i)]
                   (cond
                     (instance? chive.core.learn.Affine md)
                     (let [^chive.core.learn.Affine a md
                           n (.n a) k (.nIn a) ^floats w (.w a)
                           W (float-array (* n k))]
                       (dotimes [j n] (dotimes [ii k] (aset W (+ (* j k) ii) (aget w (+ (* ii n) j)))))
                       [nm (cond-> {:type (if (.b a) "Affine" "Linear") :weight (array W {:shape [n k]})}
                             (.b a) (assoc :bias (floats->array (.b a) [n])))])
                     (instance? chive.core.learn.Conv2d md)
                     (let [^chive.core.learn.Conv2d c md]
                       [nm {:type "Conv2d" :weight (floats->array (.w c) [(.cout c) (quot (.cin c) (.groups c)) (.kh c) (.kw c)])
                            :bias (if (.b c) (floats->array (.b c) [(.cout c)]) (array (float-array (.cout c)) {:shape [(.cout c)]}))
                            :stride [(.sh c) (.sw c)] :padding [(.ph c) (.pw c)] :dilation [(.dh c) (.dw c)]
                            :groups (.groups c) :input_shape (vec (rest in))}])
                     (instance? chive.core.learn.Pool2d md)
                     (let [^chive.core.learn.Pool2d p md]
                       (when (= chive.core.learn.Pool2d$Kind/MAX (.type p))
                         (fail (str where ": NIR has no max pooling (SumPool2d and AvgPool2d only)") {:layer i}))
                       [nm {:type (if (= chive.core.learn.Pool2d$Kind/SUM (.type p)) "SumPool2d" "AvgPool2d")
                            :kernel_size [(.kh p) (.kw p)] :stride [(.sh p) (.sw p)] :padding [(.ph p) (.pw p)]}])
                     (instance? chive.core.learn.Flatten md) [nm {:type "Flatten" :input_type in :start_dim 0 :end_dim -1}]
                     (instance? chive.core.learn.Delay md)
                     [nm {:type "Delay" :delay (array (repeat (reduce * 1 in) (* dt (.steps ^chive.core.learn.Delay md))) {:shape in})}]
                     (instance? chive.core.learn.Dropout md) nil
                     (instance? chive.core.learn.Neuron md)
                     (let [^chive.core.learn.Neuron nu md
                           units (reduce * 1 out)
                           per (fn [^floats a] (let [k (alength a) grp (quot units k)]
                                                 (double-array (for [j (range units)] (double (aget a (quot j grp)))))))
                           kind (.type nu)
                           leaky? (#{chive.core.learn.Neuron$Kind/LIF chive.core.learn.Neuron$Kind/LI} kind)
                           spiking? (.spiking nu)
                           beta (per (.beta nu))
                           taus (fn [^doubles b nm]
                                  (mapv (fn [x] (when-not (< x 1.0) (fail (str where ": " nm " = 1 has no finite time constant") {:layer i}))
                                          (/ dt (- 1.0 x))) b))
                           arr (fn [xs] (array (float-array (map double xs)) {:shape out}))
                           reset (.reset nu)
                           _ (when (and spiking? (not= reset chive.core.learn.Layer$Reset/HARD_LEAK) (not= soft-reset :allow))
                               (fail (str where ": its reset is " (str/lower-case (.name reset)) "; NIR's neurons reset to v_reset after the spike (chive's :hard-leak). "
                                          "Pass :soft-reset :allow to export anyway (other tools will reset to 0)") {:layer i}))
                           meta (when (and spiking? (not= reset chive.core.learn.Layer$Reset/HARD_LEAK))
                                  {"chive_reset" (if (= reset chive.core.learn.Layer$Reset/SOFT) "soft" "hard")})
                           th (when spiking? (arr (per (.threshold nu))))
                           zeros (arr (repeat units 0.0))]
                       [nm (cond->
                            (cond
                              (.currentBased nu)
                              (let [tm (taus beta "beta") ts (taus (per (.alpha nu)) "alpha")]
                                (cond-> {:type (if spiking? "CubaLIF" "CubaLI") :tau_mem (arr tm) :tau_syn (arr ts)
                                         :r (arr (map #(/ % dt) tm)) :w_in (arr (map #(/ % dt) ts)) :v_leak zeros}
                                  spiking? (assoc :v_threshold th :v_reset zeros)))
                              leaky?
                              (let [tm (taus beta "beta")]
                                (cond-> {:type (if spiking? "LIF" "LI") :tau (arr tm) :r (arr (map #(/ % dt) tm)) :v_leak zeros}
                                  spiking? (assoc :v_threshold th :v_reset zeros)))
                              :else
                              (cond-> {:type (if spiking? "IF" "I") :r (arr (repeat units (/ 1.0 dt)))}
                                spiking? (assoc :v_threshold th :v_reset zeros)))
                             meta (assoc :metadata meta))
                        ;; recurrence: a Linear loop node, W[j][i] = v[i][j] (the gain is 1 by this export's convention)
                        (when (.recurrent nu)
                          (let [^floats v (.recurrentWeights nu) W (float-array (* units units))]
                            (dotimes [a units] (dotimes [b units] (aset W (+ (* b units) a) (aget v (+ (* a units) b)))))
                            [(str nm "_rec") {:type "Linear" :weight (array W {:shape [units units]})}]))])
                     (instance? chive.core.learn.Layer md)
                     (dense-layer-nodes md i where nm dt soft-reset)
                     :else
                     (fail (str where ": no NIR equivalent" (cond (instance? chive.core.learn.BatchNorm md) " for batch norm (fold it into the convolution before)"
                                                                  :else ""))
                           {:layer i}))))
               modules)
        ;; a dense layer gives a segment of nodes (affine, delay, neuron)
        named (mapcat (fn [x] (if (map? x) (::seq x) [x])) named)
        names (concat ["input"] (map first named) ["output"])
        loops (keep (fn [[nm _ lp]] (when lp [nm lp])) named)
        out-shape (vec (.outShape ^chive.core.learn.Module (peek modules)))]
    {:type "NIRGraph"
     :nodes (into (sorted-map) (concat [["input" {:type "Input" :shape in0}]]
                                       (map (fn [[nm node]] [nm node]) named)
                                       (map second loops)
                                       [["output" {:type "Output" :shape out-shape}]]))
     :edges (into (mapv vector names (rest names))
                  (mapcat (fn [[nm [ln _]]] [[nm ln] [ln nm]]) loops))
     :metadata {"source" "chive.learn" "dt" (double dt)}}))

(defn run
  "Runs NIR graph `g` (a chain, see import-learn) on input `x`: a raster of
  0/1 values with `shape` [T ...input shape] (one sample) or [B T ...input
  shape], a double[] or seq in row-major order, stepped at `:dt` (opts as
  import-learn's). Returns one map per node with an output (in order):
  {:node name :type NIR type :shape [B T ...] :values float[]}, spikes for
  spiking nodes, the membrane for LI/I readouts, the values for the others."
  [g x shape opts]
  (let [m (import-learn g opts)
        ^chive.core.learn.SpikingNet net (:net m)
        modules (vec (.modules net))
        in (vec (.inShape ^chive.core.learn.Module (first modules)))
        shape (vec shape)
        [b t] (cond (= (count shape) (inc (count in))) [1 (first shape)]
                    (= (count shape) (+ 2 (count in))) [(first shape) (second shape)]
                    :else [nil nil])
        _ (when-not (and b (= in (subvec shape (- (count shape) (count in)))))
            (fail (str "nir run: the input has shape " (pr-str shape) "; the graph's Input takes [T " (str/join " " in) "] or [B T " (str/join " " in) "]") {:shape shape}))
        units (reduce * 1 in)
        xs (if (instance? (Class/forName "[D") x) x (double-array (map double x)))
        ^doubles xs xs
        _ (when-let [bad (first (remove #(or (== 0.0 %) (== 1.0 %)) xs))]
            (fail (str "nir run: input values must be 0 or 1 (spikes), got " bad) {:value bad}))
        ev (for [s (range b)]
             (for [k (range t) u (range units)
                   :when (== 1.0 (aget xs (+ (* (+ (* s t) k) units) u)))]
               [u k]))
        d (chive.core.learn.Dataset/fromEvents (int units) (int t)
                                               (into-array (map #(int-array (map first %)) ev))
                                               (into-array (map #(int-array (map second %)) ev))
                                               (int-array b) (int (max 2 (.outSize ^chive.core.learn.Module (peek modules)))) "nir run input")
        rec (learn/record m d (range b))
        node-names (::nodes (meta m))
        gi (::graph (meta m))]
    (try
      (vec (for [[i ^floats v] (map-indexed vector rec)
                 :let [md ^chive.core.learn.Module (modules i)
                       nm (node-names i)]
                 ;; a stage import-learn added to carry a gain is not a node of the graph
                 :when (contains? (:nodes gi) nm)]
             {:node nm :type (:type ((:nodes gi) nm)) :shape (into [b t] (.outShape md)) :values v}))
      (finally (.close ^java.lang.AutoCloseable net)))))

;; ---------------------------------------------------------------- chive.net

(def ^:private neuron-types #{"LIF" "IF" "LI" "I" "CubaLIF" "CubaLI" "Threshold"})
(def ^:private nir-type-codes {"LIF" 0 "IF" 1 "LI" 2 "I" 3 "CubaLIF" 4 "CubaLI" 5 "Threshold" 6})
(def ^:private linear-types #{"Affine" "Linear" "Conv1d" "Conv2d" "SumPool2d" "AvgPool2d" "Flatten" "Scale" "Delay"})

(defn- identity-rows [n] (mapv (fn [j] {j 1.0}) (range n)))

(defn- linear-rows
  "Node `n`'s map from its input units to its output units, as one sparse
  row {input-unit weight} per output unit, its bias (or nil) and its delay
  in steps."
  [where n {:keys [input output]} dt]
  (if (= "Conv1d" (:type n))
    (linear-rows where (conv1d->2d where n) {:input [(first input) 1 (second input)] :output [(first output) 1 (second output)]} dt)
  (let [t (:type n)
        n-in (reduce * 1 input) n-out (reduce * 1 output)]
    (case t
      ("Affine" "Linear")
      (let [^doubles W (flat-doubles (:weight n)) [o i] (:shape (array (:weight n)))]
        {:rows (mapv (fn [j] (into {} (for [k (range i) :let [w (aget W (+ (* j i) k))] :when (not (zero? w))] [k w]))) (range o))
         :bias (when (= t "Affine") (vec (doubles-of where :bias (:bias n) o)))})
      "Conv2d"
      (let [[cout cin-g kh kw] (:shape (array (:weight n)))
            ^doubles w (flat-doubles (:weight n))
            [cin h wi] input [_ ho wo] output
            groups (first (ints-of (:groups n)))
            [sh sw] (per-axis where :stride (:stride n) 2)
            [dh dw] (per-axis where :dilation (:dilation n) 2)
            [ph pw] (let [p (:padding n)]
                      (cond (= p "valid") [0 0]
                            (= p "same") [(quot (* dh (dec kh)) 2) (quot (* dw (dec kw)) 2)]
                            :else (per-axis where :padding p 2)))
            cout-g (quot cout groups)]
        {:rows (vec (for [o (range cout) y (range ho) x (range wo)]
                      (let [g (quot o cout-g)]
                        (into {} (for [c (range cin-g) ky (range kh) kx (range kw)
                                       :let [iy (+ (- (* y sh) ph) (* ky dh)) ix (+ (- (* x sw) pw) (* kx dw))
                                             wt (aget w (+ (* (+ (* o cin-g) c) kh kw) (* ky kw) kx))]
                                       :when (and (< -1 iy h) (< -1 ix wi) (not (zero? wt)))]
                                   [(+ (* (+ (* g cin-g) c) h wi) (* iy wi) ix) wt])))))
         ;; per output unit: each channel's bias over its map
         :bias (let [^doubles b (doubles-of where :bias (:bias n) cout)]
                 (vec (for [o (range cout) _ (range (* ho wo))] (aget b o))))})
      ("SumPool2d" "AvgPool2d")
      (let [[kh kw] (per-axis where :kernel_size (:kernel_size n) 2)
            [sh sw] (per-axis where :stride (:stride n) 2)
            [ph pw] (per-axis where :padding (:padding n) 2)
            [c h wi] input [_ ho wo] output
            wt (if (= t "SumPool2d") 1.0 (/ 1.0 (* kh kw)))]
        {:rows (vec (for [ch (range c) y (range ho) x (range wo)]
                      (into {} (for [ky (range kh) kx (range kw)
                                     :let [iy (+ (- (* y sh) ph) ky) ix (+ (- (* x sw) pw) kx)]
                                     :when (and (< -1 iy h) (< -1 ix wi))]
                                 [(+ (* ch h wi) (* iy wi) ix) wt]))))})
      "Flatten" {:rows (identity-rows n-in)}
      "Scale" (let [^doubles s (doubles-of where :scale (:scale n) n-out)]
                {:rows (mapv (fn [j] {j (aget s j)}) (range n-out))})
      "Delay" (let [steps (mapv #(/ (double %) dt) (seq (doubles-of where :delay (:delay n) n-out)))
                    whole (mapv #(Math/round (double %)) steps)]
                (when-not (every? true? (map #(< (Math/abs (- (double %1) (double %2))) 1e-6) steps whole))
                  (fail (str where " (Delay): delays must be whole numbers of steps; delays / dt are " (pr-str (distinct (take 5 steps)))) {}))
                ;; one identity block per distinct delay (a projection per delay)
                {:by-delay (into {} (for [d (distinct whole)]
                                      [d (mapv (fn [j] (if (= d (whole j)) {j 1.0} {})) (range n-out))]))})))))

(defn- compose
  "Rows P (over the units of M's output) after rows M (over a source's units)."
  [P M]
  (mapv (fn [prow] (reduce-kv (fn [acc k w] (reduce-kv (fn [a i x] (assoc a i (+ (get a i 0.0) (* w x)))) acc (nth M k))) {} prow)) P))

(defn- apply-rows [P bias] (when bias (mapv (fn [prow] (reduce-kv (fn [s k w] (+ s (* w (double (nth bias k))))) 0.0 prow)) P)))

(defn- add-vec [a b] (cond (nil? a) b (nil? b) a :else (mapv + a b)))

(defn- add-rows [a b] (if a (mapv #(merge-with + %1 %2) a b) b))

(defn- group-key [nm] (keyword (str/replace (str nm) #"[^A-Za-z0-9_-]" "_")))

(defn import-net
  "A chive.net network map (for chive.net/build) of NIR graph `g`, every
  neuron node a group of the :nir model, stepped at `:dt` (in the graph's
  time unit; `:unit` :s (default) or :ms says which, for the simulator's
  clock) with the equations import-learn states (:method :euler or :exact).
  The linear nodes between two neuron nodes (Affine, Linear, Conv2d,
  SumPool2d, AvgPool2d, Flatten, Scale, Delay) become one projection with
  a weight per synapse (their composed matrix, scaled by the neuron's input
  gain; zeros left out), their biases and the neuron's leak drive its
  per-neuron bias, a Delay a synaptic delay. Recurrent edges are projections
  like the others. The Input becomes a :spike-generator group with the
  spikes of `:input` {:raster x :shape [T ...input shape]} (0/1 values, step
  k at time k·dt), or none. Each neuron node gets a monitor: spikes
  (<node>-spikes) or, for LI/I readouts, v every step (<node>-v).
  A spike reaches the next group one step later in the simulator (as in
  Brian2 and NEST at their minimum delay) where chive.learn passes it on
  within the step, so each group's bias starts (drive_from) as many steps
  late as it is projections away from the Input (plus the steps of Delay
  nodes on the way, which delay the bias in chive.learn too): the
  simulator's group then runs exactly as the chive.learn stage, that many
  steps later.
  Returns the map, with (meta m) ::nodes {node group-key}."
  [g {:keys [dt unit method input seed] :or {unit :s method :euler seed 0}}]
  (when-not (and (number? dt) (pos? dt)) (fail (str "import-net needs :dt > 0 (in the graph's time unit), got " (pr-str dt)) {:dt dt}))
  (when-not (#{:s :ms} unit) (fail (str ":unit must be :s or :ms, got " (pr-str unit)) {:unit unit}))
  (let [g (inline g)
        shapes (:nodes (check g))
        nodes (:nodes g)
        dt-ms (* dt (if (= unit :s) 1000.0 1.0))
        preds (group-by second (:edges g))
        succs (group-by first (:edges g))
        where-of #(str "node " (pr-str %))
        _ (doseq [[k n] nodes]
            (when-not (or (neuron-types (:type n)) (linear-types (:type n)) (#{"Input" "Output"} (:type n)))
              (fail (str (where-of k) ": NIR " (:type n) " nodes have no simulator equivalent yet" (when (= "NIRGraph" (:type n)) " (nested graphs: flatten them first)")) {:type (:type n)})))
        units (fn [k] (reduce * 1 (:output (shapes k))))
        source? (fn [k] (or (neuron-types (:type (nodes k))) (= "Input" (:type (nodes k)))))
        ;; inflow of node k: {:by {[source delay] rows-over-source} :bias vec-over-k's-input}
        memo (atom {})
        inflow (fn inflow [k visiting]
                 (or (@memo k)
                     (let [r (reduce
                              (fn [acc [p _]]
                                (let [pn (nodes p)]
                                  (cond
                                    (source? p) (update-in acc [:by [p 0]] add-rows (identity-rows (units p)))
                                    (linear-types (:type pn))
                                    (do (when (visiting p)
                                          (fail (str (where-of p) ": a cycle through linear nodes only (no neuron on it) cannot be simulated") {:node p}))
                                        (let [{:keys [by bias]} (inflow p (conj visiting p))
                                              {:keys [rows by-delay] pb :bias} (linear-rows (where-of p) pn (shapes p) dt)
                                              blocks (or by-delay {0 rows})]
                                          (-> acc
                                              ;; a delayed bias is a constant all the same: it passes through
                                              (update :bias add-vec (add-vec (if by-delay bias (apply-rows rows bias)) pb))
                                              (update :by (fn [m] (reduce-kv (fn [m [s d] rs]
                                                                               (reduce-kv (fn [m dd rows] (update m [s (+ d dd)] add-rows (compose rows rs))) m blocks))
                                                                             m by))))))
                                    :else (fail (str (where-of p) " (" (:type pn) ") cannot feed " (where-of k)) {}))))
                              {:by {}}
                              (preds k))]
                       (swap! memo assoc k r)
                       r)))
        neurons (sort (filter #(neuron-types (:type (nodes %))) (keys nodes)))
        inputs (sort (filter #(= "Input" (:type (nodes %))) (keys nodes)))
        _ (doseq [[k n] nodes :when (= "Output" (:type n)) [p] (preds k)]
            (when-not (source? p)
              (fail (str (where-of k) " (Output) is fed by " (where-of p) " (" (:type (nodes p)) "); the simulator records neuron nodes: end the graph with an LI readout") {})))
        gk (into {} (map (fn [k] [k (group-key k)]) (concat inputs neurons)))
        _ (when-not (= (count (set (vals gk))) (count gk))
            (fail (str "node names collide as group names: " (pr-str (vals gk))) {}))
        terms (into {} (for [k neurons]
                         [k (neuron-terms (where-of k) (nodes k) (units k) dt method)]))
        flows (into {} (for [k neurons] [k (inflow k #{k})]))
        ;; the steps a signal from the Input needs to reach each group: a step per
        ;; projection plus the Delay nodes on the way (fewest along any path)
        depth (loop [d (zipmap inputs (repeat 0))]
                (let [d2 (reduce (fn [m k]
                                   (let [ds (keep (fn [[s dl]] (some-> (m s) (+ 1 dl))) (keys (:by (flows k))))]
                                     (if (seq ds) (assoc m k (min (get m k Long/MAX_VALUE) (apply min ds))) m)))
                                 d neurons)]
                  (if (= d d2) d (recur d2))))
        groups (into {}
                     (concat
                      (for [k inputs]
                        (let [n (units k)
                              {:keys [raster shape]} input
                              ev (when raster
                                   (let [xs (double-array (map double raster))
                                         T (first shape)]
                                     (when-not (= (vec shape) (into [T] (:output (shapes k))))
                                       (fail (str "import-net :input: shape " (pr-str shape) ", the Input takes [T " (str/join " " (:output (shapes k))) "]") {}))
                                     (for [t (range T) u (range n) :let [x (aget xs (+ (* t n) u))] :when (not (zero? x))]
                                       (do (when-not (== 1.0 x) (fail (str "import-net :input values must be 0 or 1 (spikes), got " x) {}))
                                           [u t]))))]
                          [(gk k) {:model :spike-generator :n n
                                   :spikes {:indices (mapv first ev) :times (mapv #(chive.units/ms (* dt-ms (second %))) ev)}}]))
                      (for [k neurons]
                        (let [n (nodes k) {:keys [beta alpha threshold gain drive]} (terms k)
                              {:keys [bias]} (flows k)
                              b (mapv (fn [j] (+ (* (double (nth gain j)) (double (if bias (nth bias j) 0.0))) (double (nth drive j)))) (range (units k)))
                              kind ({"LIF" 0 "IF" 1 "LI" 2 "I" 3 "CubaLIF" 0 "CubaLI" 2 "Threshold" 0} (:type n))]
                          [(gk k) {:model :nir :n (units k)
                                   :params {:kind kind :current (if alpha 1 0)
                                            :soft_reset (if (= "soft" (get-in n [:metadata "chive_reset"])) 1 0)
                                            :drive_from (get depth k 0)
                                            :nir_type (nir-type-codes (:type n)) :nir_method (if (= method :exact) 1 0) :nir_dt dt
                                            :nir_time_unit_ms (/ dt-ms dt)}
                                   :init (cond-> {:bias b :gain (vec gain) :in_bias (if bias (vec bias) (vec (repeat (units k) 0.0)))
                                                  :nir_v_reset (vec (or (:v-reset (terms k)) (repeat (units k) 0.0)))
                                                  :vdrive (vec (or (:vdrive (terms k)) (repeat (units k) 0.0)))}
                                           true (merge (into {} (for [[var p] [[:nir_tau (if (#{"CubaLIF" "CubaLI"} (:type n)) :tau_mem :tau)]
                                                                               [:nir_tau_syn :tau_syn] [:nir_r :r] [:nir_w_in :w_in] [:nir_v_leak :v_leak]]
                                                                         :when (some? (get n p))
                                                                         :let [xs (vec (doubles-of (where-of k) p (get n p) (units k)))]]
                                                                     ;; time constants as times (ms), the rest as NIR's plain numbers
                                                                     [var (if (#{:nir_tau :nir_tau_syn} var)
                                                                            (mapv #(chive.units/ms (* (/ dt-ms dt) %)) xs)
                                                                            xs)])))
                                           beta (assoc :beta (vec beta))
                                           (and (nil? beta) (#{"IF" "I"} (:type n))) (assoc :beta (vec (repeat (units k) 1.0)))
                                           alpha (assoc :alpha (vec alpha))
                                           threshold (assoc :thr (vec threshold)))}]))))
        projections (into {}
                          (for [k neurons
                                [[s d] rows] (sort-by (comp str key) (:by (flows k)))
                                :let [gain (:gain (terms k))
                                      syn (for [[j row] (map-indexed vector rows) [i w] (sort row)
                                                :let [w (* (double (nth gain j)) (double w))]
                                                :when (not (zero? w))]
                                            [i j w])]
                                :when (seq syn)]
                            [(keyword (str (name (gk s)) "->" (name (gk k)) (when (pos? d) (str "-d" d))))
                             (cond-> {:from (gk s) :to (gk k) :target :in
                                      :connect {:rule :explicit :pre (mapv first syn) :post (mapv second syn)}
                                      :weight (mapv #(nth % 2) syn)}
                               (pos? d) (assoc :delay (chive.units/ms (* d dt-ms))))]))
        monitors (into {} (for [k neurons]
                            (if (#{"LI" "I" "CubaLI"} (:type (nodes k)))
                              [(keyword (str (name (gk k)) "-v")) {:type :state :group (gk k) :var :v}]
                              [(keyword (str (name (gk k)) "-spikes")) {:type :spikes :group (gk k)}])))]
    (with-meta {:dt (chive.units/ms dt-ms) :seed seed :groups groups :projections projections :monitors monitors}
      {::nodes gk})))

(defn export-net
  "NIR graph of live chive.net network `nw` (chive.net/build of an
  import-net map, run and trained or not): each :nir group becomes the
  neuron node it came from (the NIR parameters import-net stored in it:
  nir_tau, nir_r, nir_v_leak, ... and thr), each spike generator an Input,
  each projection a Linear node (an Affine carrying the group's incoming
  biases, on the first projection into it) with the projection's current
  weights divided by the input gain import-net folded into them, a
  projection delay a Delay node after it, and every group without outgoing
  projections an Output. Refuses, naming the group, other neuron models and
  :nir groups whose beta, alpha, threshold or bias no longer follow from the
  stored NIR parameters (changed after the import: the NIR parameters would
  not describe the network)."
  [nw]
  (let [groups (:groups nw)
        projections (:projections nw)
        spec (:spec nw)
        dt-ms (chive.units/in (:dt spec (chive.units/ms 0.1)) :ms)
        state (fn [k v] (let [a (net/state nw k v)] (mapv double (seq a))))
        node-of
        (fn [k ^chive.core.sim.NeuronGroup grp]
          (let [where (str "group " k)
                model (.model grp)]
            (case model
              "spike generator" {:type "Input" :shape [(.size grp)]}
              "NIR"
              (let [p #(net/param nw k %)
                    code (long (p :nir_type))
                    t (get (zipmap (vals nir-type-codes) (keys nir-type-codes)) code)
                    _ (when-not t (fail (str where ": a :nir group built without a NIR node (nir_type " code "); export-net writes what import-net made") {}))
                    n (.size grp)
                    dt (double (p :nir_dt))
                    method (if (== 1.0 (double (p :nir_method))) :exact :euler)
                    unit-ms (double (p :nir_time_unit_ms))
                    v #(let [xs (state k %)] (if (#{:nir_tau :nir_tau_syn} %) (mapv (fn [x] (/ x unit-ms)) xs) xs))
                    shape [n]
                    arr (fn [xs] (array (float-array (map double xs)) {:shape shape}))
                    ;; the group steps v - v_reset against thr = v_threshold - v_reset
                    vth (fn [] (mapv + (v :thr) (v :nir_v_reset)))
                    node (case t
                           "LIF" {:type t :tau (arr (v :nir_tau)) :r (arr (v :nir_r)) :v_leak (arr (v :nir_v_leak)) :v_threshold (arr (vth)) :v_reset (arr (v :nir_v_reset))}
                           "LI" {:type t :tau (arr (v :nir_tau)) :r (arr (v :nir_r)) :v_leak (arr (v :nir_v_leak))}
                           "IF" {:type t :r (arr (v :nir_r)) :v_threshold (arr (vth)) :v_reset (arr (v :nir_v_reset))}
                           "I" {:type t :r (arr (v :nir_r))}
                           "CubaLIF" {:type t :tau_mem (arr (v :nir_tau)) :tau_syn (arr (v :nir_tau_syn)) :r (arr (v :nir_r)) :v_leak (arr (v :nir_v_leak))
                                      :w_in (arr (v :nir_w_in)) :v_threshold (arr (vth)) :v_reset (arr (v :nir_v_reset))}
                           "CubaLI" {:type t :tau_mem (arr (v :nir_tau)) :tau_syn (arr (v :nir_tau_syn)) :r (arr (v :nir_r)) :v_leak (arr (v :nir_v_leak))
                                     :w_in (arr (v :nir_w_in))}
                           "Threshold" {:type t :threshold (arr (v :thr))})
                    node (cond-> node (== 1.0 (double (p :soft_reset))) (assoc :metadata {"chive_reset" "soft"}))
                    ;; the live step must still be the one these parameters give
                    terms (neuron-terms where node n dt method)
                    close? (fn [a b] (every? true? (map #(<= (Math/abs (- (double %1) (double %2))) (+ 1e-6 (* 1e-5 (Math/abs (double %2))))) a b)))]
                (doseq [[var want] [[:beta (:beta terms)] [:alpha (:alpha terms)] [:gain (:gain terms)]]
                        :when want]
                  (when-not (close? (v var) (seq want))
                    (fail (str where ": its " (name var) " no longer follows from the stored NIR parameters (changed after the import?)") {:var var})))
                (when-not (close? (v :bias) (map (fn [g b d] (+ (* g b) d)) (v :gain) (v :in_bias) (:drive terms)))
                  (fail (str where ": its bias no longer follows from the stored NIR parameters (changed after the import?)") {:var :bias}))
                (when-not (close? (v :vdrive) (or (:vdrive terms) (repeat n 0.0)))
                  (fail (str where ": its vdrive no longer follows from the stored NIR parameters (changed after the import?)") {:var :vdrive}))
                node)
              "LIF"
              ;; the built-in LIF (Brian2's CUBA cell) as a CubaLIF, when it is one:
              ;; no refractoriness, no injected current, its input on one synaptic
              ;; variable (or on both with one time constant). Voltages as NIR's plain
              ;; numbers in mV, times in seconds; w_in = tau_syn/dt, so a spike of
              ;; weight w raises the current by w in chive's per-step reading (as
              ;; ge jumps by w) and r = 1 (ge enters v as tau_m dv/dt = ... + ge).
              (let [p #(chive.units/in (net/param nw k %1) %2)
                    n (.size grp)
                    targets (set (for [[_ ps] (:projections spec) :when (= k (:to ps))] (:target ps)))
                    te (p :tau_e :ms) ti (p :tau_i :ms)
                    ts (cond (= targets #{:gi}) ti
                             (or (not (contains? targets :gi)) (== te ti)) te
                             :else (fail (str where ": a LIF with input on ge and gi of different time constants (" te " and " ti " ms) has no NIR node (CubaLIF has one synaptic current)") {}))
                    _ (when (pos? (p :t_ref :ms)) (fail (str where ": a LIF with a refractory period (t_ref " (p :t_ref :ms) " ms) has no NIR node") {}))
                    _ (when (some #(not (zero? %)) (state k :i_ext)) (fail (str where ": a LIF with an injected current i_ext has no NIR node") {}))
                    arr (fn [x] (array (float-array (repeat n (double x))) {:shape [n]}))
                    dt-s (/ dt-ms 1000.0)]
                {:type "CubaLIF" :tau_mem (arr (/ (p :tau_m :ms) 1000.0)) :tau_syn (arr (/ ts 1000.0)) :r (arr 1.0)
                 :w_in (arr (/ (/ ts 1000.0) dt-s)) :v_leak (arr (p :v_rest :mV)) :v_threshold (arr (p :v_th :mV)) :v_reset (arr (p :v_reset :mV))})
              (fail (str where ": a " model " group has no NIR node to export (export-net writes :nir groups, spike generators and built-in LIF groups without refractoriness)") {:model model}))))
        gnodes (into (sorted-map) (for [[k grp] groups] [(name k) (node-of k grp)]))
        proj-sorted (sort-by key projections)
        first-into (into {} (for [[k pspec] (reverse (sort-by key (:projections spec)))] [(:to pspec) k]))
        lin (for [[k ^chive.core.sim.Projection pr] proj-sorted
                  :let [ps (get-in spec [:projections k])
                        from (:from ps) to (:to ps)
                        na (.size ^chive.core.sim.NeuronGroup (groups from)) nb (.size ^chive.core.sim.NeuronGroup (groups to))
                        {:keys [pre post weight]} (net/connections nw k)
                        gain (when (= "NIR" (.model ^chive.core.sim.NeuronGroup (groups to))) (state to :gain))
                        W (double-array (* nb na))
                        _ (dotimes [s (alength ^ints pre)]
                            (let [i (aget ^ints pre s) j (aget ^ints post s)
                                  g (if gain (double (gain j)) 1.0)]
                              (aset W (+ (* j na) i) (+ (aget W (+ (* j na) i)) (/ (double (aget ^floats weight s)) g)))))
                        in-bias (when (and gain (= k (first-into to))) (state to :in_bias))
                        delay-ms (when-let [d (:delay ps)] (chive.units/in d :ms))
                        ;; the graph's time unit: the :nir group's own, seconds for the others
                        dt (if gain (net/param nw to :nir_dt) (/ dt-ms 1000.0))
                        lname (str (name from) "->" (name to))]]
              {:from (name from) :to (name to) :name lname
               :node (if (and in-bias (some #(not (zero? %)) in-bias))
                       {:type "Affine" :weight (array (float-array (map double W)) {:shape [nb na]}) :bias (array (float-array (map double in-bias)) {:shape [nb]})}
                       {:type "Linear" :weight (array (float-array (map double W)) {:shape [nb na]})})
               :delay (when (and delay-ms (pos? delay-ms))
                        [(str lname "_delay") {:type "Delay" :delay (array (repeat nb (* (/ delay-ms dt-ms) (double dt))) {:shape [nb]})}])})
        ;; incoming Affine biases of groups with no projection into them stay in their bias: refuse
        _ (doseq [[k grp] groups
                  :when (and (= "NIR" (.model ^chive.core.sim.NeuronGroup grp)) (not (first-into k)) (some #(not (zero? %)) (state k :in_bias)))]
            (fail (str "group " k ": a bias with no projection into the group to carry it (NIR's neurons take a bias through an Affine node)") {}))
        sinks (remove (set (map :from lin)) (for [[k grp] groups :when (not= "spike generator" (.model ^chive.core.sim.NeuronGroup grp))] (name k)))]
    {:type "NIRGraph"
     :nodes (into gnodes (concat (map (juxt :name :node) lin)
                                 (keep :delay lin)
                                 (for [s sinks] [(str s "_out") {:type "Output" :shape [(.size ^chive.core.sim.NeuronGroup (groups (keyword s)))]}])))
     :edges (vec (concat (mapcat (fn [{:keys [from to name delay]}]
                                   (if delay
                                     [[from name] [name (first delay)] [(first delay) to]]
                                     [[from name] [name to]]))
                                 lin)
                         (for [s sinks] [s (str s "_out")])))
     :metadata {"source" "chive.net"}}))
