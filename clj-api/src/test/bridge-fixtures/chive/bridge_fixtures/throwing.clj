(ns chive.bridge-fixtures.throwing
  "Fixture for ClojureTestBridgeTest: a deftest that throws."
  (:require [clojure.test :refer [deftest is]]))

(deftest throws
  (throw (ex-info "boom from a fixture deftest" {})))
