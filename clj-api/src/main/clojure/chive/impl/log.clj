(ns chive.impl.log
  "The one logging helper: progress and messages go to *err* (which nREPL
  forwards to the client as it happens), results to *out*.")

(defn log
  "Prints `xs` (as println) on *err* and flushes."
  [& xs]
  (binding [*out* *err*]
    (apply println xs)
    (flush)))

(defn duration
  "Seconds as a short human duration: \"42 s\", \"3 min 05 s\", \"2 h 14 min\"."
  [secs]
  (let [s (long (Math/round (double (max 0.0 secs))))]
    (cond (< s 60) (str s " s")
          (< s 3600) (format "%d min %02d s" (quot s 60) (rem s 60))
          :else (format "%d h %02d min" (quot s 3600) (quot (rem s 3600) 60)))))

(defn eta
  "\"ETA <duration>\" for `left` more units at the rate of `done` units in
  `elapsed-s` seconds; \"ETA ?\" before anything is done."
  [done left elapsed-s]
  (if (and (pos? done) (pos? elapsed-s))
    (str "ETA " (duration (* left (/ (double elapsed-s) done))))
    "ETA ?"))

(defn reporter
  "A progress reporter for `total` items of a phase named `what`: a fn of
  the count done so far that logs \"what done/total, rate, ETA\" at most
  once a second, and always at the last item."
  [what total unit]
  (let [t0 (System/nanoTime)
        last-log (volatile! t0)]
    (fn [done]
      (let [now (System/nanoTime)]
        (when (or (>= done total) (> (- now @last-log) 1e9))
          (vreset! last-log now)
          (let [secs (/ (- now t0) 1e9)]
            (log (format "%s: %d/%d %s, %.1f %s/s, %s" what done total unit (/ done (max secs 1e-9)) unit
                         (if (>= done total) (str "done in " (duration secs)) (eta done (- total done) secs))))))))))
