(ns chive.repl
  "An nREPL server with chive loaded, for Emacs/CIDER, Calva or any nREPL client.

  From a shell:  bin/chive repl [--port N] [--bind ADDR] [--port-file PATH]
  From Clojure:  (def s (start! {:port 0}))  ... (stop! s)

  The server binds 127.0.0.1 unless told otherwise; binding any other address
  lets anyone who can reach the port run code as you, and says so. The port is
  written to `.nrepl-port` (where CIDER and Calva look for it) and the file is
  removed when the server stops or the JVM exits.

  Interrupts: nREPL's `interrupt` op interrupts the evaluating thread. On JDK 20
  and later nREPL 1.0.0's fallback, Thread.stop, no longer works, so chive's own
  long operations (runs, training) poll the thread's interrupt flag themselves
  and return at a consistent point."
  (:require [chive.impl.cli :as cli]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [nrepl.server :as nrepl])
  (:import (java.io File)
           (java.net InetAddress ServerSocket)
           (java.nio.file Files StandardCopyOption CopyOption)))

(set! *warn-on-reflection* true)

(def default-bind "127.0.0.1")

(defn loopback?
  "True when `addr` (a host name or literal address) resolves to a loopback address."
  [^String addr]
  (.isLoopbackAddress (InetAddress/getByName addr)))

(defn bind-warning
  "nil for a loopback address, else the warning to print before serving on `addr`."
  [addr]
  (when-not (loopback? addr)
    (str "WARNING: nREPL is listening on " addr ", not on loopback. Anyone who can reach "
         "this port can run any code as this user, with no password. Use --bind 127.0.0.1 "
         "(the default) unless you mean it.")))

(defn- write-atomically!
  "Writes `text` to `f` by renaming a sibling into place; the file is
  readable by its owner only (rw-------) where the file system has POSIX
  permissions: the port is how to run code as this user."
  [^File f ^String text]
  (let [dir (or (.getAbsoluteFile (.getParentFile (.getAbsoluteFile f))) (File. "."))
        posix? (contains? (.supportedFileAttributeViews (java.nio.file.FileSystems/getDefault)) "posix")
        tmp (.toFile (if posix?
                       (Files/createTempFile (.toPath dir) ".nrepl-port" ".tmp"
                                             (into-array java.nio.file.attribute.FileAttribute
                                                         [(java.nio.file.attribute.PosixFilePermissions/asFileAttribute
                                                           (java.nio.file.attribute.PosixFilePermissions/fromString "rw-------"))]))
                       (Files/createTempFile (.toPath dir) ".nrepl-port" ".tmp"
                                             (into-array java.nio.file.attribute.FileAttribute []))))]
    (spit tmp text)
    (Files/move (.toPath tmp) (.toPath f)
                (into-array CopyOption [StandardCopyOption/REPLACE_EXISTING StandardCopyOption/ATOMIC_MOVE]))))

(defn start!
  "Starts an nREPL server and returns it (an nrepl.server/Server record, with
  ::port-file added). Options:
  - :port       TCP port, 0 picks a free one (default 0)
  - :bind       address to listen on (default \"127.0.0.1\")
  - :port-file  path of the port file (default \".nrepl-port\" in the working
                directory); false to write none"
  [{:keys [port bind port-file] :or {port 0 bind default-bind port-file ".nrepl-port"}}]
  (when-not (and (integer? port) (<= 0 port 65535))
    (throw (ex-info (str "nREPL port must be an integer in 0..65535, got " (pr-str port)) {:port port})))
  (let [server (nrepl/start-server :port port :bind bind)
        port-file (when port-file (.getAbsoluteFile (io/file port-file)))]
    (when port-file (write-atomically! port-file (str (:port server))))
    (assoc server ::port-file port-file ::bind bind)))

(defn stop!
  "Stops a server from `start!` and removes its port file if it still names this server."
  [server]
  (nrepl/stop-server server)
  (when-let [^File f (::port-file server)]
    (when (and (.exists f) (= (str (:port server)) (str/trim (slurp f))))
      (.delete f)))
  nil)

(defn listening-address
  "The address the server's socket is bound to, as a string (\"127.0.0.1\")."
  [server]
  (.getHostAddress (.getInetAddress ^ServerSocket (:server-socket server))))

(defn connect-help
  "How to connect CIDER and Calva to `server`, as text."
  [server]
  (let [port (:port server)
        host (::bind server)]
    (str "chive nREPL server started on port " port " on host " host " - nrepl://" host ":" port "\n"
         (when-let [f (::port-file server)] (str "Port written to " f " (removed on exit).\n"))
         "Connect from\n"
         "  Emacs/CIDER: M-x cider-connect-clj, host localhost, port " port
         " (CIDER offers the port from .nrepl-port)\n"
         "  Calva:       command \"Calva: Connect to a Running REPL Server in the Project\","
         " project type \"Generic\", then localhost:" port "\n"
         "This is plain nREPL (no cider-nrepl middleware): evaluation, output, interrupt and\n"
         "completion of loaded code work; CIDER's debugger and inspector need cider-nrepl.\n"
         "Stop with Ctrl-C.")))
