(ns chive-test-support.bridge
  "Support for the JUnit 5 bridge (chive.testing.ClojureTestBridge): runs one
  clojure.test var at a time, with its namespace's fixtures, and returns what
  went wrong as data so that JUnit can fail that one dynamic test."
  (:require [clojure.test :as t]))

(defn test-vars
  "The deftest vars of the namespace named `ns-sym`, in source order."
  [ns-sym]
  (->> (ns-interns (the-ns ns-sym))
       vals
       (filter (comp :test meta))
       (sort-by (fn [v] [(or (:line (meta v)) 0) (str (:name (meta v)))]))
       vec))

(defn run-test-var
  "Runs the deftest var `v` as clojure.test/test-vars would (once and each
  fixtures included). Returns a vector of maps, one per failing `is` or
  error: {:type :fail|:error, :text <what clojure.test printed>, :actual ...}.
  What clojure.test prints also goes to *out* when `echo?` is true."
  [v echo?]
  (let [problems (atom [])
        base t/report]
    (binding [t/*report-counters* (ref t/*initial-report-counters*)
              t/report (fn [m]
                         (let [text (with-out-str (binding [t/*test-out* *out*] (base m)))]
                           (when echo? (print text) (flush))
                           (when (#{:fail :error} (:type m))
                             (swap! problems conj (assoc m :text text)))))]
      (t/test-vars [v]))
    @problems))
