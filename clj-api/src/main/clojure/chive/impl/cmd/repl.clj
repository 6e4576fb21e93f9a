(ns chive.impl.cmd.repl
  "bin/chive repl: the command line of chive.repl (an nREPL server with chive loaded)."
  (:require [chive.repl :refer :all]
            [chive.impl.cli :as cli]))

(set! *warn-on-reflection* true)

(def ^:private usage
  "Usage: bin/chive repl [options]
An nREPL server with chive loaded, on 127.0.0.1 by default; writes the port to .nrepl-port (CIDER, Calva).
Also starts the live view (chive.view/show!, tap>) on 127.0.0.1 and prints its URL; dev/user.clj has a guided tour.")

(def ^:private specs
  [[nil "--port N" "TCP port (0: any free one)" :default 0 :parse-fn (cli/integer 0 65535)]
   [nil "--bind ADDR" "address to listen on (a non-loopback address lets other hosts run code as you)" :default default-bind]
   [nil "--port-file PATH" "where to write the port" :default ".nrepl-port"]
   [nil "--view-port N" "port of the live view (chive.view: show!, tap>) on 127.0.0.1 (0: any free one)" :default 0 :parse-fn (cli/integer 0 65535)]
   [nil "--no-view" "do not start the live view (the first chive.view/show! starts it)"]])

(defn parse-args
  "Command-line arguments to `start!` options; throws ex-info naming a bad argument (:usage true for --help)."
  [args]
  (let [{:keys [exit message options arguments]} (cli/parse "repl" usage specs args)]
    (cond exit (throw (ex-info message {:usage (zero? exit)}))
          (seq arguments) (throw (ex-info (str "chive repl: unexpected argument " (pr-str (first arguments))) {}))
          :else options)))

(def ^:private preload
  "Namespaces loaded into the server before it accepts connections, so that a
  user connects to a REPL with chive ready."
  '[chive.version chive.view])

(defn command
  "bin/chive repl ARGS: starts the server and waits; returns the exit code for --help and bad input."
  [args]
  (cli/run "repl" usage specs args
           (fn [opts _]
             (when-let [w (bind-warning (:bind opts))]
               (binding [*out* *err*] (println w)))
             (apply require preload)
             (let [server (start! (select-keys opts [:port :bind :port-file]))
                   view (when-not (:no-view opts) ((requiring-resolve 'chive.view/start!) {:port (:view-port opts)}))]
               (.addShutdownHook (Runtime/getRuntime) (Thread. ^Runnable (fn [] (stop! server))))
               (println (connect-help server))
               (when view
                 (println (str "Live view (chive.view/show!, tap>): " (:url view))))
               (flush)
               @(promise)))))

(defn -main [& args] (cli/exit! (command args)))
