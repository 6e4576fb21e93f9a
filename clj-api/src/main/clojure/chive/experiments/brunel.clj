(ns chive.experiments.brunel
  "Brunel (2000), model A, as a sweep experiment: one network per parameter
  map, built with chive.bench/brunel-spec (the network the fidelity tests
  compare with Brian2) and run on the general engine.

      (chive.sweep/run! 'chive.experiments.brunel/point
                        {:grid {:g [3.0 4.5 6.0] :eta [1.0 2.0 4.0]} :fixed {:n 2000 :duration-ms 500}}
                        {:out \"target/sweeps/brunel\"})

  Parameters: :g (relative inhibition), :eta (external drive nu_ext /
  nu_thr), :n (neurons, default 2000), :ce (excitatory in-degree C_E,
  default 0.1 N_E; Brunel's 1000 keeps his phase diagram in a smaller
  network), :duration-ms (default 500), :seed
  (default 1), :threads (default 1: a sweep runs points side by side),
  :raster (spikes of the first that many neurons returned, default 0).
  Statistics are over [t0, end), t0 = min(100 ms, half the run): the first
  100 ms are the transient from v = 0.

  Results:
    :rate-hz        mean firing rate (spikes per neuron and second)
    :cv-isi         mean CV of the inter-spike intervals (neurons with >= 3 spikes; NaN if none)
    :sync-chi       Golomb's synchrony chi of the spike counts in 1 ms bins (see
                    `spike-synchrony`): about 1/sqrt(n) for independent firing, towards 1
                    when the population fires in volleys (the SR and SI states)
    :spikes, :run-s (wall seconds of the run), :window-ms
    :raster-i, :raster-t-ms  (with :raster k) spikes of neurons 0..k-1"
  (:require [chive.analysis :as analysis]
            [chive.bench :as bench]
            [chive.net :as net]
            [chive.units :refer [ms]]))

(set! *warn-on-reflection* true)

(defn spike-synchrony
  "Golomb's synchrony chi over spike counts: with c_ib the spikes of neuron
  i in bin b (of `bin-ms`, over [t0, t1) ms) and C_b = sum_i c_ib,
  chi^2 = Var_b(C) / (n * sum_i Var_b(c_i)) (population variances). chi is
  about 1/sqrt(n) for independent neurons and 1 when all fire in the same
  bins; NaN without spikes."
  [^ints indices ^doubles times-ms n t0 t1 bin-ms]
  (let [t0 (double t0) bin (double bin-ms) n (long n)
        nb (long (Math/floor (/ (- (double t1) t0) bin)))
        bin-of (fn ^long [k] (long (Math/floor (/ (- (aget times-ms (int k)) t0) bin))))
        ;; one (neuron, bin) key per spike in the window, sorted: runs of equal
        ;; keys are c_ib
        keys (long-array (for [k (range (alength times-ms))
                               :let [b (bin-of k)]
                               :when (and (>= b 0) (< b nb))]
                           (+ (* (long (aget indices (int k))) nb) b)))
        _ (java.util.Arrays/sort keys)
        m (alength keys)
        pop (long-array nb)
        sum1 (double-array n)
        sum2 (double-array n)]
    (loop [k 0]
      (when (< k m)
        (let [key (aget keys k)
              end (long (loop [e k] (if (and (< e m) (= key (aget keys e))) (recur (inc e)) e)))
              c (double (- end k))
              i (int (quot key nb))
              b (int (rem key nb))]
          (aset pop b (+ (aget pop b) (- end k)))
          (aset sum1 i (+ (aget sum1 i) c))
          (aset sum2 i (+ (aget sum2 i) (* c c)))
          (recur end))))
    (let [var-sum (loop [i 0 s 0.0]
                    (if (< i n)
                      (let [mi (/ (aget sum1 i) nb)] (recur (inc i) (+ s (- (/ (aget sum2 i) nb) (* mi mi)))))
                      s))
          mean (/ (double (reduce + pop)) nb)
          var-pop (/ (double (reduce + (map #(let [d (- (double %) mean)] (* d d)) pop))) nb)]
      (if (pos? var-sum) (Math/sqrt (/ var-pop (* n var-sum))) Double/NaN))))

(defn point
  "One Brunel network for the parameter map (see the namespace doc); its
  statistics as plain data."
  [{:keys [g eta n ce duration-ms seed threads raster] :or {n 2000 duration-ms 500 seed 1 threads 1 raster 0}}]
  (when-not (and (number? g) (number? eta))
    (throw (ex-info (str "brunel/point needs numbers :g and :eta, got " (pr-str {:g g :eta eta})) {:g g :eta eta})))
  (let [nw (net/build (bench/brunel-spec (cond-> {:n n :seed seed :g (double g) :eta (double eta)} ce (assoc :ce ce))))
        r (net/run! nw (ms duration-ms) :threads threads :progress false)
        {:keys [^ints indices ^doubles times-ms count]} (net/spikes nw :spikes)
        t0 (min 100.0 (* 0.5 duration-ms))
        t1 (double duration-ms)
        keep (when (pos? raster) (filterv #(< (aget indices (int %)) raster) (range (alength indices))))]
    (cond-> {:rate-hz (analysis/mean-rate-hz indices times-ms n t0 t1)
             :cv-isi (analysis/mean-cv-isi indices times-ms t0 t1)
             :sync-chi (spike-synchrony indices times-ms n t0 t1 1.0)
             :spikes count
             :run-s (:wall-s r)
             :window-ms [t0 t1]}
      keep (assoc :raster-i (mapv #(aget indices (int %)) keep)
                  :raster-t-ms (mapv #(aget times-ms (int %)) keep)))))
