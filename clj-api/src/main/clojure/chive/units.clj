(ns chive.units
  "Physical quantities with dimensions, checked before anything reaches the
  Java core.

  A quantity holds its dimension as exponents of (m kg s A K mol cd) and its
  value in chive's coherent internal units (the base scales µm, µg, ms, nA, so
  that mV, nA, µS, nF, MΩ and ms are 1 and (mV 140) is exactly 140.0 inside). Build one with a unit function, combine with q+ q- q* q-div,
  and convert with `in`:

      (ms 20)                    ;=> #chive/q \"20.0 ms\"
      (in (ms 20) :s)            ;=> 0.02
      (q* (nS 6) (mV 10))        ;=> #chive/q \"0.06 nA\"
      (q+ (ms 1) (mV 1))         ;; throws: cannot add a time and a voltage

  Cheat sheet
  - time: s ms us;  voltage: V mV;  current: A nA pA;  conductance: S mS uS nS
  - capacitance: F uF nF pF;  resistance: ohm Mohm Gohm;  frequency: Hz kHz
  - area: m2 cm2 um2;  plain numbers: dimensionless
  - `check` converts a parameter to chive's internal unit or throws ex-info
    naming the parameter, the unit given and the unit expected.

  chive's core works in ms, mV, nA, µS, nF, MΩ and Hz: a coherent set
  (µS·mV = nA, nF·mV/ms = nA, nF·MΩ = ms) so kernels need no factors."
  (:refer-clojure :exclude [time]))

(set! *warn-on-reflection* true)

(defrecord Quantity [^double value dim])

(def ^:private base-exp
  "Power of ten of the SI value of one internal unit of each base dimension
  (m kg s A K mol cd): µm, µg, ms, nA. Then V -> mV, S -> µS, F -> nF,
  ohm -> MΩ, Hz -> 1/ms. Powers of ten keep conversions exact where they can be."
  [-6 -9 -3 -9 0 0 0])

(defn- internal-exp ^long [dim] (reduce + 0 (map * base-exp dim)))

(defn- pow10 ^double [^long k] (if (neg? k) (/ 1.0 (Math/pow 10.0 (- k))) (Math/pow 10.0 k)))

(defn internal-scale
  "SI value of one internal unit of dimension `dim` (an exponent vector)."
  ^double [dim]
  (pow10 (internal-exp dim)))

(def ^:private dims
  "Named dimensions: exponent vectors over (m kg s A K mol cd)."
  {:dimensionless [0 0 0 0 0 0 0]
   :time          [0 0 1 0 0 0 0]
   :frequency     [0 0 -1 0 0 0 0]
   :voltage       [2 1 -3 -1 0 0 0]
   :current       [0 0 0 1 0 0 0]
   :conductance   [-2 -1 3 2 0 0 0]
   :capacitance   [-2 -1 4 2 0 0 0]
   :resistance    [2 1 -3 -2 0 0 0]
   :area          [2 0 0 0 0 0 0]
   :voltage-rate  [2 1 -4 -1 0 0 0]
   :length        [1 0 0 0 0 0 0]
   :conductance-density [-4 -1 3 2 0 0 0]
   :capacitance-density [-4 -1 4 2 0 0 0]})

(def ^:private dim-names (into {} (map (fn [[k v]] [v k])) dims))

(def units
  "Unit keyword -> [dimension power-of-ten of its SI value]."
  {:1 [:dimensionless 0]
   :s [:time 0] :ms [:time -3] :us [:time -6]
   :Hz [:frequency 0] :kHz [:frequency 3]
   :V [:voltage 0] :mV [:voltage -3]
   :A [:current 0] :nA [:current -9] :pA [:current -12]
   :S [:conductance 0] :mS [:conductance -3] :uS [:conductance -6] :nS [:conductance -9]
   :F [:capacitance 0] :uF [:capacitance -6] :nF [:capacitance -9] :pF [:capacitance -12]
   :ohm [:resistance 0] :Mohm [:resistance 6] :Gohm [:resistance 9]
   :m2 [:area 0] :cm2 [:area -4] :um2 [:area -12]
   :S-per-cm2 [:conductance-density 4] :mS-per-cm2 [:conductance-density 1]
   :uF-per-cm2 [:capacitance-density -2]
   :mV-per-ms [:voltage-rate 0]})

(def ^:private preferred
  "Unit used to print each dimension."
  {:time :ms :frequency :Hz :voltage :mV :current :nA :conductance :nS :capacitance :pF
   :resistance :Mohm :area :um2 :dimensionless :1 :voltage-rate :mV-per-ms})

