(ns chive.bridge-fixtures.failing-is
  "Fixture for ClojureTestBridgeTest: an `is` that fails (and does not throw)."
  (:require [clojure.test :refer [deftest is testing]]))

(deftest passes
  (is (= 2 (+ 1 1))))

(deftest fails-an-is
  (testing "arithmetic"
    (is (= 3 (+ 1 1)))))
