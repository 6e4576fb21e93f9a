(ns chive.bridge-fixtures.broken-load
  "Fixture for ClojureTestBridgeTest: a namespace that does not compile."
  (:require [clojure.test :refer [deftest is]]))

(deftest never-defined
  (is (= 1 (this-symbol-does-not-resolve))))
