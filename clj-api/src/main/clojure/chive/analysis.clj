(ns chive.analysis
  "Statistics of recorded spike trains, computed in Java-friendly loops over
  the monitors' arrays (nothing per spike crosses into Clojure data).

      (analysis/mean-rate-hz indices times-ms n 100.0 1100.0) ;=> 23.1
      (analysis/mean-cv-isi indices times-ms 100.0 1100.0)    ;=> 0.87

  Conventions (as the Brian2 peer scripts compute them, bench/brian2_brunel.py):
  a window [t0, t1) in ms selects spikes; the mean rate is spikes / (n ·
  (t1 - t0)); the CV of a neuron's inter-spike intervals is std/mean with the
  population standard deviation (numpy's default, ddof = 0), over neurons with
  at least `min-spikes` spikes (default 3) in the window; `mean-cv-isi` is the
  mean of those CVs (NaN when no neuron qualifies)."
  (:import (java.util Arrays)))

(set! *warn-on-reflection* true)

(defn mean-rate-hz
  "Mean firing rate in Hz of `n` neurons over the window [t0, t1) ms."
  [^ints indices ^doubles times-ms n t0 t1]
  (let [t0 (double t0) t1 (double t1)]
    (when-not (< t0 t1) (throw (ex-info (str "mean-rate-hz: the window must have t0 < t1, got " t0 ", " t1) {})))
    (loop [k 0 c 0]
      (if (< k (alength times-ms))
        (let [t (aget times-ms k)] (recur (inc k) (if (and (>= t t0) (< t t1)) (inc c) c)))
        (/ c (* (double n) (/ (- t1 t0) 1000.0)))))))

(defn- cv-of
  "std/mean (population std) of the intervals between the sorted times in
  ts[a, b); nil with fewer than two intervals' worth of times."
  [^doubles ts a b]
  (let [a (long a) b (long b) k (- b a 1)]
    (when (pos? k)
      (let [mean (/ (- (aget ts (dec b)) (aget ts a)) k)
            var (loop [j a s 0.0]
                  (if (< j (dec b))
                    (let [d (- (- (aget ts (inc j)) (aget ts j)) mean)] (recur (inc j) (+ s (* d d))))
                    (/ s k)))]
        (/ (Math/sqrt var) mean)))))

(defn cv-isi
  "The CV of each neuron's inter-spike intervals in [t0, t1) ms, as
  {neuron cv} for neurons with at least `min-spikes` spikes there."
  ([indices times-ms t0 t1] (cv-isi indices times-ms t0 t1 3))
  ([^ints indices ^doubles times-ms t0 t1 min-spikes]
   (let [t0 (double t0) t1 (double t1)
         min-spikes (max 2 (long min-spikes))
         ;; the spikes inside the window, sorted by (neuron, time): they arrive in time order
         keys (long-array (for [k (range (alength indices))
                                :let [t (aget times-ms k)]
                                :when (and (>= t t0) (< t t1))]
                            (bit-or (bit-shift-left (long (aget indices k)) 32) (long k))))
         _ (Arrays/sort keys)
         m (alength keys)
         neuron (fn ^long [e] (bit-shift-right (aget keys (int e)) 32))
         ts (double-array (map #(aget times-ms (int (bit-and (long %) 0xFFFFFFFF))) keys))]
     (loop [k 0 out (transient {})]
       (if (>= k m)
         (persistent! out)
         (let [i (neuron k)
               end (long (loop [e k] (if (and (< e m) (= i (neuron e))) (recur (inc e)) e)))]
           (recur end (if (>= (- end k) min-spikes) (assoc! out i (cv-of ts k end)) out))))))))

(defn mean-cv-isi
  "Mean over neurons of the CV of their inter-spike intervals in [t0, t1) ms
  (see `cv-isi`); NaN when no neuron has `min-spikes` spikes there."
  ([indices times-ms t0 t1] (mean-cv-isi indices times-ms t0 t1 3))
  ([indices times-ms t0 t1 min-spikes]
   (let [cvs (vals (cv-isi indices times-ms t0 t1 min-spikes))]
     (if (seq cvs) (/ (reduce + cvs) (count cvs)) Double/NaN))))