(defn quantity?
  "True for a chive quantity."
  [x] (instance? Quantity x))

(defn dimension
  "The dimension of `x` as a keyword (:time, :voltage, ...) when it has a name,
  else its exponent vector. Plain numbers are :dimensionless."
  [x]
  (let [d (if (quantity? x) (:dim x) (:dimensionless dims))]
    (get dim-names d d)))

(def ^:private base-names ["m" "kg" "s" "A" "K" "mol" "cd"])

(defn dim-str
  "A readable name for a dimension keyword or exponent vector: \"voltage\", \"m^2 kg s^-3\"."
  [d]
  (cond
    (keyword? d) (name d)
    (dim-names d) (name (dim-names d))
    :else (let [parts (for [[b e] (map vector base-names d) :when (not (zero? e))]
                        (if (= 1 e) b (str b "^" e)))]
            (if (empty? parts) "dimensionless" (clojure.string/join " " parts)))))

(defn q
  "The quantity `value` `unit` (a keyword of `units`): (q 20 :ms)."
  [value unit]
  (let [[dim e] (or (units unit)
                    (throw (ex-info (str "unknown unit " (pr-str unit) "; known: " (sort (keys units)))
                                    {:unit unit})))]
    (when-not (number? value)
      (throw (ex-info (str "a quantity needs a number, got " (pr-str value) " for unit " (name unit))
                      {:value value :unit unit})))
    (when (Double/isNaN (double value))
      (throw (ex-info (str "a quantity cannot be NaN: (" (name unit) " ##NaN)") {:value value :unit unit})))
    (->Quantity (* (double value) (pow10 (- (long e) (internal-exp (dims dim))))) (dims dim))))

(defn in
  "The number `x` is in `unit`: (in (ms 20) :s) => 0.02. Throws ex-info when
  the dimensions differ. A plain number is dimensionless."
  ^double [x unit]
  (let [[dim e] (or (units unit) (throw (ex-info (str "unknown unit " (pr-str unit)) {:unit unit})))
        xd (if (quantity? x) (:dim x) (:dimensionless dims))
        xv (if (quantity? x) (:value x) (double x))]
    (when-not (= xd (dims dim))
      (throw (ex-info (str "cannot express " (pr-str x) " (" (dim-str (dimension x)) ") in " (name unit)
                           " (" (name dim) ")")
                      {:value x :unit unit :given (dimension x) :expected dim})))
    (* (double xv) (pow10 (- (internal-exp xd) (long e))))))

(defn internal
  "The value of `x` in chive's coherent internal units (see the namespace doc);
  a plain number is itself."
  ^double [x]
  (if (quantity? x) (:value x) (double x)))

(defn dim-vector
  "The exponent vector of `x`'s dimension (plain numbers: all zeros)."
  [x]
  (if (quantity? x) (:dim x) (:dimensionless dims)))

(defn dim-of-name
  "The exponent vector of a named dimension (:time, :voltage, ...)."
  [k]
  (or (dims k) (throw (ex-info (str "unknown dimension " (pr-str k) "; known: " (sort (keys dims))) {:dimension k}))))

(defn- as-q [x]
  (cond (quantity? x) x
        (number? x) (->Quantity (double x) (:dimensionless dims))
        :else (throw (ex-info (str "not a quantity or number: " (pr-str x)) {:value x}))))

(defn- simplify [^Quantity x]
  (if (= (:dim x) (:dimensionless dims)) (:value x) x))

(defn q+
  "Sum of quantities of one dimension."
  [x & more]
  (reduce (fn [a b]
            (let [a (as-q a) b (as-q b)]
              (when-not (= (:dim a) (:dim b))
                (throw (ex-info (str "cannot add " (dim-str (dimension a)) " " (pr-str a) " and "
                                     (dim-str (dimension b)) " " (pr-str b))
                                {:left a :right b})))
              (->Quantity (+ (:value a) (:value b)) (:dim a))))
          (as-q x) more))

(defn q-
  "Difference (or negation) of quantities of one dimension."
  ([x] (let [a (as-q x)] (->Quantity (- (:value a)) (:dim a))))
  ([x & more] (q+ x (apply q+ (map q- more)))))

(defn q*
  "Product: values multiply, dimensions add."
  [& xs]
  (simplify (reduce (fn [a b] (let [a (as-q a) b (as-q b)]
                                (->Quantity (* (:value a) (:value b)) (mapv + (:dim a) (:dim b)))))
                    (as-q 1) xs)))

