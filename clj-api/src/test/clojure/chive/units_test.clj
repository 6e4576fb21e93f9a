(ns chive.units-test
  (:require [clojure.test :refer [deftest is testing]]
            [chive.units :as u :refer [ms mV nS nA pF Hz q+ q- q* q-div in check]]))

(deftest conversions
  (is (= 0.02 (in (ms 20) :s)))
  (is (== 20.0 (in (ms 20) :ms)))
  (is (< (Math/abs (- 0.06 (in (q* (nS 6) (mV 10)) :nA))) 1e-12) "nS·mV = pA: 0.06 nA")
  (is (< (Math/abs (- 20.0 (in (q* (pF 200) (chive.units/Mohm 100)) :ms))) 1e-9) "pF·MΩ is a time")
  (is (< (Math/abs (- 1000.0 (q-div (ms 1) (chive.units/us 1)))) 1e-9) "time / time is a plain number")
  (is (== -5.0 (in (q- (mV 5)) :mV)))
  (is (== 25.0 (in (q+ (ms 20) (ms 5)) :ms))))

(deftest dimension-errors-name-both-sides
  (let [e (is (thrown? clojure.lang.ExceptionInfo (q+ (ms 1) (mV 1))))]
    (is (re-find #"cannot add time .* and voltage" (ex-message e))))
  (let [e (is (thrown? clojure.lang.ExceptionInfo (in (ms 1) :mV)))]
    (is (re-find #"time.*in mV.*voltage" (ex-message e)))))

(deftest check-names-parameter-given-and-expected
  (is (== 20.0 (check :tau_m (ms 20) :ms)))
  (is (== 0.5 (check :p 0.5 :1)))
  (let [e (is (thrown? clojure.lang.ExceptionInfo (check :tau_m (mV 20) :ms)))]
    (is (= "tau_m: expected a time (ms), got a voltage: #chive/q \"20.0 mV\"" (ex-message e)))
    (is (= {:param :tau_m :given :voltage :expected :time} (select-keys (ex-data e) [:param :given :expected]))))
  (let [e (is (thrown? clojure.lang.ExceptionInfo (check :tau_m 20 :ms)))]
    (is (re-find #"tau_m: expected a time \(ms\), got the plain number 20; write \(ms 20\)" (ex-message e))))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown unit :furlong" (u/q 1 :furlong))))

(deftest printing
  (is (= "#chive/q \"20.0 ms\"" (pr-str (ms 20))))
  (is (= "#chive/q \"10.0 Hz\"" (pr-str (Hz 10)))))
