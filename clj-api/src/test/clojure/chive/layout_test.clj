(ns chive.layout-test
  "The library stands on its own: no library namespace requires an example,
  and the packaged jar holds no examples/ file."
  (:require [clojure.test :refer [deftest is]]
            [clojure.java.io :as io]
            [clojure.string :as str]))

(def ^:private root (io/file (System/getProperty "chive.project.root" ".")))

(deftest no-library-namespace-requires-an-example
  (let [example-nss (for [^java.io.File f (file-seq (io/file root "examples"))
                          :when (str/ends-with? (.getName f) ".clj")]
                      (second (re-find #"\(ns\s+([^\s\)]+)" (slurp f))))
        sources (filter #(str/ends-with? (.getName ^java.io.File %) ".clj")
                        (file-seq (io/file root "clj-api" "src" "main" "clojure")))]
    (is (seq example-nss))
    (doseq [^java.io.File f sources, ns-name example-nss]
      (is (not (str/includes? (slurp f) ns-name)) (str f " mentions example namespace " ns-name)))))

(deftest the-jar-holds-no-example
  ;; The jar's resources are the directories clj-api/pom.xml lists: examples/ is not one of them.
  (let [pom (slurp (io/file root "clj-api" "pom.xml"))
        dirs (map second (re-seq #"<resource><directory>([^<]+)</directory>" pom))]
    (is (seq dirs))
    (is (not-any? #(str/includes? % "examples") dirs) (str "resource directories: " (vec dirs)))
    (is (.exists (io/file root "clj-api" "src" "main" "clojure" "chive" "experiments" "diehl_cook.clj"))
        "the experiment is in the library")))
