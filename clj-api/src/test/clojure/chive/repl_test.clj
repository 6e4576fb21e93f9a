(ns chive.repl-test
  "The nREPL server as a user meets it: `bin/chive repl` in a child JVM (JDK 17,
  and the Temurin 25 JDK when installed), reached with nREPL's own client."
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [nrepl.core :as nrepl]
            [chive.repl :as repl]
            [chive.impl.cmd.repl :as repl-cli]
            [chive.cdp :as cdp]
            [chive.versions-test :refer [project-root]])
  (:import (java.io File)
           (java.net ServerSocket)
           (java.util.concurrent TimeUnit)))

(defn- free-port []
  (with-open [s (ServerSocket. 0)] (.getLocalPort s)))

(defn- jdk-25-home []
  (->> (.listFiles (io/file "/usr/lib/jvm"))
       (filter #(re-find #"^temurin-(2[5-9]|[3-9]\d)" (.getName ^File %)))
       (filter #(.exists (io/file % "bin" "java")))
       sort first))

(defn- jdks-to-test []
  (let [this (System/getProperty "java.home")
        j25 (jdk-25-home)]
    (when (and (nil? j25) (System/getenv "CHIVE_REQUIRE_JDK25"))
      (throw (ex-info "CHIVE_REQUIRE_JDK25 is set but no Temurin 25+ JDK is under /usr/lib/jvm" {})))
    (cond-> [this] j25 (conj (str j25)))))

(defn- start-repl-process
  "Starts bin/chive repl with JAVA_HOME=`java-home`; returns {:proc :port :port-file :stdout}."
  [java-home]
  (let [port (free-port)
        dir (doto (File/createTempFile "chive-repl" "") .delete .mkdirs)
        port-file (io/file dir ".nrepl-port")
        out-file (io/file dir "stdout.txt")
        pb (doto (ProcessBuilder. ^java.util.List
                                  [(str (io/file (project-root) "bin" "chive")) "repl"
                                   "--port" (str port) "--port-file" (str port-file)])
             (.redirectOutput out-file)
             (.redirectError (io/file dir "stderr.txt")))
        _ (.put (.environment pb) "JAVA_HOME" java-home)
        proc (.start pb)
        deadline (+ (System/currentTimeMillis) 120000)]
    (loop []
      (cond
        (str/includes? (slurp out-file) "started on port") nil
        (not (.isAlive proc))
        (throw (ex-info (str "bin/chive repl exited with " (.exitValue proc) ":\n"
                             (slurp (io/file dir "stderr.txt"))) {}))
        (> (System/currentTimeMillis) deadline)
        (do (.destroyForcibly proc)
            (throw (ex-info (str "bin/chive repl did not start in 120 s:\n" (slurp (io/file dir "stderr.txt"))) {})))
        :else (do (Thread/sleep 100) (recur))))
    {:proc proc :port port :port-file port-file :stdout out-file}))

(defn- eval-code
  "Evaluates `code` in `session`; returns {:values [...] :out \"...\" :err ... :status #{...}}."
  [session code]
  (let [resps (doall (nrepl/message session {:op "eval" :code code}))]
    {:values (vec (keep :value resps))
     :out (apply str (keep :out resps))
     :err (apply str (keep :err resps))
     :status (set (mapcat :status resps))}))

(defn- check-server [java-home]
  (let [{:keys [^Process proc port ^File port-file stdout]} (start-repl-process java-home)]
    (try
      (testing (str "JDK at " java-home)
        (is (= (str port) (str/trim (slurp port-file))) ".nrepl-port names the port")
        (is (str/includes? (slurp stdout) "cider-connect-clj"))
        (is (str/includes? (slurp stdout) "Calva"))
        (with-open [conn (nrepl/connect :port port :host "127.0.0.1")]
          (let [client (nrepl/client conn 30000)
                session (nrepl/client-session client)
                expected-java (System/getProperty "java.specification.version")]
            (testing "evaluation"
              (is (= ["3"] (:values (eval-code session "(+ 1 2)")))))
            (testing "printed output streams to the client"
              (is (str/includes? (:out (eval-code session "(println \"hello from chive\")"))
                                 "hello from chive")))
            (testing "the versions the pom names, inside the server's classpath"
              (is (= [(pr-str (System/getProperty "chive.expected.clojure"))]
                     (:values (eval-code session "(clojure-version)"))))
              (is (= [(pr-str (System/getProperty "chive.expected.jackson"))]
                     (:values (eval-code session "(str com.fasterxml.jackson.core.json.PackageVersion/VERSION)"))))
              (is (= ["false"] (:values (eval-code session "(clojure.string/includes? (:clojure-jar (chive.version/versions)) \"/usr/share/java\")"))))
              (is (= ["\"{\\\"a\\\":1}\""]
                     (:values (eval-code session "(do (require 'cheshire.core) (cheshire.core/generate-string {:a 1}))"))))
              (let [spec (first (:values (eval-code session "(System/getProperty \"java.specification.version\")")))]
                (is (some? spec))
                (when (= java-home (System/getProperty "java.home"))
                  (is (= (pr-str expected-java) spec)))))
            (testing "interrupt stops a long evaluation within 2 s"
              (let [id (str (random-uuid))
                    responses (future (doall (nrepl/message session {:op "eval" :id id
                                                                     :code "(Thread/sleep 60000)"})))]
                (Thread/sleep 500)
                (let [t0 (System/nanoTime)]
                  (doall (nrepl/message session {:op "interrupt" :interrupt-id id}))
                  (let [resps (deref responses 2000 ::timeout)
                        secs (/ (- (System/nanoTime) t0) 1e9)]
                    (is (not= ::timeout resps) "the evaluation returned")
                    (is (< secs 2.0) (str "interrupted after " secs " s"))
                    (when (not= ::timeout resps)
                      (is (contains? (set (mapcat :status resps)) "interrupted")))))
                (is (= ["3"] (:values (eval-code session "(+ 1 2)"))) "the session still works"))
            (testing "the engine from the REPL: build CUBA from a map, run, read, change, continue, interrupt"
              (is (= ["true"] (:values (eval-code session (str "(do (require '[chive.net :as net] '[chive.bench :as b] '[chive.units :refer [ms mV]])"
                                                              " (def n (net/build (b/cuba-spec {:n 4000 :seed 1})))"
                                                              " (net/run! n (ms 200))"
                                                              " (pos? (:count (net/spikes n :exc-spikes))))")))))
              (is (= ["400.0"] (:values (eval-code session "(do (net/set-param! n :exc :tau_m (ms 25)) (net/run! n (ms 200)) (net/time-ms n))"))))
              (let [id (str (random-uuid))
                    responses (future (doall (nrepl/message session {:op "eval" :id id
                                                                     :code "(net/run! n (ms 1e7) :threads 2 :progress false)"})))]
                (Thread/sleep 1500)
                (let [t0 (System/nanoTime)]
                  (doall (nrepl/message session {:op "interrupt" :interrupt-id id}))
                  (let [resps (deref responses 2000 ::timeout)
                        secs (/ (- (System/nanoTime) t0) 1e9)]
                    (is (not= ::timeout resps) "the long run returned after the interrupt")
                    (is (< secs 2.0) (str "run interrupted after " secs " s")))))
              (let [t (parse-double (first (:values (eval-code session "(net/time-ms n)"))))]
                (is (< 400.0 t 1e7) (str "stopped mid-run at " t " ms"))
                (is (= [(pr-str (+ t 10.0))] (:values (eval-code session "(do (net/run! n (ms 10)) (net/time-ms n))")))
                    "the network continues from where the interrupt left it")
                (is (= ["0"] (:values (eval-code session (str "(loop [k 0] (let [busy (count (filter #(and (.startsWith (.getName ^Thread %) \"chive-sim-\")"
                                                                  " (= Thread$State/RUNNABLE (.getState ^Thread %))) (keys (Thread/getAllStackTraces))))]"
                                                                  " (if (or (zero? busy) (= k 50)) busy (do (Thread/sleep 20) (recur (inc k))))))"))))
                    "every simulation thread finished (idle ones wait in chive's pool)")))
            (testing "the live view: bin/chive repl prints its URL; show! and tap> from the client reach an open page"
              (let [url (second (re-find #"Live view \(chive.view/show!, tap>\): (http://127\.0\.0\.1:\d+/\?token=[0-9a-f]+)" (slurp stdout)))]
                (is url "the URL is printed beside the nREPL port")
                (is (= ["true"] (:values (eval-code session "(chive.view/running?)"))))
                (when (and url (or (cdp/chromium-path)
                                   (do (is (not (System/getenv "CHIVE_REQUIRE_CHROMIUM")) "CHIVE_REQUIRE_CHROMIUM is set but Chromium is not installed") nil)))
                  (let [browser (cdp/start)]
                    (try
                      (let [p (cdp/enable! (cdp/open-page browser))]
                        (cdp/navigate! p url)
                        (is (cdp/wait-for p "document.getElementById('status').textContent === 'live'" 20000))
                        (cdp/eval-js p "window.__marker = 1")
                        (is (= ["true"] (:values (eval-code session (str "(do (require '[chive.plot :as plot])"
                                                                        " (map? (chive.view/show! (plot/raster (net/spikes n :exc-spikes)))))")))))
                        (is (cdp/wait-for p "window.__chiveItems >= 1" 20000) "the plot arrived")
                        (is (pos? (cdp/eval-js p "document.querySelectorAll('section.item svg g[class*=\"mark-\"] line, section.item svg g[class*=\"mark-\"] rect').length"))
                            "and is drawn")
                        (is (= ["true"] (:values (eval-code session "(tap> {:a 1})"))))
                        (is (cdp/wait-for p "window.__chiveItems >= 2" 20000) "the tapped map arrived")
                        (is (= ":a" (cdp/eval-js p "document.querySelector('section.item table.map th').textContent")))
                        (is (= "1" (cdp/eval-js p "document.querySelector('section.item table.map td').textContent")))
                        (is (= 1 (cdp/eval-js p "window.__marker")) "without a reload")
                        (is (empty? (cdp/console-errors p)) (str (cdp/console-errors p))))
                      (finally (cdp/stop browser)))))))
            (testing "the guided tour (dev/user.clj) is loaded: its namespaces are aliased in user"
              (is (= ["true"] (:values (eval-code session "(some? (get (ns-aliases 'user) 'view))")))))
            (testing "nREPL's interrupt stops a local sweep between points, keeping what finished; :resume completes it"
              (let [dir (str (java.nio.file.Files/createTempDirectory "chive-repl-sweep" (make-array java.nio.file.attribute.FileAttribute 0)))
                    space "{:grid {:g [3.0 4.0 5.0 6.0] :eta [1.0 2.0 3.0]} :seeds 2 :fixed {:n 2000 :duration-ms 400}}"
                    id (str (random-uuid))
                    responses (future (doall (nrepl/message session {:op "eval" :id id
                                                                     :code (str "(do (require '[chive.sweep :as sweep]) (count (sweep/run! 'chive.experiments.brunel/point " space " {:out " (pr-str dir) " :threads 1})))")})))
                    lines #(let [f (io/file dir "results.jsonl")] (if (.exists f) (count (str/split-lines (slurp f))) 0))]
                (loop [k 0] (when (and (< (lines) 2) (< k 600)) (Thread/sleep 50) (recur (inc k))))
                (doall (nrepl/message session {:op "interrupt" :interrupt-id id}))
                (let [resps (deref responses 30000 ::timeout)
                      done (lines)]
                  (is (not= ::timeout resps) "the sweep returned after the interrupt")
                  (is (< 0 done 24) (str done " of 24 points were saved before the interrupt"))
                  (Thread/sleep 1000)
                  (is (= done (lines)) "no point starts after the interrupt")
                  (is (= ["24"] (:values (eval-code session (str "(count (sweep/run! 'chive.experiments.brunel/point " space " {:out " (pr-str dir) " :resume true :threads 2 :progress false}))"))))
                      "resume runs the rest")
                  (is (= 24 (lines)) "each point once in the folder"))))))))
      (finally
        (.destroy proc)
        (.waitFor proc 20 TimeUnit/SECONDS)
        (when (.isAlive proc) (.destroyForcibly proc))))
    (is (not (.exists port-file)) ".nrepl-port is removed on exit")))

(deftest repl-server-on-each-jdk
  (doseq [home (jdks-to-test)]
    (check-server home)))

(deftest binds-loopback-by-default
  (let [dir (doto (File/createTempFile "chive-repl" "") .delete .mkdirs)
        pf (io/file dir ".nrepl-port")
        server (repl/start! {:port 0 :port-file (str pf)})]
    (try
      (is (= "127.0.0.1" (repl/listening-address server)))
      (is (= (str (:port server)) (slurp pf)))
      (is (= "rw-------" (java.nio.file.attribute.PosixFilePermissions/toString
                          (java.nio.file.Files/getPosixFilePermissions (.toPath pf) (make-array java.nio.file.LinkOption 0))))
          ".nrepl-port is readable by its owner only")
      (finally (repl/stop! server)))
    (is (not (.exists pf)))))

(deftest non-loopback-bind-warns
  (is (nil? (repl/bind-warning "127.0.0.1")))
  (is (nil? (repl/bind-warning "localhost")))
  (is (str/includes? (repl/bind-warning "0.0.0.0") "Anyone who can reach"))
  (is (str/includes? (repl/bind-warning "0.0.0.0") "0.0.0.0")))

(deftest argument-errors-name-the-value
  (is (= {:port 7888 :bind "::1" :port-file ".nrepl-port" :view-port 0} (repl-cli/parse-args ["--port" "7888" "--bind" "::1"])))
  (is (= {:port 0 :bind "127.0.0.1" :port-file ".nrepl-port" :view-port 7999 :no-view true} (repl-cli/parse-args ["--view-port" "7999" "--no-view"])))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--port abc: needs a whole number, got \"abc\""
                        (repl-cli/parse-args ["--port" "abc"])))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"Unknown option: \"--frob\""
                        (repl-cli/parse-args ["--frob" "1"])))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"port must be an integer"
                        (repl/start! {:port 70000}))))
