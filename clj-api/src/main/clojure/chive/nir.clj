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
