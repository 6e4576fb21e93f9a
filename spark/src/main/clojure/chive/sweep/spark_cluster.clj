(ns chive.sweep.spark-cluster
  "A Spark standalone cluster on this machine from chive's classpath: Spark's
  own Master and Worker (org.apache.spark.deploy.*) as separate JVMs bound to
  127.0.0.1, for trying the spark:// engine (and timing it) without
  installing Spark. SPARK_HOME is a temporary folder whose jars/ links the
  jars of this JVM's classpath (what a worker puts on an executor's
  classpath); the driver passes its own classpath to the executors (see
  chive.sweep.spark), so nothing else is needed on one machine.

    bin/chive spark-cluster [--cores N] [--memory 2g] [--port 7077]

  prints one JSON line {\"master\": \"spark://127.0.0.1:PORT\", ...} once the
  worker has registered and runs until Ctrl-C or SIGTERM, then stops the
  master, the worker and the executors it launched."
  (:require [cheshire.core :as json]
            [chive.impl.cli :as cli]
            [clojure.java.io :as io]
            [clojure.string :as str])
  (:import (java.io File)
           (java.lang ProcessHandle)
           (java.lang.management ManagementFactory)
           (java.net ServerSocket URI)
           (java.net.http HttpClient HttpRequest HttpResponse$BodyHandlers)
           (java.nio.file Files)
           (java.nio.file.attribute FileAttribute)))

(set! *warn-on-reflection* true)

(defn- tmp-dir ^File [prefix] (.toFile (Files/createTempDirectory prefix (make-array FileAttribute 0))))

(defn free-port "A TCP port free on this machine now." [] (with-open [s (ServerSocket. 0)] (.getLocalPort s)))

(defn spark-home
  "A new SPARK_HOME whose jars/ links every jar of this JVM's classpath (what
  Spark's launcher puts on an executor's classpath)."
  ^File []
  (let [home (tmp-dir "chive-spark-home") jars (io/file home "jars")]
    (.mkdirs jars)
    (doseq [p (str/split (System/getProperty "java.class.path") #":")
            :let [f (io/file p)]
            :when (and (.isFile f) (str/ends-with? p ".jar"))
            :let [link (io/file jars (.getName f))]
            :when (not (.exists link))]
      (Files/createSymbolicLink (.toPath link) (.toPath (.getAbsoluteFile f)) (make-array FileAttribute 0)))
    home))

