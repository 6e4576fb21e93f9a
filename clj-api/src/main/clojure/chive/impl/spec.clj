(ns chive.impl.spec
  "Values in network maps: unit conversion to the core's units, checked
  quantities, init specs ([:uniform lo hi], [:normal mean sd], one value per
  element) filled into state arrays. Shared by chive.net (validate, build,
  set-state!) and the built-in extension points (chive.impl.builtins)."
  (:require [chive.impl.validate :as v]
            [chive.units :as u])
  (:import (chive.core.sim Fill)))

(set! *warn-on-reflection* true)

(defn err [msg data] (throw (ex-info msg data)))

(defn convert
  "`x` in internal units for `unit`: a unit keyword of a built-in model, a set
  of alternatives (#{:1 :mV-per-ms}: a plain number in the published
  dimensionless form, or a quantity of the other unit), or a dimension vector
  of a DSL model (chive.model)."
  ^double [what x unit]
  (cond (vector? unit) (u/check-dim what x unit)
        (set? unit) (if (and (number? x) (contains? unit :1))
                      (u/check what x :1)
                      (u/check what x (first (disj unit :1))))
        :else (u/check what x unit)))

(def doubles-class (Class/forName "[D"))

(defn doubles? [a] (instance? doubles-class a))

(defn fill-var!
  "Sets array `a` (float[] or double[]; a state variable in `unit`) from an
  init spec: a quantity or number, [:uniform lo hi], [:normal mean sd], or a
  sequence with one value per neuron. The values are drawn in double and
  rounded once for a float[] (the same numbers as the float draws)."
  [a spec unit what seed]
  (let [n (if (doubles? a) (alength ^doubles a) (alength ^floats a))
        buf (double-array n)
        conv (fn [x] (convert what x unit))]
    (cond
      (or (number? spec) (u/quantity? spec)) (Fill/constant buf (double (conv spec)))
      (and (vector? spec) (= :uniform (first spec)))
      (let [[_ lo hi] spec] (Fill/uniform buf (double (conv lo)) (double (conv hi)) (long seed)))
      (and (vector? spec) (= :normal (first spec)))
      (let [[_ mean sd & [{:keys [min max]}]] spec]
        (Fill/normal buf (double (conv mean)) (double (conv sd))
                     (double (if min (conv min) Double/NEGATIVE_INFINITY))
                     (double (if max (conv max) Double/POSITIVE_INFINITY)) (long seed)))
      (sequential? spec)
      (let [vs (double-array (map conv spec))] (Fill/from buf vs 1.0 (str what)))
      (doubles? spec)
      (if (or (= unit :1) (= unit [0 0 0 0 0 0 0]))
        (Fill/from buf ^doubles spec 1.0 (str what))
        (err (str what ": a raw double array has no unit; give a sequence of quantities or a "
                  "[:uniform lo hi] / [:normal mean sd] spec") {:what what :unit unit}))
      :else (err (str what ": cannot initialise from " (pr-str spec)
                      "; give a value, [:uniform lo hi], [:normal mean sd] or one value per neuron")
                 {:what what :spec spec}))
    (if (doubles? a)
      (System/arraycopy buf 0 a 0 n)
      (Fill/from ^floats a buf 1.0 (str what)))))

(defn quantity! [path what x unit]
  (try (let [d (convert what x unit)]
         (when-not (Double/isFinite d) (v/fail! path (str (name what) " must be finite, got " (pr-str x)) {:value x}))
         d)
       (catch clojure.lang.ExceptionInfo e
         ;; The unit checker's message already names the parameter (group/name).
         (if (:path (ex-data e)) (throw e) (throw (ex-info (ex-message e) (assoc (ex-data e) :path path) e))))))

(defn sequential-value? [x] (or (sequential? x) (instance? (Class/forName "[D") x)))

(defn init-spec! [path what spec unit n]
  (cond
    (or (number? spec) (u/quantity? spec)) (quantity! path what spec unit)
    (and (vector? spec) (keyword? (first spec)))
    (let [[kind a b opts] spec]
      (v/one-of! path "distribution" kind [:uniform :normal])
      (when-not (<= 3 (count spec) (if (= kind :normal) 4 3))
        (v/fail! path (str what ": " (pr-str kind) " takes " (if (= kind :normal) "mean, sd and optionally {:min :max}" "lo and hi")
                           ", got " (pr-str spec)) {:value spec}))
      (let [x (quantity! path what a unit) y (quantity! path what b unit)]
        (when (and (= kind :uniform) (> x y))
          (v/fail! path (str what ": [:uniform lo hi] needs lo <= hi, got " (pr-str spec)) {:value spec}))
        (when (and (= kind :normal) (neg? y))
          (v/fail! path (str what ": [:normal mean sd] needs sd >= 0, got " (pr-str spec)) {:value spec}))
        (when opts
          (v/closed! path (str what " bounds") opts #{:min :max})
          (doseq [[_ x] opts] (quantity! path what x unit)))))
    (sequential-value? spec)
    (let [c (count spec)]
      (when (and n (not= c n) (not= c 1))
        (v/fail! path (str what ": " c " values for " n " elements (give one value or " n ")") {:count c}))
      (when (instance? (Class/forName "[D") spec)
        (when-not (or (= unit :1) (= unit [0 0 0 0 0 0 0]))
          (v/fail! path (str what ": a raw double array has no unit; give a sequence of quantities or a "
                             "[:uniform lo hi] / [:normal mean sd] spec") {:unit unit})))
      (when-not (instance? (Class/forName "[D") spec)
        (doseq [x spec] (quantity! path what x unit))))
    :else (v/fail! path (str what ": cannot initialise from " (pr-str spec)
                             "; give a value, [:uniform lo hi], [:normal mean sd] or one value per element")
                   {:value spec})))

