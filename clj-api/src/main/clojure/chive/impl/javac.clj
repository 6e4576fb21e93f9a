(ns chive.impl.javac
  "Compiles generated Java source in memory (javax.tools, part of every JDK)
  and loads the classes, for model code that `chive.model` generates."
  (:require [clojure.string :as str])
  (:import (chive.core.model BytesClassLoader)
           (java.io ByteArrayOutputStream StringWriter)
           (java.net URI)
           (java.util ArrayList HashMap List Map)
           (javax.tools DiagnosticCollector ForwardingJavaFileManager JavaFileManager JavaFileObject
                        JavaFileObject$Kind SimpleJavaFileObject StandardLocation ToolProvider)))

(set! *warn-on-reflection* true)

(defn- source-object ^JavaFileObject [^String class-name ^String source]
  (proxy [SimpleJavaFileObject] [(URI/create (str "string:///" (str/replace class-name "." "/") ".java"))
                                 JavaFileObject$Kind/SOURCE]
    (getCharContent [_] source)))

(defn- class-object ^JavaFileObject [^String class-name ^Map outputs]
  (let [bytes (ByteArrayOutputStream.)]
    (.put outputs class-name bytes)
    (proxy [SimpleJavaFileObject] [(URI/create (str "bytes:///" (str/replace class-name "." "/") ".class"))
                                   JavaFileObject$Kind/CLASS]
      (openOutputStream [] bytes))))

(defn- class-path []
  ;; The classes generated code refers to (chive.core) must be visible to javac:
  ;; take the JVM's classpath plus the jars/dirs of the context class loader.
  (let [cl (.getContextClassLoader (Thread/currentThread))
        urls (loop [^ClassLoader l cl acc []]
               (if (nil? l) acc
                   (recur (.getParent l)
                          (into acc (when (instance? java.net.URLClassLoader l)
                                      (map #(str (java.io.File. (.toURI ^java.net.URL %)))
                                           (.getURLs ^java.net.URLClassLoader l)))))))]
    (str/join java.io.File/pathSeparator (distinct (concat (str/split (System/getProperty "java.class.path")
                                                                      (re-pattern java.io.File/pathSeparator))
                                                           urls)))))

(defn compile-class
  "Compiles `source` (one public class named `class-name`, with its package)
  and returns the loaded Class. Throws ex-info with javac's diagnostics and
  the numbered source when it does not compile."
  ^Class [^String class-name ^String source]
  (let [^javax.tools.JavaCompiler compiler
        (or (ToolProvider/getSystemJavaCompiler)
                     (throw (ex-info "no Java compiler in this JVM: chive's DSL needs a JDK (not a JRE) to compile models"
                                     {:java-home (System/getProperty "java.home")})))
        diagnostics (DiagnosticCollector.)
        outputs (HashMap.)
        std (.getStandardFileManager compiler diagnostics nil nil)
        fm (proxy [ForwardingJavaFileManager] [std]
             (getJavaFileForOutput [location ^String name kind sibling]
               (class-object name outputs)))
        out (StringWriter.)
        options (doto (ArrayList.) (.add "-classpath") (.add (class-path)) (.add "--release") (.add "17")
                  (.add "-proc:none") (.add "-g:none"))
        units (doto (ArrayList.) (.add (source-object class-name source)))
        ok (.call (.getTask compiler out ^JavaFileManager fm diagnostics options nil units))]
    (when-not ok
      (throw (ex-info (str "generated model code did not compile:\n"
                           (str/join "\n" (map str (.getDiagnostics diagnostics)))
                           "\n--- source ---\n"
                           (str/join "\n" (map-indexed (fn [i l] (format "%4d  %s" (inc i) l)) (str/split-lines source))))
                      {:class class-name})))
    (let [bytes (into {} (map (fn [[k ^ByteArrayOutputStream v]] [k (.toByteArray v)])) outputs)
          loader (BytesClassLoader. (.getContextClassLoader (Thread/currentThread)) bytes)]
      (.loadClass loader class-name))))