(defn start-jvm
  "Starts `main` with `args` in a new JVM on this JVM's classpath, with its
  --add-opens and -D options (those Spark needs), SPARK_HOME `home`, output
  to `log`, bound to 127.0.0.1."
  ^Process [home log main & args]
  (let [java (str (System/getProperty "java.home") "/bin/java")
        opens (vec (.getInputArguments (ManagementFactory/getRuntimeMXBean)))
        cmd (concat [java "-Xmx512m"] (filter #(or (str/starts-with? % "--add-opens") (str/starts-with? % "-D")) opens)
                    ["-cp" (System/getProperty "java.class.path") main] args)
        pb (doto (ProcessBuilder. ^java.util.List (vec cmd))
             (.redirectErrorStream true)
             (.redirectOutput (io/file log)))]
    (doto (.environment pb)
      (.put "SPARK_HOME" (str home))
      (.put "SPARK_SCALA_VERSION" "2.13")
      (.put "SPARK_LOCAL_IP" "127.0.0.1"))
    (.start pb)))

(defn- http-get [url]
  (try (.body (.send (HttpClient/newHttpClient) (.build (HttpRequest/newBuilder (URI. url))) (HttpResponse$BodyHandlers/ofString)))
       (catch Exception _ nil)))

(defn processes
  "The cluster's processes: master, worker and their descendants (executors)."
  [{:keys [master worker]}]
  (let [ps (keep identity [master worker])]
    (concat (map #(.toHandle ^Process %) ps)
            (mapcat (fn [^Process p] (iterator-seq (.iterator (.descendants p)))) ps))))

(defn- remove-home!
  "Deletes a SPARK_HOME made by spark-home: the links themselves (never what
  they point to), then its folders."
  [^File home]
  (when home
    (let [jars (io/file home "jars")]
      (doseq [^File f (.listFiles jars)] (Files/deleteIfExists (.toPath f)))
      (Files/deleteIfExists (.toPath jars))
      (Files/deleteIfExists (.toPath home)))))

(defn stop!
  "Kills the cluster's processes (executors included), waits until they are
  gone and removes its SPARK_HOME (the logs stay); true when none is alive."
  [cluster]
  (let [all (vec (processes cluster))]
    (doseq [^ProcessHandle p all] (.destroyForcibly p))
    (doseq [^ProcessHandle p all] (try (.get (.onExit p)) (catch Exception _ nil)))
    (remove-home! (:home cluster))
    (not-any? #(.isAlive ^ProcessHandle %) all)))

(defn start!
  "Starts a master and one worker with `cores` and `memory` on 127.0.0.1 and
  waits (up to `timeout-s`) until the worker has registered. Returns
  {:master-url :web-ui :master Process :worker Process :logs File}; an error
  (naming the log folder) when the worker does not come up, after stopping
  what started."
  [{:keys [cores memory port web-ui-port timeout-s]
    :or {cores (.availableProcessors (Runtime/getRuntime)) memory "2g" timeout-s 60}}]
  (when-not (and (integer? cores) (pos? cores))
    (throw (ex-info (str "spark-cluster: cores must be a positive whole number, got " (pr-str cores)) {:cores cores})))
  (when-not (re-matches #"\d+[kmgt]?" (str memory))
    (throw (ex-info (str "spark-cluster: memory must look like 512m or 2g, got " (pr-str memory)) {:memory memory})))
  (let [home (spark-home)
        logs (tmp-dir "chive-spark-cluster")
        port (or port (free-port)) ui (or web-ui-port (free-port)) wui (free-port)
        master (start-jvm home (io/file logs "master.log") "org.apache.spark.deploy.master.Master"
                          "--host" "127.0.0.1" "--port" (str port) "--webui-port" (str ui))
        cluster (atom {:master master :logs logs :home home})]
    (try
      (swap! cluster assoc :worker
             (start-jvm home (io/file logs "worker.log") "org.apache.spark.deploy.worker.Worker"
                        (str "spark://127.0.0.1:" port) "--host" "127.0.0.1" "--cores" (str cores) "--memory" (str memory)
                        "--webui-port" (str wui) "--work-dir" (str (io/file logs "work"))))
      (let [deadline (+ (System/nanoTime) (* timeout-s 1000000000))]
        (loop []
          (cond (some->> (http-get (str "http://127.0.0.1:" ui "/json/")) (re-find #"\"aliveworkers\"\s*:\s*1")) nil
                (> (System/nanoTime) deadline)
                (throw (ex-info (str "spark-cluster: the worker did not register with the master within " timeout-s " s; logs in " logs)
                                {:logs (str logs)}))
                (not (.isAlive ^Process master))
                (throw (ex-info (str "spark-cluster: the master exited; see " (io/file logs "master.log")) {:logs (str logs)}))
                :else (do (Thread/sleep 250) (recur)))))
      (assoc @cluster :master-url (str "spark://127.0.0.1:" port) :web-ui (str "http://127.0.0.1:" ui) :cores cores)
      (catch Throwable t
        (stop! @cluster)
        (throw t)))))

(def ^:private usage
  "Usage: bin/chive spark-cluster [--cores N] [--memory 2g] [--port P] [--web-ui-port P]
A Spark standalone master and one worker on 127.0.0.1 (separate JVMs, Spark's
own classes from chive's classpath). Prints {\"master\": \"spark://127.0.0.1:P\", ...}
on stdout once the worker is up, then runs until Ctrl-C or SIGTERM and stops
master, worker and executors. Use it with:
  bin/chive sweep SPEC.edn --engine spark --master spark://127.0.0.1:P")

(def ^:private specs
  [[nil "--cores N" "the worker's cores (default: all)" :parse-fn (cli/integer 1 4096)]
   [nil "--memory M" "the worker's memory for executors (default 2g)" :default "2g"]
   [nil "--port P" "the master's port (default: a free one)" :parse-fn (cli/integer 1 65535)]
   [nil "--web-ui-port P" "the master's web UI port (default: a free one)" :parse-fn (cli/integer 1 65535)]])

(defn- run-command [opts args]
  (when (seq args) (throw (ex-info (str "spark-cluster: unexpected argument " (pr-str (first args))) {})))
  (let [c (start! (cond-> {:memory (:memory opts)}
                    (:cores opts) (assoc :cores (:cores opts))
                    (:port opts) (assoc :port (:port opts))
                    (:web-ui-port opts) (assoc :web-ui-port (:web-ui-port opts))))
        forever (promise)]
    (.addShutdownHook (Runtime/getRuntime)
                      (Thread. ^Runnable (fn []
                                           (binding [*out* *err*] (println "spark-cluster: stopping master, worker and executors"))
                                           (stop! c))))
    (println (json/generate-string {:master (:master-url c) :web_ui (:web-ui c) :cores (:cores c) :logs (str (:logs c))}))
    (flush)
    (binding [*out* *err*] (println "spark-cluster: up at" (:master-url c) "(web UI" (str (:web-ui c) ");") "Ctrl-C stops it"))
    ;; The JVM ends on a signal, after the hook has stopped the cluster.
    @forever))

(defn -main [& args]
  (cli/exit! (cli/run "spark-cluster" usage specs args run-command)))
