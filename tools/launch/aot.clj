;; bin/chive's fast start (see launch_dir in bin/chive), in two modes:
;;
;;   compile NS...  compiles the namespaces (and everything they load) ahead of
;;                  time into *compile-path* (-Dclojure.compile.path=DIR, which
;;                  must be on the classpath); bin/chive jars the result with
;;                  java-core's classes, so the JVM loads chive's namespaces as
;;                  classes instead of compiling them at every start.
;;   train NS...    loads the namespaces and runs a small network of each
;;                  built-in model kind through the public API, in a JVM that
;;                  records the classes it loads (-XX:ArchiveClassesAtExit):
;;                  the class-data sharing archive every later start maps.
(let [[mode & nss] *command-line-args*]
  (case mode
    "compile" (doseq [a nss] (compile (symbol a)))
    "train" (do (apply require (map symbol nss))
                (binding [*out* (java.io.StringWriter.)]
                  (let [measure (requiring-resolve 'chive.bench/measure)]
                    (doseq [b ["cuba" "cobahh" "izhikevich"]]
                      (measure b {:n 200 :duration-ms 20.0 :threads 1 :seed 1 :warmup false})))))))
