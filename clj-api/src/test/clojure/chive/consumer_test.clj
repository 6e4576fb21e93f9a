(ns chive.consumer-test
  "Throwaway projects depend on chive as a user's would, and build and run a
  small network: a Clojure CLI project through deps.edn (:local/root), on a
  copy of this checkout that has never been compiled (tools.deps runs
  chive's :deps/prep-lib step: javac of java-core); and a Maven project
  through the coordinates dev.chive:chive-clj that `mvn install` of a copy of
  this checkout puts into the local repository (~/.m2, as any `mvn install`
  does), resolved offline.

  The Maven one runs only when CHIVE_MAVEN_CONSUMER_TEST is set (it runs a
  second Maven build): CI (.ci/run) sets it; run it with CHIVE_MAVEN_CONSUMER_TEST=1 bin/chive test."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is]]))

(defn- sh
  "[exit output] of a process run in `dir` (stdout and stderr together)."
  [dir & args]
  (let [p (-> (ProcessBuilder. ^java.util.List (vec args)) (.directory (io/file dir)) (.redirectErrorStream true) .start)
        out (slurp (.getInputStream p))]
    [(.waitFor p) out]))

(defn- copy-tree! [^java.io.File from to]
  (doseq [^java.io.File f (file-seq from) :when (.isFile f)]
    (let [dest (io/file to (str (.relativize (.toPath from) (.toPath f))))]
      (io/make-parents dest)
      (io/copy f dest))))

(def ^:private root (io/file (System/getProperty "chive.project.root" ".")))

(defn- tools-deps-classpath
  "The classpath of org.clojure/tools.deps.cli that bin/chive resolves from Maven Central."
  []
  (let [[rc out] (sh root (str (io/file root "bin" "chive")) "classpath" "test")]
    (is (zero? rc) out)
    (str/trim (slurp (io/file root "target/chive/resolver.cp")))))

(defn- delete-tree!
  "Deletes `dir` bottom-up; Files/walk does not follow links, so a link is removed as a link."
  [^java.io.File dir]
  (with-open [s (java.nio.file.Files/walk (.toPath dir) (make-array java.nio.file.FileVisitOption 0))]
    (doseq [^java.nio.file.Path p (reverse (vec (.toList s)))]
      (java.nio.file.Files/deleteIfExists p))))

(def ^:private app-source
  "The consumer project's one namespace: builds and runs a small network."
  (str '(ns app.core (:require [chive.net :as net] [chive.units :refer [ms mV Hz]]))
       '(defn -main [& _]
          (let [n (net/build {:dt (ms 0.1) :seed 1
                              :groups {:in {:model :poisson :n 50 :rate (Hz 50)} :exc {:model :lif :n 20}}
                              :projections {:p {:from :in :to :exc :target :ge
                                                :connect {:rule :fixed-probability :p 0.5} :weight (mV 3)}}
                              :monitors {:s {:type :spikes :group :exc}}})]
            (net/run! n (ms 200))
            (println "consumer spikes" (:count (net/spikes n :s)))))))

(declare consumer-run)

(deftest clojure-cli-user-depends-on-a-fresh-checkout
  (let [tmp (.toFile (java.nio.file.Files/createTempDirectory "chive-consumer" (make-array java.nio.file.attribute.FileAttribute 0)))]
    (try (consumer-run tmp) (finally (delete-tree! tmp)))))

(defn- consumer-run [^java.io.File tmp]
  (let [src (io/file tmp "chive")
        app (io/file tmp "app")
        java (str (io/file (System/getProperty "java.home") "bin" "java"))
        tdcp (tools-deps-classpath)
        clj (fn [code] (sh app java "-cp" tdcp "clojure.main" "-e" code))]
    ;; a checkout without build outputs: what a git dependency or a fresh clone gives
    (doseq [d ["clj-api/src/main/clojure" "java-core/src/main/java" "tools/prep"]]
      (copy-tree! (io/file root d) (io/file src d)))
    (io/copy (io/file root "deps.edn") (io/file src "deps.edn"))
    (io/make-parents (io/file app "src/app/core.clj"))
    (spit (io/file app "deps.edn")
          (pr-str {:paths ["src"]
                   :deps {'dev.chive/chive {:local/root (str src)}}
                   :mvn/repos {"debian" {:url "file:///usr/share/maven-repo"}}}))
    (spit (io/file app "src/app/core.clj")
          app-source)
    (is (not (.exists (io/file src "java-core/target/classes"))))
    (let [[rc out] (clj (str '(require '[clojure.tools.deps :as deps])
                             '(let [b (deps/create-basis {:user nil :project "deps.edn"})]
                                (deps/prep-libs! (:libs b) {:action :prep :log :info} b))))]
      (is (zero? rc) out)
      (is (str/includes? out "Prepping dev.chive/chive") out)
      (is (.isDirectory (io/file src "java-core/target/classes/chive/core/sim")) "prep compiled java-core"))
    (let [[rc cp] (clj (str '(require '[clojure.tools.deps :as deps])
                            '(println (clojure.string/join java.io.File/pathSeparator
                                                          (:classpath-roots (deps/create-basis {:user nil :project "deps.edn"}))))))
          cp (last (str/split-lines (str/trim cp)))]
      (is (zero? rc) cp)
      (let [[rc out] (sh app java "-cp" cp "clojure.main" "-m" "app.core")
            spikes (some->> out (re-find #"consumer spikes (\d+)") second parse-long)]
        (is (zero? rc) out)
        (is (and spikes (pos? spikes)) out)))))

