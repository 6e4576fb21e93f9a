(ns chive.train-test
  "A small seeded Diehl & Cook training, so that learning cannot silently break."
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.java.io :as io]
            [cheshire.core :as json]
            [chive.train :as train])
  (:import (java.io File)))

(defn- tmp-dir [] (doto (File/createTempFile "chive-train" "") .delete .mkdirs))

(deftest learns-digits-well-above-chance
  (let [r (train/diehl-cook! {:neurons 100 :train 400 :test 300 :epochs 1 :data "mnist" :seed 3 :threads 1})]
    (is (= #{:bench :neurons :train :test :epochs :accuracy :samples_per_s :train_s :label_s :test_s :dt_ms
             :present_ms :rest_ms :retries :seed :threads :jdk :data :split :assigned_classes
             :validate :validation_accuracy :shuffle}
           (set (keys r))))
    (is (= [100 400 300 1] [(:neurons r) (:train r) (:test r) (:epochs r)]))
    (is (> (:accuracy r) 0.3) (str "accuracy " (:accuracy r) " (chance is 0.1)"))
    (is (>= (:assigned_classes r) 8) "neurons specialise to most classes")))

(deftest validation-mode-holds-out-training-digits
  (let [err (java.io.StringWriter.)
        r (binding [*err* err] (train/diehl-cook! {:neurons 20 :train 120 :validate 40 :epochs 1 :data "mnist" :seed 2 :threads 1}))]
    (testing "progress with a rate and an ETA or a duration in every long phase"
      (is (re-find #"assigning labels \(learning off\): 80/80 digits, [0-9.]+ digits/s, done in \d+ s" (str err)) (str err))
      (is (re-find #"validation digits: 40/40 digits, [0-9.]+ digits/s, done in \d+ s" (str err)) (str err)))
    (is (= [80 0 40] [(:train r) (:test r) (:validate r)]))
    (is (nil? (:accuracy r)) "no test accuracy: the test digits were not read")
    (is (number? (:validation_accuracy r))))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--validate 200 must be smaller than --train 100"
                        (train/diehl-cook! {:neurons 10 :train 100 :validate 200}))))

(deftest interrupt-and-resume-lose-no-completed-digit
  ;; An nREPL interrupt sets the training thread's interrupt flag; here the flag
  ;; is set from the per-digit callback after 40 digits, deterministically.
  (let [out (tmp-dir)
        opts {:neurons 30 :train 300 :test 50 :epochs 1 :data "mnist" :seed 5 :threads 1 :out (str out)}
        seen (atom 0)
        r (try (train/diehl-cook! (assoc opts :on-sample (fn [{:keys [done]}]
                                                            (reset! seen done)
                                                            (when (= done 40) (.interrupt (Thread/currentThread))))))
               (finally (Thread/interrupted)))
        state (json/parse-string (slurp (io/file out "checkpoint" "train-state.json")) true)]
    (is (:interrupted r))
    (is (= 40 @seen) "training stopped at the next digit boundary")
    (is (= 40 (:samples state) (:next state)) "the checkpoint holds every completed digit")
    (let [resumed (atom [])
          r2 (train/diehl-cook! (assoc opts :resume (str (io/file out "checkpoint"))
                                       :on-sample (fn [{:keys [done]}] (swap! resumed conj done))))]
      (is (= (range 41 301) @resumed) "the resumed run trains digits 41..300, none twice, none lost")
      (is (number? (:accuracy r2)))
      (is (= 300 (:train r2)))
      (is (.exists (io/file out "final" "network.json")))
      (is (.exists (io/file out "weights.txt"))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"was made with neurons 30, not 40"
                          (train/diehl-cook! (assoc opts :neurons 40 :resume (str (io/file out "checkpoint"))))))))
