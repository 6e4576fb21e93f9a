;; Prints the classpath of deps.edn for the given aliases, one line.
;; Usage: java -cp <tools.deps.cli classpath> clojure.main tools/deps/classpath.clj [alias ...]
;;
;; Jars whose manifest carries a Class-Path (Debian's packaged Clojure
;; libraries) go last, so that their manifest cannot put Debian's old Clojure
;; or Jackson ahead of the versions deps.edn names.
(require '[clojure.tools.deps :as deps]
         '[clojure.string :as str])
(import '(java.util.jar JarFile))

(defn- manifest-class-path? [^String path]
  (and (str/ends-with? path ".jar")
       (with-open [jf (JarFile. path)]
         (some-> (.getManifest jf) .getMainAttributes (.getValue "Class-Path") str/blank? not))))

(let [aliases (mapv #(keyword (str/replace % #"^:" "")) *command-line-args*)
      basis (deps/create-basis {:user nil :project "deps.edn" :aliases aliases})
      roots (:classpath-roots basis)
      {late true early false} (group-by (comp boolean manifest-class-path?) roots)]
  (println (str/join java.io.File/pathSeparator (concat early late))))
