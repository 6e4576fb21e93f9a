(ns chive.impl.files
  "Writing single files so that a crash never leaves a half-written one: the
  content goes to a hidden sibling, is flushed to disk, then renamed over
  the target in one step (the previous file stays whole until then). A
  symbolic link at the target is replaced as a link; what it points to is
  never written through."
  (:require [clojure.java.io :as io])
  (:import (java.io File)
           (java.nio.channels FileChannel)
           (java.nio.file Files LinkOption StandardCopyOption StandardOpenOption)))

(set! *warn-on-reflection* true)

(defn path
  "The java.nio Path of `dir` joined with `parts` (as clojure.java.io/file)."
  ^java.nio.file.Path [dir & parts]
  (.toPath ^File (apply io/file dir parts)))

(defn write-file!
  "Calls (write! tmp) with a fresh sibling File of `target`, then renames it
  over `target` atomically. A folder at `target` is an error. Returns the
  target's path."
  [target write!]
  (let [^File t (.getAbsoluteFile (io/file target))
        dir (doto (.getParentFile t) .mkdirs)]
    (when (Files/isDirectory (.toPath t) (into-array LinkOption [LinkOption/NOFOLLOW_LINKS]))
      (throw (ex-info (str t ": is a folder; will not replace it with a file") {:file (str t)})))
    (let [tmp (File. dir (str "." (.getName t) ".chive-write-" (System/nanoTime)))]
      (try
        (write! tmp)
        (with-open [c (FileChannel/open (.toPath tmp) (into-array StandardOpenOption [StandardOpenOption/READ]))]
          (.force c true))
        (Files/move (.toPath tmp) (.toPath t) (into-array java.nio.file.CopyOption [StandardCopyOption/ATOMIC_MOVE
                                                                                     StandardCopyOption/REPLACE_EXISTING]))
        (str t)
        (finally (Files/deleteIfExists (.toPath tmp)))))))

(defn spit!
  "As clojure.core/spit, written atomically (see `write-file!`)."
  [target content]
  (write-file! target #(spit % content)))
