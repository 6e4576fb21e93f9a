(ns chive.impl.cli
  "One way to read every bin/chive subcommand's command line, with
  org.clojure/tools.cli: `--help` prints the usage and exits 0; an unknown
  option, a missing value or a bad one prints one line naming the option and
  exits 2 (no stack trace); errors the command itself raises for bad input
  (ex-info, ChiveException) print one line and exit 2 as well.

      (defn command [args] (cli/run \"bench\" usage specs args run)) ; the exit code (tests call this)
      (defn -main [& args] (cli/exit! (command args)))"
  (:require [clojure.string :as str]
            [clojure.tools.cli :as cli]))

(set! *warn-on-reflection* true)

(defn- fail [^String msg] (throw (IllegalArgumentException. msg)))

(defn integer
  "A tools.cli :parse-fn for a whole number in [lo, hi] (hi nil: no bound)."
  ([lo] (integer lo nil))
  ([lo hi]
   (fn [^String s]
     (let [v (parse-long s)]
       (cond (nil? v) (fail (str "needs a whole number, got " (pr-str s)))
             (< v lo) (fail (str "must be at least " lo ", got " v))
             (and hi (> v hi)) (fail (str "must be at most " hi ", got " v))
             :else v)))))

(defn number
  "A tools.cli :parse-fn for a finite number above `lo` (exclusive when `strict?`)."
  ([] (number nil false))
  ([lo strict?]
   (fn [^String s]
     (let [v (parse-double s)]
       (cond (or (nil? v) (not (Double/isFinite v))) (fail (str "needs a number, got " (pr-str s)))
             (and lo strict? (<= v lo)) (fail (str "must be greater than " lo ", got " v))
             (and lo (not strict?) (< v lo)) (fail (str "must be at least " lo ", got " v))
             :else v)))))

(defn integers
  "A tools.cli :parse-fn for exactly `k` comma-separated whole numbers in [lo, hi], as a vector."
  [k lo hi]
  (fn [^String s]
    (let [parts (str/split s #",")
          vs (map parse-long parts)]
      (cond (not= k (count parts)) (fail (str "needs " k " comma-separated whole numbers, got " (pr-str s)))
            (some nil? vs) (fail (str "needs whole numbers, got " (pr-str s)))
            (some #(not (<= lo % hi)) vs) (fail (str "each must be in " lo ".." hi ", got " (pr-str s)))
            :else (vec vs)))))

(defn one-of
  "A tools.cli :parse-fn accepting one of `choices` (strings)."
  [& choices]
  (fn [^String s]
    (if (some #{s} choices) s (fail (str "must be one of " (str/join ", " choices) ", got " (pr-str s))))))

(defn- tidy
  "tools.cli's error text as one line: 'Error while parsing option \"--n x\": msg' -> '--n x: msg'."
  [^String e]
  (-> e
      (str/replace #"^Error while parsing option \"([^\"]*)\": (?:java\.lang\.IllegalArgumentException: )?" "$1: ")
      (str/replace #"^Failed to validate \"([^\"]*)\": " "$1: ")
      (str/replace #"\s*\n\s*" " ")))

(defn parse
  "Parses `args` against tools.cli `specs` (--help added). Returns
  {:options :arguments}, or {:exit 0|2 :message text} for --help or bad input."
  [cmd usage specs args]
  (let [{:keys [options arguments errors summary]} (cli/parse-opts args (conj (vec specs) ["-h" "--help" "print this help and exit"]))]
    (cond (:help options) {:exit 0 :message (str usage "\n\nOptions:\n" summary)}
          (seq errors) {:exit 2 :message (str "chive " cmd ": " (tidy (first errors)) " (bin/chive " cmd " --help)")}
          :else {:options options :arguments arguments})))

(defn run
  "Parses `args` and calls (f options arguments); returns the exit code: 0 or
  what f returns (nil = 0) when all went well, 0 after --help, 2 for bad
  input (printing one line on stderr), 1 when f failed otherwise."
  [cmd usage specs args f]
  (let [{:keys [exit message options arguments]} (parse cmd usage specs args)]
    (if exit
      (do (binding [*out* (if (zero? exit) *out* *err*)] (println message) (flush))
          exit)
      (try
        (let [r (f options arguments)] (if (integer? r) r 0))
        (catch clojure.lang.ExceptionInfo e
          (binding [*out* *err*] (println (str "chive " cmd ": " (first (str/split-lines (or (ex-message e) "error"))))) (flush))
          (if (:usage (ex-data e)) 0 2))
        (catch chive.core.sim.ChiveException e
          (binding [*out* *err*] (println (str "chive " cmd ": " (.getMessage e))) (flush))
          2)))))

(defn exit!
  "Exits the JVM with `code` (from `run`), after flushing output."
  [code]
  (flush)
  (binding [*out* *err*] (flush))
  (shutdown-agents)
  (System/exit (int code)))