(defn- pom-version
  "The project's version, from the parent pom."
  []
  (second (re-find #"<artifactId>chive-parent</artifactId>\s*<version>([^<]+)</version>" (slurp (io/file root "pom.xml")))))

(defn- maven-consumer-run [^java.io.File tmp]
  (let [src (io/file tmp "chive")
        app (io/file tmp "app")
        java (str (io/file (System/getProperty "java.home") "bin" "java"))
        version (pom-version)]
    ;; a copy of the sources Maven builds, without build outputs
    (doseq [f ["pom.xml" "java-core/pom.xml" "clj-api/pom.xml" "spark/pom.xml"]] (io/make-parents (io/file src f)) (io/copy (io/file root f) (io/file src f)))
    (doseq [d ["java-core/src/main" "clj-api/src/main" "spark/src/main"]] (copy-tree! (io/file root d) (io/file src d)))
    (let [[rc out] (sh src "mvn" "-o" "-q" "-B" "install" "-DskipTests")]
      (is (zero? rc) (str "mvn install of the copy:\n" out)))
    (io/make-parents (io/file app "src/app/core.clj"))
    (spit (io/file app "pom.xml")
          (str "<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0</modelVersion>"
               "<groupId>example</groupId><artifactId>app</artifactId><version>1</version>"
               "<repositories><repository><id>debian</id><url>file:///usr/share/maven-repo</url></repository></repositories>"
               "<dependencies><dependency><groupId>dev.chive</groupId><artifactId>chive-clj</artifactId>"
               "<version>" version "</version></dependency></dependencies></project>"))
    (spit (io/file app "src/app/core.clj")
          app-source)
    (let [[rc out] (sh app "mvn" "-o" "-q" "-B" "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath"
                       "-Dmdep.outputFile=cp.txt")
          cp (str (io/file app "src") java.io.File/pathSeparator (str/trim (slurp (io/file app "cp.txt"))))]
      (is (zero? rc) out)
      (is (re-find (re-pattern (str "chive-clj-" (java.util.regex.Pattern/quote version) "\\.jar")) cp) "resolved through the coordinates")
      (let [[rc out] (sh app java "-cp" cp "clojure.main" "-m" "app.core")
            spikes (some->> out (re-find #"consumer spikes (\d+)") second parse-long)]
        (is (zero? rc) out)
        (is (and spikes (pos? spikes)) out)))))

(deftest maven-user-depends-on-the-installed-coordinates
  (if-not (System/getenv "CHIVE_MAVEN_CONSUMER_TEST")
    (binding [*out* *err*]
      (println "chive.consumer-test: the Maven consumer is skipped; CHIVE_MAVEN_CONSUMER_TEST=1 runs it (CI does)"))
    (let [tmp (.toFile (java.nio.file.Files/createTempDirectory "chive-mvn-consumer" (make-array java.nio.file.attribute.FileAttribute 0)))]
      (try (maven-consumer-run tmp) (finally (delete-tree! tmp))))))
