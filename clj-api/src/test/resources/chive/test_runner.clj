(ns chive.test-runner
  "Runs every clojure.test suite under clj-api/src/test/clojure without Maven
  (deps.edn alias :test: `clojure -M:test`). Exits non-zero on any failure,
  error, or namespace that does not load. `mvn verify` runs the same suites
  through the JUnit 5 bridge instead."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :as t]))

(defn- namespaces [root]
  (->> (file-seq (io/file root))
       (filter #(str/ends-with? (.getName ^java.io.File %) ".clj"))
       (map #(-> (str (.relativize (.toPath (io/file root)) (.toPath ^java.io.File %)))
                 (str/replace #"\.clj$" "") (str/replace java.io.File/separator ".") (str/replace "_" "-") symbol))
       sort))

(defn- pom-property [pom k]
  (second (re-find (re-pattern (str "<" k ">([^<]+)</" k ">")) pom)))

(defn- set-expected-versions!
  "Surefire sets these from pom.xml; without Maven, read them from pom.xml here."
  []
  (let [pom (slurp "pom.xml")]
    (doseq [[prop k] [["chive.expected.clojure" "clojure.version"] ["chive.expected.jackson" "jackson.version"]
                      ["chive.expected.nrepl" "nrepl.version"]]]
      (when-not (System/getProperty prop) (System/setProperty prop (pom-property pom k))))
    (when-not (System/getProperty "chive.project.root") (System/setProperty "chive.project.root" "."))))

(defn -main [& [root]]
  (set-expected-versions!)
  (let [nss (namespaces (or root "clj-api/src/test/clojure"))
        load-failures (remove (fn [ns] (try (require ns) true
                                            (catch Throwable e
                                              (println "FAILED TO LOAD" ns ":" (ex-message e)) false)))
                              nss)
        {:keys [fail error]} (apply t/run-tests (remove (set load-failures) nss))]
    (shutdown-agents)
    (System/exit (if (and (zero? fail) (zero? error) (empty? load-failures)) 0 1))))