(defn q-div
  "Quotient: values divide, dimensions subtract."
  [x & ys]
  (simplify (reduce (fn [a b] (let [a (as-q a) b (as-q b)]
                                (->Quantity (/ (:value a) (:value b)) (mapv - (:dim a) (:dim b)))))
                    (as-q x) ys)))

(defn- label
  "A parameter's name for messages: :exc/tau_m -> \"exc/tau_m\"."
  [p]
  (if (keyword? p) (subs (str p) 1) (str p)))

(defn check
  "Converts `x`, the value of `param`, to `unit` (chive's internal unit for it).
  A plain number is accepted only for dimensionless parameters. Throws ex-info
  naming the parameter, what was given and what is expected:

      (check :tau_m (ms 20) :ms)  ;=> 20.0
      (check :tau_m (mV 20) :ms)  ;; tau_m: expected a time (ms), got a voltage: 20.0 mV
      (check :tau_m 20 :ms)       ;; tau_m: expected a time (ms), got the plain number 20; write (ms 20)"
  ^double [param x unit]
  (let [[dim] (units unit)]
    (when (and (or (number? x) (quantity? x)) (not (Double/isFinite (internal x))))
      (throw (ex-info (str (label param) ": must be finite, got " (pr-str x)) {:param param :value x :unit unit})))
    (cond
      (and (number? x) (= dim :dimensionless)) (double x)
      (number? x)
      (throw (ex-info (str (label param) ": expected a " (name dim) " (" (name unit) "), got the plain number "
                           x "; write (" (name unit) " " x ")")
                      {:param param :given :dimensionless :expected dim :value x :unit unit}))
      (quantity? x)
      (if (= (:dim x) (dims dim))
        (in x unit)
        (throw (ex-info (str (label param) ": expected a " (name dim) " (" (name unit) "), got a "
                             (dim-str (dimension x)) ": " (pr-str x))
                        {:param param :given (dimension x) :expected dim :value x :unit unit})))
      :else
      (throw (ex-info (str (label param) ": expected a " (name dim) " (" (name unit) "), got " (pr-str x))
                      {:param param :expected dim :value x :unit unit})))))

(defn- fmt [^Quantity x]
  (let [dim (dimension x)
        u (preferred dim)]
    (if u
      (str (in x u) (when-not (= u :1) (str " " (name u))))
      (str (* (:value x) (internal-scale (:dim x))) " " (dim-str (:dim x)) " (SI)"))))

(defmethod print-method Quantity [x ^java.io.Writer w]
  (.write w (str "#chive/q \"" (fmt x) "\"")))

(defmacro ^:private defunits [& pairs]
  `(do ~@(for [[sym unit] (partition 2 pairs)]
           `(defn ~sym ~(str "The quantity `x` " (name unit) ".") [~'x] (q ~'x ~unit)))))

(defunits
  s :s, ms :ms, us :us, Hz :Hz, kHz :kHz, V :V, mV :mV, A :A, nA :nA, pA :pA,
  S :S, mS :mS, uS :uS, nS :nS, F :F, uF :uF, nF :nF, pF :pF,
  ohm :ohm, Mohm :Mohm, Gohm :Gohm, m2 :m2, cm2 :cm2, um2 :um2, mV-per-ms :mV-per-ms)

(defn check-dim
  "Converts `x`, the value of `param`, to internal units, checking that its
  dimension is `dim` (an exponent vector). Throws ex-info naming the parameter,
  the dimension given and the one expected."
  ^double [param x dim]
  (when (and (or (number? x) (quantity? x)) (not (Double/isFinite (internal x))))
    (throw (ex-info (str (label param) ": must be finite, got " (pr-str x)) {:param param :value x})))
  (cond
    (and (number? x) (= dim (:dimensionless dims))) (double x)
    (number? x)
    (throw (ex-info (str (label param) ": expected a " (dim-str dim) ", got the plain number " x)
                    {:param param :given :dimensionless :expected dim :value x}))
    (quantity? x)
    (if (= (:dim x) dim)
      (:value x)
      (throw (ex-info (str (label param) ": expected a " (dim-str dim) ", got a " (dim-str (:dim x)) ": " (pr-str x))
                      {:param param :given (:dim x) :expected dim :value x})))
    :else (throw (ex-info (str (label param) ": expected a " (dim-str dim) ", got " (pr-str x))
                          {:param param :expected dim :value x}))))

(defn from-internal
  "The quantity whose internal value is `v` and dimension `dim` (a plain number when dimensionless)."
  [v dim]
  (if (= dim (:dimensionless dims)) (double v) (->Quantity (double v) dim)))
