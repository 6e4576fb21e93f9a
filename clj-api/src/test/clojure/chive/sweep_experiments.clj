(ns chive.sweep-experiments
  "Experiments the sweep tests run (also on Spark executors, which require
  this namespace by name)."
  (:require [chive.net :as net]))

(defn lif-rate
  "A small random LIF network (chive.net) for parameters :g (input weight,
  mV), :n and :seed: its spike count and mean rate. Deterministic in its
  parameters."
  [{:keys [g n seed] :or {n 50}}]
  (let [r (java.util.SplittableRandom. (long seed))
        w (double g)
        drive (double-array (repeatedly n #(+ 15.0 (* 10.0 (.nextDouble r)))))
        v (double-array n)
        steps 2000
        dt 0.1
        spikes (long-array 1)]
    ;; plain leaky integrate-and-fire with all-to-all coupling, in double
    (dotimes [_ steps]
      (let [fired (atom 0)]
        (dotimes [i n]
          (let [vi (+ (aget v i) (* dt (/ (- (aget drive i) (aget v i)) 10.0)))]
            (if (>= vi 20.0)
              (do (aset v i 0.0) (swap! fired inc))
              (aset v i vi))))
        (when (pos? @fired)
          (aset spikes 0 (+ (aget spikes 0) @fired))
          (dotimes [i n] (aset v i (+ (aget v i) (/ (* w @fired) n)))))))
    {:spikes (aget spikes 0)
     :rate-hz (/ (aget spikes 0) (* n steps dt 1e-3))
     :v-end (vec (take 3 v))}))

(defn slow-square
  "Sleeps :ms milliseconds, then returns x^2 (for crash and interrupt tests)."
  [{:keys [x ms seed]}]
  (Thread/sleep (long (or ms 100)))
  {:y (* x x) :z (+ x (or seed 0))})

(defn picky
  "Throws for x = 2, returns the rest."
  [{:keys [x]}]
  (if (= x 2) (throw (ex-info "x = 2 is refused" {:x x})) {:y (inc x)}))

(defn flaky
  "Throws on the first attempt at each point (marked by a file in :dir),
  succeeds after: Spark's and :local's task retries."
  [{:keys [x dir]}]
  (let [f (java.io.File. (str dir) (str "attempt-" x))]
    (if (.createNewFile f)
      (throw (ex-info (str "first attempt at x = " x " fails on purpose") {:x x}))
      {:y (* 10 x) :attempts (count (filter #(.startsWith (.getName ^java.io.File %) (str "attempt-" x)) (.listFiles (java.io.File. (str dir)))))})))

(defn not-data [_] {:f (fn [] 1)})
(defn not-a-map [_] [1 2])
