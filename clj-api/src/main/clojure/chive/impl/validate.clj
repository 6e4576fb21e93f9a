(ns chive.impl.validate
  "Checking user data before anything is built: closed key sets with the
  nearest valid key suggested, types and ranges, and one error shape:
  ex-info whose message names the place (a path into the map), the key or
  value and what was expected, with the same as data (:path :key :value
  :valid :suggestion)."
  (:require [clojure.string :as str]))

(set! *warn-on-reflection* true)

(defn- edit-distance
  "Optimal-string-alignment distance: insertions, deletions, substitutions
  and swaps of neighbours (:dealy -> :delay) each count 1."
  ^long [^String a ^String b]
  (let [n (count a) m (count b)
        d (make-array Long/TYPE (inc n) (inc m))]
    (dotimes [i (inc n)] (aset ^longs (aget ^objects d i) 0 (long i)))
    (dotimes [j (inc m)] (aset ^longs (aget ^objects d 0) j (long j)))
    (doseq [i (range 1 (inc n)) j (range 1 (inc m))]
      (let [cost (if (= (.charAt a (dec i)) (.charAt b (dec j))) 0 1)
            at (fn ^long [i j] (aget ^longs (aget ^objects d i) j))
            best (min (inc (at (dec i) j)) (inc (at i (dec j))) (+ (at (dec i) (dec j)) cost))
            best (if (and (> i 1) (> j 1) (= (.charAt a (dec i)) (.charAt b (- j 2))) (= (.charAt a (- i 2)) (.charAt b (dec j))))
                   (min best (inc (at (- i 2) (- j 2))))
                   best)]
        (aset ^longs (aget ^objects d i) j (long best))))
    (aget ^longs (aget ^objects d n) m)))

(defn- norm [k] (str/replace (str/lower-case (name k)) #"[-_]" ""))

(defn nearest
  "The candidate closest to `k` by edit distance (ignoring case, - and _), when
  close enough to be a likely typo; else nil."
  [k candidates]
  (when (or (keyword? k) (string? k) (symbol? k))
    (let [s (norm k)
          scored (for [c candidates :when (or (keyword? c) (string? c) (symbol? c))]
                   [c (edit-distance s (norm c))])
          [best d] (first (sort-by second scored))]
      (when (and best (<= d (max 1 (quot (count s) 3))))
        best))))

(defn where
  "A path as text for messages: [:groups :exc :params] -> \"groups/exc/params\"."
  [path]
  (if (empty? path) "the top level" (str/join "/" (map #(if (keyword? %) (name %) (str %)) path))))

(defn fail!
  "Throws ex-info: `what` at `path` is wrong because `msg`."
  [path msg data]
  (throw (ex-info (str (if (seq path) (str (where path) ": ") "") msg) (assoc data :path (vec path)))))

(defn closed!
  "Throws when map `m` at `path` (described as `what`) has a key outside
  `allowed` (and `also`, accepted too but not listed: aliases), naming the
  key and the nearest valid one. Returns m."
  ([path what m allowed] (closed! path what m allowed nil))
  ([path what m allowed also]
   (when-not (map? m)
     (fail! path (str what " must be a map, got " (pr-str m)) {:value m}))
   (doseq [k (keys m)]
     (when-not (or (contains? (set allowed) k) (contains? (set also) k))
       (let [s (or (nearest k allowed) (nearest k also))]
         (fail! path (str "unknown key " (pr-str k) " in " what
                          (if s (str "; did you mean " (pr-str s) "?") ".")
                          " Valid keys: " (str/join " " (map pr-str (sort-by str allowed)))
                          (when (seq also) (str " (also accepted: " (str/join " " (map pr-str (sort-by str also))) ")")))
                {:key k :suggestion s :valid (vec (sort-by str allowed))}))))
   m))

(defn one-of!
  "Throws unless `v` is in `valid`, naming the nearest valid choice. Returns v."
  [path what v valid]
  (when-not (contains? (set valid) v)
    (let [s (nearest v valid)]
      (fail! path (str "unknown " what " " (pr-str v) (when s (str "; did you mean " (pr-str s) "?"))
                       " Valid: " (str/join " " (map pr-str (sort-by str valid))))
             {:value v :suggestion s :valid (vec (sort-by str valid))})))
  v)

(defn require-keys!
  "Throws when map `m` lacks any of `ks`."
  [path what m ks]
  (doseq [k ks]
    (when-not (contains? m k)
      (fail! path (str what " needs " (pr-str k)) {:missing k})))
  m)

(defn int-in!
  "An integer in [lo, hi] (hi nil: no upper bound), else throws naming `what` and the value."
  [path what v lo hi]
  (when-not (and (integer? v) (<= lo v) (or (nil? hi) (<= v hi)))
    (fail! path (str what " must be an integer " (if hi (str "in " lo ".." hi) (str ">= " lo)) ", got " (pr-str v)
                     (when (string? v) " (a string; write the number without quotes)"))
           {:value v}))
  (long v))

(defn number-in!
  "A finite number in [lo, hi] (either bound nil: open), else throws."
  [path what v lo hi]
  (when-not (and (number? v) (Double/isFinite (double v))
                 (or (nil? lo) (>= (double v) (double lo))) (or (nil? hi) (<= (double v) (double hi))))
    (fail! path (str what " must be a finite number" (cond (and lo hi) (str " in [" lo ", " hi "]")
                                                           lo (str " >= " lo) hi (str " <= " hi) :else "")
                     ", got " (pr-str v))
           {:value v}))
  (double v))

(defn bool!
  "true or false, else throws."
  [path what v]
  (when-not (boolean? v)
    (fail! path (str what " must be true or false, got " (pr-str v)) {:value v}))
  v)

(defn kwargs!
  "Checks keyword options given to `fn-name` against `allowed`."
  [fn-name opts allowed]
  (doseq [k (keys opts)]
    (when-not (contains? (set allowed) k)
      (let [s (nearest k allowed)]
        (throw (ex-info (str fn-name ": unknown option " (pr-str k) (when s (str "; did you mean " (pr-str s) "?"))
                             " Valid options: " (str/join " " (map pr-str (sort-by str allowed))))
                        {:option k :suggestion s :valid (vec (sort-by str allowed))})))))
  opts)
