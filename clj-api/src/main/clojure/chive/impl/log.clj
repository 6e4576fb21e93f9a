(ns chive.impl.log
  "The one logging helper: progress and messages go to *err* (which nREPL
  forwards to the client as it happens), results to *out*.")

(defn log
  "Prints `xs` (as println) on *err* and flushes."
  [& xs]
  (binding [*out* *err*]
    (apply println xs)
    (flush)))
