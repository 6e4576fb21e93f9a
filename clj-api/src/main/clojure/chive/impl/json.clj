(ns chive.impl.json
  "Reading JSON files that may lie: a size limit before reading, strict
  parsing (trailing data is an error), and field checks that name the file,
  the field and the value."
  (:require [cheshire.factory :as factory]
            [cheshire.parse :as parse]
            [clojure.string :as str])
  (:import (com.fasterxml.jackson.core JsonFactory JsonParser JsonProcessingException)
           (java.io File)
           (java.nio.file Files)))

(set! *warn-on-reflection* true)

(def ^:private max-bytes (* 64 1024 1024))

(defn read-file
  "The JSON value in file `f`, keys as keywords. Throws ex-info naming the
  file when it is missing, too large, not JSON, or has data after the value."
  [^File f]
  (when-not (.isFile f)
    (throw (ex-info (str f ": no such file") {:file (str f)})))
  (when (> (.length f) max-bytes)
    (throw (ex-info (str f ": " (.length f) " bytes is too large for a chive JSON file (at most " max-bytes ")") {:file (str f)})))
  (let [s (String. (Files/readAllBytes (.toPath f)) java.nio.charset.StandardCharsets/UTF_8)]
    (try
      (with-open [^JsonParser jp (.createParser ^JsonFactory (or factory/*json-factory* factory/json-factory) ^String s)]
        (let [v (parse/parse-strict jp true ::eof nil)]
          (when (= v ::eof) (throw (ex-info (str f ": empty file, expected JSON") {:file (str f)})))
          (when-let [t (.nextToken jp)]
            (throw (ex-info (str f ": unexpected data after the JSON value, at line " (.getLineNr (.getCurrentLocation jp))
                                 " (" t "); the file was edited or damaged")
                            {:file (str f)})))
          v))
      (catch JsonProcessingException e
        (throw (ex-info (str f ": not valid JSON (truncated or edited?): " (first (str/split-lines (.getMessage e))))
                        {:file (str f)} e))))))

(defn field
  "Field `k` of map `m` read from `file` at `where` (e.g. \"groups[2]\"),
  checked by `ok?` (described as `expected`). Missing or wrong: ex-info
  naming the file, place, field and value."
  [file where m k ok? expected]
  (when-not (map? m)
    (throw (ex-info (str file ": " where " must be an object, got " (pr-str m)) {:file (str file) :where where})))
  (when-not (contains? m k)
    (throw (ex-info (str file ": " where " lacks the field \"" (name k) "\" (" expected ")")
                    {:file (str file) :where where :field k})))
  (let [v (get m k)]
    (when-not (ok? v)
      (throw (ex-info (str file ": " where "." (name k) " must be " expected ", got " (pr-str v))
                      {:file (str file) :where where :field k :value v})))
    v))

(defn only-fields
  "Throws when map `m` (at `where` in `file`) has fields outside `allowed`."
  [file where m allowed]
  (doseq [k (keys m)]
    (when-not (contains? allowed k)
      (throw (ex-info (str file ": " where " has an unknown field \"" (name k) "\" (a newer chive, or an edited file?)")
                      {:file (str file) :where where :field k}))))
  m)

(defn whole? [x] (integer? x))
(defn finite? [x] (and (number? x) (Double/isFinite (double x))))
(defn text? [x] (and (string? x) (not (str/blank? x))))
