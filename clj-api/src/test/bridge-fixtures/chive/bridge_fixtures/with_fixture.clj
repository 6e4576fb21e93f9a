(ns chive.bridge-fixtures.with-fixture
  "Fixture for ClojureTestBridgeTest: :each fixtures run around a bridged test."
  (:require [clojure.test :refer [deftest is use-fixtures]]))

(def ^:dynamic *in-fixture* false)

(use-fixtures :each (fn [f] (binding [*in-fixture* true] (f))))

(deftest sees-fixture-binding
  (is (true? *in-fixture*)))
