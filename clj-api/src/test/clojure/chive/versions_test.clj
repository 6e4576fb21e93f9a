(ns chive.versions-test
  "deps.edn names the versions pom.xml names, and Cheshire works on the
  Jackson that actually loaded."
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.edn :as edn]
            [clojure.java.io :as io]
            [cheshire.core :as json]))

(defn project-root []
  (io/file (or (System/getProperty "chive.project.root") ".")))

(defn- expected [k] (System/getProperty (str "chive.expected." k)))

(deftest deps-edn-matches-pom
  (let [deps (:deps (edn/read-string (slurp (io/file (project-root) "deps.edn"))))]
    (is (= (expected "clojure") (get-in deps ['org.clojure/clojure :mvn/version])))
    (is (= (expected "jackson") (get-in deps ['com.fasterxml.jackson.core/jackson-core :mvn/version])))
    (is (= (expected "nrepl") (get-in deps ['nrepl/nrepl :mvn/version])))
    (is (= (expected "jhdf") (get-in deps ['io.jhdf/jhdf :mvn/version])))))

(deftest cheshire-round-trips-on-our-jackson
  (testing "JSON, and the Smile and CBOR factories Cheshire needs"
    (is (= {"a" [1 2.5 "x"]} (json/parse-string (json/generate-string {:a [1 2.5 "x"]}))))
    (is (= {"n" 3} (json/parse-smile (json/generate-smile {:n 3}))))
    (is (= {"n" 3} (json/parse-cbor (json/generate-cbor {:n 3})))))
  (is (= (expected "jackson") (str com.fasterxml.jackson.core.json.PackageVersion/VERSION))))
