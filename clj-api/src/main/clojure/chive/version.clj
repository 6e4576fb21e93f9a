(ns chive.version
  "What is running: chive's, Clojure's, Jackson's and the JVM's versions."
  (:import (com.fasterxml.jackson.core.json PackageVersion)))

(defn versions
  "A map of the versions loaded in this JVM, e.g.
  {:clojure \"1.12.3\" :jackson \"2.20.1\" :java \"17.0.15\" :java-vendor \"Debian\"}"
  []
  {:clojure (clojure-version)
   :jackson (str PackageVersion/VERSION)
   :java (System/getProperty "java.version")
   :java-vendor (System/getProperty "java.vendor")
   :clojure-jar (str (.getLocation (.getCodeSource (.getProtectionDomain clojure.lang.RT))))})
