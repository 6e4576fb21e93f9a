(ns chive.prep
  "Compiles java-core for a Clojure CLI user who depends on chive from source
  (:local/root or a git dependency): the `:deps/prep-lib` function that
  deps.edn names, run by `clojure -X:deps prep` (or tools.deps' prep-libs!).
  Plain javax.tools, --release 17 with the jdk.incubator.vector module, as
  Maven compiles it. The classes are
  compiled into a fresh folder beside java-core/target/classes and moved into
  place at the end, so an interrupted prep never leaves a half-filled folder
  that looks prepared."
  (:require [clojure.java.io :as io])
  (:import (java.nio.file Files LinkOption StandardCopyOption)
           (java.nio.file.attribute FileAttribute)
           (javax.tools ToolProvider)))

(defn- java-sources [dir]
  (->> (file-seq (io/file dir))
       (filter #(and (.isFile ^java.io.File %) (.endsWith (.getName ^java.io.File %) ".java")))
       (map str)
       sort))

(defn compile-java
  "Compiles java-core/src/main/java into java-core/target/classes (from the
  current directory: the chive checkout). Throws when javac reports errors."
  [_]
  (let [target (io/file "java-core/target/classes")]
    (when-not (.exists target)
      (let [javac (or (ToolProvider/getSystemJavaCompiler)
                      (throw (ex-info "chive prep: no Java compiler in this JVM; run it with a JDK, not a JRE" {})))
            parent (doto (io/file "java-core/target") .mkdirs)
            tmp (.toFile (Files/createTempDirectory (.toPath parent) ".classes-prep-" (make-array FileAttribute 0)))
            srcs (java-sources "java-core/src/main/java")
            _ (binding [*out* *err*] (println "chive prep: compiling" (count srcs) "Java files of java-core"))
            args (into ["--release" "17" "-nowarn" "-encoding" "UTF-8"
                        ;; HhVector: the SIMD HH step (used only when the module is present at run time)
                        "--add-modules" "jdk.incubator.vector"
                        "-classpath" (System/getProperty "java.class.path")
                        "-d" (str tmp)]
                       srcs)
            rc (.run javac nil nil nil ^"[Ljava.lang.String;" (into-array String args))]
        (when-not (zero? rc)
          ;; remove the partial output (our own fresh temp folder; walk does not follow links)
          (with-open [s (Files/walk (.toPath tmp) (make-array java.nio.file.FileVisitOption 0))]
            (doseq [^java.nio.file.Path p (reverse (vec (.toList s)))] (Files/deleteIfExists p)))
          (throw (ex-info (str "chive prep: javac failed (exit " rc ") compiling java-core; see the messages above") {:exit rc})))
        (Files/move (.toPath tmp) (.toPath target) (into-array [StandardCopyOption/ATOMIC_MOVE]))
        nil))))
