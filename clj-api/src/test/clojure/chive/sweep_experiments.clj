(ns chive.sweep-experiments
  "Experiments the sweep tests run (also on Spark executors, which require
  this namespace by name).")

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
