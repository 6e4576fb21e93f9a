(ns chive.impl.dsl
  "The compiler behind chive.model's defneuron and defsynapse: equations
  and expressions analysed for dimensions and linearity, then generated as
  Java source (one kernel class per model and precision, one rule class per
  synapse), which chive.impl.javac compiles in memory. chive.model is the
  public face; this namespace is its implementation."
  (:require [chive.units :as u]
            [clojure.set :as set]
            [clojure.string :as str]))

(set! *warn-on-reflection* true)

(def ^:private dimless [0 0 0 0 0 0 0])
(def ^:private time-dim (u/dim-of-name :time))

(defn- dim+ [a b] (mapv + a b))
(defn- dim- [a b] (mapv - a b))
(defn- dim* [a k] (mapv #(* % k) a))

(defn- jname [prefix sym] (str prefix (munge (name sym))))

(def ^:private ^:dynamic *float*
  "True while generating float arithmetic (synapse rules)."
  false)

(defn- lit [x]
  (let [d (double x)]
    (when-not (Double/isFinite d) (throw (ex-info (str "constant " x " is not finite") {:value x})))
    (if *float* (str "(" (float d) "f)") (str "(" d ")"))))

(defn- fcall
  "A call of a double-valued Math function, cast back in float mode."
  [f & args]
  (str (when *float* "(float) ") f "(" (str/join ", " args) ")"))

(defn- fail [ctx msg data]
  (throw (ex-info (str (:where ctx) ": " msg) (merge {:model (:model ctx)} data))))

(defn- free-symbols [form]
  (cond (symbol? form) #{form}
        (seq? form) (reduce set/union #{} (map free-symbols (rest form)))
        (vector? form) (reduce set/union #{} (map free-symbols form))
        :else #{}))

(defn- constant-form
  "A form with no model symbols, evaluated now (unit constants like (mV 140),
  or a var holding a quantity); nil when it is not a constant."
  [ctx form]
  (when (and (empty? (set/intersection (free-symbols form) (:names ctx)))
             (or (not (symbol? form)) (ns-resolve (:ns ctx) form)))
    (let [v (try (binding [*ns* (:ns ctx)] (eval form))
                 (catch Throwable e
                   (fail ctx (str "cannot evaluate " (pr-str form) ": " (ex-message e)) {:form form})))]
      (when (or (number? v) (u/quantity? v))
        {:dim (u/dim-vector v) :java (lit (u/internal v)) :deg 0}))))

(declare analyze)

(defn- same-dims [ctx op form args]
  (let [[a & more] args]
    (doseq [b more]
      (when-not (= (:dim a) (:dim b))
        (fail ctx (str "cannot " op " " (pr-str (:form a)) " [" (u/dim-str (:dim a)) "] and "
                       (pr-str (:form b)) " [" (u/dim-str (:dim b)) "] in " (pr-str form))
              {:form form :term (:form b) :dims [(:dim a) (:dim b)]})))
    (:dim a)))

(defn- need-dimless [ctx f form a]
  (when-not (= dimless (:dim a))
    (fail ctx (str f " needs a dimensionless argument, but " (pr-str (:form a)) " is a "
                   (u/dim-str (:dim a)) " in " (pr-str form))
          {:form form :term (:form a) :dims [(:dim a)]})))

(defn- deg-max [ds] (if (some #{:nl} ds) :nl (apply max 0 ds)))
(defn- deg-const-only [d] (if (= 0 d) 0 :nl))

(defn- analyze-call [ctx form]
  (let [[op & args] form
        sub (fn [] (mapv #(assoc (analyze ctx %) :form %) args))
        join (fn [xs sep] (str "(" (str/join sep (map :java xs)) ")"))
        fn1 (fn [java-fn] (let [[a :as xs] (sub)]
                            (when-not (= 1 (count xs)) (fail ctx (str op " takes one argument: " (pr-str form)) {:form form}))
                            (need-dimless ctx op form a)
                            {:dim dimless :java (fcall java-fn (:java a)) :deg (deg-const-only (:deg a))}))]
    (case op
      + (let [xs (sub)] {:dim (same-dims ctx "add" form xs) :java (join xs " + ") :deg (deg-max (map :deg xs))})
      - (let [xs (sub)]
          (if (= 1 (count xs))
            {:dim (:dim (first xs)) :java (str "(-" (:java (first xs)) ")") :deg (:deg (first xs))}
            {:dim (same-dims ctx "subtract" form xs) :java (join xs " - ") :deg (deg-max (map :deg xs))}))
      * (let [xs (sub)
              ds (map :deg xs)]
          {:dim (reduce dim+ dimless (map :dim xs)) :java (join xs " * ")
           :deg (if (some #{:nl} ds) :nl (let [s (reduce + ds)] (if (> s 1) :nl s)))})
      / (let [[a & bs :as xs] (sub)]
          (if (empty? bs)
            {:dim (dim* (:dim a) -1) :java (str "(" (lit 1) " / " (:java a) ")") :deg (deg-const-only (:deg a))}
            {:dim (reduce dim- (:dim a) (map :dim bs)) :java (join xs " / ")
             :deg (if (every? #(= 0 (:deg %)) bs) (:deg a) :nl)}))
      (pow **) (let [[x n] args
                     a (assoc (analyze ctx x) :form x)]
                 (when-not (number? n) (fail ctx (str "the exponent of pow must be a number: " (pr-str form)) {:form form}))
                 (let [d (dim* (:dim a) n)]
                   (when-not (every? #(== % (Math/rint %)) d)
                     (fail ctx (str "(pow " (pr-str x) " " n ") has a fractional dimension " d) {:form form}))
                   {:dim (mapv long d)
                    :java (if (== n 2) (str "(" (:java a) " * " (:java a) ")") (fcall "Math.pow" (:java a) (lit n)))
                    :deg (cond (= 0 (:deg a)) 0 (== n 1) (:deg a) :else :nl)}))
      sq (recur ctx (list 'pow (second form) 2))
      sqrt (let [[a] (sub)]
             (when-not (every? even? (:dim a))
               (fail ctx (str "sqrt of " (pr-str (:form a)) " [" (u/dim-str (:dim a)) "] has no whole dimension") {:form form}))
             {:dim (mapv #(quot % 2) (:dim a)) :java (fcall "Math.sqrt" (:java a)) :deg (deg-const-only (:deg a))})
      exp (fn1 "Math.exp")
      log (fn1 "Math.log")
      tanh (fn1 "Math.tanh")
      sin (fn1 "Math.sin")
      cos (fn1 "Math.cos")
      exprel (fn1 "chive.core.model.HodgkinHuxley.exprel")
      abs (let [[a] (sub)] {:dim (:dim a) :java (str "Math.abs(" (:java a) ")") :deg (deg-const-only (:deg a))})
      (min max) (let [xs (sub)
                      d (same-dims ctx (str "take the " op " of") form xs)]
                  {:dim d :deg (deg-const-only (deg-max (map :deg xs)))
                   :java (reduce (fn [acc x] (str "Math." op "(" acc ", " (:java x) ")")) (:java (first xs)) (rest xs))})
      clip (let [[x lo hi :as xs] (sub)]
             (when-not (= 3 (count xs)) (fail ctx (str "clip takes (clip x lo hi): " (pr-str form)) {:form form}))
             {:dim (same-dims ctx "clip" form xs) :deg (deg-const-only (deg-max (map :deg xs)))
              :java (str "Math.min(" (:java hi) ", Math.max(" (:java lo) ", " (:java x) "))")})
      (> < >= <= ==) (let [xs (sub)]
                       (same-dims ctx "compare" form xs)
                       (when-not (= 2 (count xs)) (fail ctx (str op " takes two arguments: " (pr-str form)) {:form form}))
                       {:dim :bool :java (str "(" (:java (first xs)) " " op " " (:java (second xs)) ")") :deg :nl})
      (and or) (let [xs (sub)]
                 (doseq [x xs] (when-not (= :bool (:dim x)) (fail ctx (str op " needs conditions, got " (pr-str (:form x))) {:form form})))
                 {:dim :bool :java (join xs (if (= op 'and) " && " " || ")) :deg :nl})
      not (let [[a] (sub)]
            (when-not (= :bool (:dim a)) (fail ctx (str "not needs a condition, got " (pr-str (:form a))) {:form form}))
            {:dim :bool :java (str "(!" (:java a) ")") :deg :nl})
      if (let [[c a b] (sub)]
           (when-not (= :bool (:dim c)) (fail ctx (str "if needs a condition, got " (pr-str (:form c))) {:form form}))
           {:dim (same-dims ctx "choose between" form [a b])
            :java (str "(" (:java c) " ? " (:java a) " : " (:java b) ")") :deg :nl})
      (or (constant-form ctx form)
          (fail ctx (str "unknown operation " (pr-str op) " in " (pr-str form)
                         "; use + - * / pow sq sqrt exp log exprel tanh sin cos abs min max clip if, comparisons, and/or/not, or unit constants like (mV 1)")
                {:form form})))))

(defn analyze
  "Dimension, Java code and degree in the state variables (0, 1, or :nl) of
  expression `form`. Throws ex-info naming the offending term."
  [ctx form]
  (cond
    (number? form) {:dim dimless :java (lit form) :deg 0}
    (symbol? form)
    (cond
      (contains? (:params ctx) form) {:dim (get-in ctx [:params form]) :java (jname "p_" form) :deg 0}
      (contains? (:state ctx) form) {:dim (get-in ctx [:state form]) :java (jname "s_" form)
                                     :deg (if (contains? (:varying ctx) form) 1 0)}
      (= 't form) {:dim time-dim :java "t" :deg :nl}
      (= 'dt form) {:dim time-dim :java "dt" :deg 0}
      :else (or (constant-form ctx form)
                (fail ctx (str "unknown symbol " form "; parameters " (sort (keys (:params ctx)))
                               ", state " (sort (keys (:state ctx))) ", t and dt")
                      {:symbol form})))
    (seq? form) (analyze-call ctx form)
    :else (fail ctx (str "cannot use " (pr-str form) " in an equation") {:form form})))

(defn- eval-value [ctx what form]
  (let [v (binding [*ns* (:ns ctx)] (eval form))]
    (when-not (or (number? v) (u/quantity? v))
      (fail ctx (str what " must be a quantity or a number, got " (pr-str v)) {:form form}))
    v))

(defn- ordered [m] (sort-by (comp name key) m))

(defn- expand-lets
  "`form` with every subexpression name of `lets` ({sym form}) replaced by its
  (expanded) form, so the analysis sees plain expressions."
  [lets form]
  (letfn [(ex [f depth]
            (when (> depth 64) (throw (ex-info (str "subexpressions under :let refer to each other in a cycle: " (pr-str f)) {})))
            (cond (and (symbol? f) (contains? lets f)) (ex (lets f) (inc depth))
                  (seq? f) (apply list (first f) (map #(ex % depth) (rest f)))
                  (vector? f) (mapv #(ex % depth) f)
                  :else f))]
    (ex form 0)))

(defn- sum-terms
  "The signed terms of a sum, as forms whose sum is `form`: (+ a (- b c)) ->
  [a (- b) (- c)]; products and quotients distribute over a sum they contain
  ((/ (+ a b) tau) -> [(/ a tau) (/ b tau)]), so that the affine terms of an
  equation are found inside them."
  [form]
  (if (seq? form)
    (let [[op & args] form
          sum? (fn [f] (and (seq? f) (#{'+ '-} (first f))))]
      (case op
        + (mapcat sum-terms args)
        - (if (= 1 (count args))
            (map (fn [t] (list '- t)) (sum-terms (first args)))
            (concat (sum-terms (first args)) (mapcat (fn [a] (map (fn [t] (list '- t)) (sum-terms a))) (rest args))))
        / (if (sum? (first args))
            (map (fn [t] (apply list '/ t (rest args))) (sum-terms (first args)))
            [form])
        * (let [sums (filter sum? args)]
            (if (= 1 (count sums))
              (let [s (first sums) others (remove #(identical? % s) args)]
                (map (fn [t] (apply list '* (concat others [t]))) (sum-terms s)))
              [form]))
        [form]))
    [form]))

(defn- split-exact
  "For :exact, an equation's right-hand side as {:linear form :rest form}:
  the terms affine in the state variables, integrated exactly, and the others
  (nonlinear or conditional), evaluated at the start of the step and held
  over it. Either may be nil."
  [ctx form]
  (let [affine? (fn [t] (not= :nl (:deg (analyze ctx t))))
        terms (sum-terms form)
        {lin true other false} (group-by affine? terms)
        sum (fn [ts] (when (seq ts) (if (= 1 (count ts)) (first ts) (apply list '+ ts))))]
    {:linear (sum lin) :rest (sum other)}))

(defn- linear-in
  "[A B] (forms, or 0) with `form` = A·x + B for state variable `x`, the other
  variables held: for :exponential-euler. Throws when `form` is not linear in x."
  [ctx x form]
  (let [has-x? (fn [f] (contains? (free-symbols f) x))
        plus (fn [fs] (let [fs (remove #{0} fs)] (case (count fs) 0 0 1 (first fs) (apply list '+ fs))))
        neg (fn [f] (if (= 0 f) 0 (list '- f)))
        times (fn [k f] (if (= 0 f) 0 (apply list '* (concat k [f]))))
        lin (fn lin [f]
              (cond
                (= f x) [1 0]
                (not (has-x? f)) [0 f]
                (seq? f)
                (let [[op & args] f]
                  (case op
                    + (let [ps (map lin args)] [(plus (map first ps)) (plus (map second ps))])
                    - (if (= 1 (count args))
                        (let [[a b] (lin (first args))] [(neg a) (neg b)])
                        (lin (apply list '+ (first args) (map #(list '- %) (rest args)))))
                    * (let [with-x (filter has-x? args)]
                        (if (= 1 (count with-x))
                          (let [k (remove #(identical? % (first with-x)) args)
                                [a b] (lin (first with-x))]
                            [(times k a) (times k b)])
                          (fail ctx (str "method :exponential-euler needs d" x "/dt linear in " x ", but " (pr-str f) " is not") {:form f})))
                    / (let [[num & dens] args]
                        (when (some has-x? dens)
                          (fail ctx (str "method :exponential-euler needs d" x "/dt linear in " x ", but " (pr-str f) " divides by it") {:form f}))
                        (let [[a b] (lin num)]
                          [(if (= 0 a) 0 (apply list '/ a dens)) (if (= 0 b) 0 (apply list '/ b dens))]))
                    (fail ctx (str "method :exponential-euler needs d" x "/dt linear in " x ", but " (pr-str f) " is not") {:form f})))
                :else (fail ctx (str "method :exponential-euler needs d" x "/dt linear in " x ", but " (pr-str f) " is not") {:form f})))]
    (lin form)))

(defn parse-spec
  "Checks a model map and returns its analysed form."
  [model-name spec ns-obj]
  (let [ctx0 {:model model-name :where (str "defneuron " model-name) :ns ns-obj}
        known #{:params :state :let :equations :threshold :reset :refractory :hold :init :method :cost :doc}
        _ (when-let [bad (seq (remove known (keys spec)))]
            (fail ctx0 (str "unknown keys " (vec bad) "; valid: " (sort known)) {:keys bad}))
        params (vec (for [[k f] (ordered (:params spec))] [(symbol (name k)) (eval-value ctx0 (str "parameter " (name k)) f)]))
        state (vec (for [[k f] (ordered (:state spec))] [(symbol (name k)) (eval-value ctx0 (str "initial " (name k)) f)]))
        lets (into {} (for [[k f] (:let spec)] [(symbol (name k)) f]))
        inline (fn [f] (expand-lets lets f))
        eqs (into {} (for [[k f] (:equations spec)] [(symbol (name k)) (inline f)]))
        state-syms (set (map first state))
        param-syms (set (map first params))
        _ (when (empty? state) (fail ctx0 "a model needs at least one state variable under :state" {}))
        _ (doseq [v (keys eqs)] (when-not (state-syms v)
                                  (fail ctx0 (str "equation for " v ", which is not under :state " (sort state-syms)) {:var v})))
        _ (when-let [clash (seq (set/intersection state-syms param-syms))]
            (fail ctx0 (str "names used both as parameters and state: " (vec clash)) {}))
        _ (doseq [k (concat state-syms param-syms (keys lets))]
            (when (#{'t 'dt} k) (fail ctx0 (str (name k) " is the clock (t) or the step (dt); name the variable otherwise") {:name k})))
        _ (when-let [clash (seq (set/intersection (set (keys lets)) (set/union state-syms param-syms)))]
            (fail ctx0 (str ":let names used as parameters or state: " (vec clash)) {}))
        method (:method spec :euler)
        _ (when-not (#{:euler :rk4 :exact :exponential-euler} method)
            (fail ctx0 (str "unknown :method " (pr-str method) "; valid: [:euler :exact :exponential-euler :rk4]") {:method method}))
        ctx (assoc ctx0
                   :params (into {} (map (fn [[s v]] [s (u/dim-vector v)]) params))
                   :state (into {} (map (fn [[s v]] [s (u/dim-vector v)]) state))
                   :varying (set (keys eqs))
                   :names (into (into (conj state-syms 't 'dt) param-syms) (keys lets)))
        _ (doseq [[k f] lets]
            (analyze (assoc ctx :where (str "defneuron " model-name ", :let " k " = " (pr-str f))) (inline f)))
        analysed (into {} (for [[v f] eqs]
                            (let [c (assoc ctx :where (str "defneuron " model-name ", equation d" v "/dt = " (pr-str f)))
                                  a (analyze c f)
                                  want (dim- (get-in ctx [:state v]) time-dim)]
                              (when-not (= want (:dim a))
                                (fail c (str "d" v "/dt must be a " (u/dim-str want) " (" (u/dim-str (get-in ctx [:state v]))
                                             " per time), but the right-hand side is a " (u/dim-str (:dim a)))
                                      {:var v :dims [want (:dim a)]}))
                              [v a])))
        thr (when-let [f (:threshold spec)]
              (let [a (analyze (assoc ctx :where (str "defneuron " model-name ", threshold " (pr-str f))) (inline f))]
                (when-not (= :bool (:dim a)) (fail ctx (str ":threshold must be a condition, got " (pr-str f)) {}))
                (assoc a :form f)))
        reset-pairs (let [r (:reset spec)] (if (map? r) (ordered r) r))
        assign (fn [what pairs]
                 (vec (for [[k f] pairs]
                        (let [v (symbol (name k))
                              c (assoc ctx :where (str "defneuron " model-name ", " what " " v " = " (pr-str f)))]
                          (when-not (state-syms v) (fail c (str what " of " v ", which is not a state variable") {:var v}))
                          (let [a (analyze c (inline f))]
                            (when-not (= (:dim a) (get-in ctx [:state v]))
                              (fail c (str v " is a " (u/dim-str (get-in ctx [:state v])) " but the " what " value is a " (u/dim-str (:dim a)))
                                    {:var v}))
                            [v a])))))
        resets (assign "reset" reset-pairs)
        inits (assign "init" (let [i (:init spec)] (if (map? i) (ordered i) i)))
        refr (when-let [f (:refractory spec)]
               (let [c (assoc ctx :where (str "defneuron " model-name ", refractory " (pr-str f)))
                     a (analyze c (inline f))]
                 (cond
                   (= :bool (:dim a)) (assoc a :kind :condition)
                   (= time-dim (:dim a))
                   (do (when (seq (set/intersection (free-symbols (inline f)) state-syms))
                         (fail c ":refractory as a time may use parameters only (or give a condition, such as (>= v v_th))" {}))
                       (assoc a :kind :time))
                   :else (fail c (str ":refractory must be a time or a condition, got a " (u/dim-str (:dim a))) {}))))
        hold (set (map (comp symbol name) (:hold spec)))
        _ (when-let [bad (seq (remove state-syms hold))] (fail ctx (str ":hold names unknown state " (vec bad)) {}))
        _ (when (and (seq hold) (not refr)) (fail ctx ":hold needs a :refractory period" {}))
        split (when (= method :exact)
                (let [c (assoc ctx :varying state-syms)]
                  (into {} (for [[v f] eqs] [v (split-exact c f)]))))
        expo (when (= method :exponential-euler)
               (into {} (for [[v f] eqs]
                          (let [c (assoc ctx :where (str "defneuron " model-name ", equation d" v "/dt = " (pr-str f)))
                                [a b] (linear-in c v f)
                                code (fn [g] (if (= 0 g) "0.0" (:java (analyze c g))))]
                            [v {:a (code a) :b (code b)}]))))]
    {:name model-name :params params :state state :equations analysed :forms eqs :split split :expo expo
     :threshold thr :reset resets :init inits
     :refractory refr :hold hold :method method :cost (double (:cost spec 10.0)) :doc (:doc spec)
     :ctx ctx}))

;; ---- Exact integration: the affine coefficients of each equation, symbolically

(defn affine-parts
  "For an expression affine in the state variables, {:coefs {state-sym java} :const java}:
  Java expressions over the parameters, so that rhs = Σ coefs·x + const exactly
  as the expression computes it (no numerical differencing)."
  [ctx form]
  (let [state? (fn [f] (boolean (some #(contains? (:state ctx) %) (free-symbols f))))
        const (fn [f] {:coefs {} :const (:java (analyze ctx f))})
        lin (fn lin [f]
              (cond
                (and (symbol? f) (contains? (:state ctx) f)) {:coefs {f "1.0"} :const "0.0"}
                (not (state? f)) (const f)
                (seq? f)
                (let [[op & args] f]
                  (case op
                    + (let [ps (map lin args)]
                        {:coefs (apply merge-with (fn [a b] (str "(" a " + " b ")")) (map :coefs ps))
                         :const (str "(" (str/join " + " (map :const ps)) ")")})
                    - (if (= 1 (count args))
                        (let [p (lin (first args))]
                          {:coefs (update-vals (:coefs p) #(str "(-" % ")")) :const (str "(-" (:const p) ")")})
                        (lin (cons '+ (cons (first args) (map #(list '- %) (rest args))))))
                    * (let [[vf & more] (filter state? args)
                            k (str "(" (str/join " * " (map #(:java (analyze ctx %)) (remove #{vf} args))) ")")
                            k (if (= "()" k) "1.0" k)
                            p (lin vf)]
                        {:coefs (update-vals (:coefs p) #(str "(" k " * " % ")")) :const (str "(" k " * " (:const p) ")")})
                    / (let [[num & dens] args
                            p (lin num)
                            d (str "(" (str/join " * " (map #(:java (analyze ctx %)) dens)) ")")]
                        {:coefs (update-vals (:coefs p) #(str "(" % " / " d ")")) :const (str "(" (:const p) " / " d ")")})
                    (const f)))
                :else (const f)))]
    (lin form)))

;; ---- Java code generation

(defn- deps-closure
  "For :exact: the state variables each equation's exact step depends on."
  [m]
  (let [direct (into {} (for [[v a] (:equations m)]
                          [v (set (filter (set (map first (:state m))) (free-symbols (get-in m [:forms v]))))]))]
    (into {} (for [v (keys direct)]
               [v (loop [acc (conj (direct v) v)]
                    (let [nxt (into acc (mapcat #(get direct % #{}) acc))]
                      (if (= nxt acc) acc (recur nxt))))]))))

(defn- kernel-context
  "What every part of a DSL kernel's source needs, from parsed model `m` over
  float[] state (dbl? false) or double[] state (true)."
  [m dbl?]
  (let [state (map first (:state m))
        sidx (into {} (map-indexed (fn [i s] [s i]) state))
        params (map first (:params m))
        eq-vars (sort-by name (keys (:equations m)))
        ty (if dbl? "double" "float")
        cast (if dbl? "" "(float) ")
        refr (:refractory m)
        refr? (some? refr)
        cond-refr? (= :condition (:kind refr))
        exact? (= :exact (:method m))
        remv (when exact? (filter #(get-in m [:split % :rest]) eq-vars))
        load-s? (or (not exact?) (seq remv) cond-refr?)
        load-all (fn [indent] (str/join (for [s state] (str indent "double " (jname "s_" s) " = " (jname "a_" s) "[i];\n"))))
        rhs (fn [v] (:java (get-in m [:equations v])))
        deps (when exact? (deps-closure m))
        coef (fn [v s] (str "m_" (munge (name v)) "__" (munge (name s))))
        phi (fn [v k] (str "q_" (munge (name v)) "__" (munge (name k))))
        ;; A row's affine constant that mentions no parameter, dt and no non-zero digit is 0.
        zero-const? (fn [v] (let [c (get-in m [:affine v :const])]
                              (and c (not (re-find #"p_|dt|[1-9]" c)))))
        thr-vars (filter (free-symbols (:form (:threshold m))) state)]
    {:m m :state state :sidx sidx :params params :eq-vars eq-vars :ty ty :cast cast :refr refr :refr? refr?
     :cond-refr? cond-refr? :exact? exact? :remv remv :load-s? load-s? :load-all load-all :rhs rhs :deps deps
     :coef coef :phi phi :zero-const? zero-const? :thr-vars thr-vars}))

(defn- gen-integration
  "The statements that compute n_v, each variable's value after the step, by the model's method."
  [{:keys [m state eq-vars ty cast remv rhs deps coef phi zero-const?]}]
  (case (:method m)
          :euler (str (str/join (for [v eq-vars] (str "      double d_" (munge (name v)) " = " (rhs v) ";\n")))
                      (str/join (for [v eq-vars] (str "      double n_" (munge (name v)) " = " (jname "s_" v) " + dt * d_" (munge (name v)) ";\n"))))
          :exponential-euler
          ;; Each variable relaxes exactly towards its steady state -B/A with rate A, the others held
          ;; at the start of the step (Brian2's exponential_euler).
          (str/join (for [v eq-vars :let [mv (munge (name v)) {:keys [a b]} (get-in m [:expo v])]]
                      (str "      double A_" mv " = " a ", B_" mv " = " b ";\n"
                           "      double n_" mv " = A_" mv " == 0.0 ? " (jname "s_" v) " + dt * B_" mv
                           " : (" (jname "s_" v) " + B_" mv " / A_" mv ") * Math.exp(A_" mv " * dt) - B_" mv " / A_" mv ";\n")))
          :rk4 (let [stage (fn [k subst]
                             (str/join
                              (for [v eq-vars]
                                (str "      double k" k "_" (munge (name v)) " = "
                                     (reduce (fn [code [s expr]] (str/replace code (re-pattern (str "\\b" (jname "s_" s) "\\b")) expr))
                                             (rhs v) subst) ";\n"))))
                     sub (fn [k frac] (into {} (for [v eq-vars] [v (str "(" (jname "s_" v) " + " frac " * k" k "_" (munge (name v)) ")")])))]
                 (str (stage 1 {})
                      (stage 2 (sub 1 "0.5 * dt"))
                      (stage 3 (sub 2 "0.5 * dt"))
                      (stage 4 (sub 3 "dt"))
                      (str/join (for [v eq-vars :let [mv (munge (name v))]]
                                  (str "      double n_" mv " = " (jname "s_" v) " + dt / 6.0 * (k1_" mv " + 2.0 * k2_" mv " + 2.0 * k3_" mv " + k4_" mv ");\n")))))
          :exact (str (str/join (for [k remv] (str "      double r_" (munge (name k)) " = " (get-in m [:rest-java k]) ";\n")))
                      (str/join (for [v eq-vars]
                                  (str "      " ty " n_" (munge (name v)) " = "
                                       (str/join " + " (concat (for [s state :when (contains? (deps v) s)]
                                                                 (str (coef v s) " * f_" (munge (name s))))
                                                               (when-not (zero-const? v) [(str "c_" (munge (name v)))])
                                                               (for [k remv :when (contains? (deps v) k)]
                                                                 (str cast "(" (phi v k) " * r_" (munge (name k)) ")"))))
                                       ";\n"))))))

(defn- gen-fields
  "Field declarations: state arrays, refractory counters, parameters, and the exact method's coefficients."
  [{:keys [state params eq-vars ty exact? remv deps coef phi]}]
  (str
     (str/join (for [s state] (str "  private final " ty "[] " (jname "a_" s) ";\n")))
     "  private final float[] ref;\n"
     (str/join (for [p params] (str "  private final double " (jname "p_" p) ";\n")))
     "  private final double dt;\n  private final float refSteps;\n  private long lastStep;\n"
     (when exact?
       (str (str/join (for [v eq-vars s state :when (contains? (deps v) s)] (str "  private final " ty " " (coef v s) ";\n")))
            (str/join (for [v eq-vars] (str "  private final " ty " c_" (munge (name v)) ";\n")))
            (str/join (for [v eq-vars k remv :when (contains? (deps v) k)] (str "  private final double " (phi v k) ";\n")))))))

(defn- gen-constructor
  "The constructor: binds the arrays and parameters, the refractory period, the exact method's matrices."
  [cls {:keys [m state sidx params eq-vars ty cast refr refr? cond-refr? exact? remv load-s? load-all rhs deps coef phi zero-const? thr-vars]}]
  (str
     "  public " cls "(" ty "[][] vars, float[] ref, double[] p, double dt) {\n"
     (str/join (map-indexed (fn [i s] (str "    " (jname "a_" s) " = vars[" i "];\n")) state))
     "    this.ref = ref;\n"
     (str/join (map-indexed (fn [i p] (str "    " (jname "p_" p) " = p[" i "];\n")) params))
     "    this.dt = dt;\n"
     (if (= :time (:kind refr))
       (str "    double r = " (:java refr) ";\n"
            "    if (!(r >= 0)) throw new chive.core.sim.ChiveException(\"model " (:name m) ": refractory period must be >= 0 ms, got \" + r);\n"
            "    refSteps = (float) Math.round(r / dt);\n")
       "    refSteps = 1f;\n")
     (when exact?
       (str "    int n = " (count state) ";\n"
            "    double[][] a = new double[n][n];\n    double[] b = new double[n];\n"
            (str/join (for [v eq-vars :let [parts (get-in m [:affine v])]]
                        (str (str/join (for [[s code] (:coefs parts)] (str "    a[" (sidx v) "][" (sidx s) "] = " code ";\n")))
                             "    b[" (sidx v) "] = " (:const parts) ";\n")))
            "    double[][] mc = chive.core.model.Affine.step(a, b, dt);\n"
            (str/join (for [v eq-vars s state :when (contains? (deps v) s)]
                        (str "    " (coef v s) " = " cast "mc[" (sidx v) "][" (sidx s) "];\n")))
            (str/join (for [v eq-vars] (str "    c_" (munge (name v)) " = " cast "mc[" (sidx v) "][n];\n")))
            ;; The held-over-the-step terms: x' = M x + c + Phi r with Phi = integral of exp(A s) ds over the step.
            (str/join (for [k remv]
                        (str "    { double[] e = new double[n]; e[" (sidx k) "] = 1.0;\n"
                             "      double[][] mk = chive.core.model.Affine.step(a, e, dt);\n"
                             (str/join (for [v eq-vars :when (contains? (deps v) k)]
                                         (str "      " (phi v k) " = mk[" (sidx v) "][n];\n")))
                             "    }\n")))))
     "  }\n"))

(defn- gen-update
  "update(): integrates neurons [from, to), then tests the threshold (not while refractory)."
  [{:keys [m state eq-vars ty cast refr refr? cond-refr? exact? load-s? load-all thr-vars]} update-body]
  (str
     "  public int update(int from, int to, long step, int[] spikes) {\n"
     "    lastStep = step;\n"
     "    final double t = step * dt;\n"
     "    for (int i = from; i < to; i++) {\n"
     (when exact?
       (str/join (for [s state] (str "      " ty " f_" (munge (name s)) " = " (jname "a_" s) "[i];\n"))))
     (when load-s? (load-all "      "))
     (when cond-refr? (str "      boolean rc = " (:java refr) ";\n"))
     update-body
     (when refr?
       (str (if cond-refr?
              "      float c = rc ? 1f : 0f;\n      ref[i] = c;\n"
              "      float c = Math.max(ref[i] - 1f, 0f);\n      ref[i] = c;\n")
            (str/join (for [v eq-vars :when (contains? (:hold m) v) :let [mv (munge (name v))]]
                        (if exact?
                          (str "      n_" mv " = n_" mv " + (f_" mv " - n_" mv ") * Math.min(c, 1f);\n")
                          (str "      n_" mv " = n_" mv " + (" (jname "s_" v) " - n_" mv ") * Math.min(c, 1f);\n"))))))
     (str/join (for [v eq-vars] (str "      " (jname "a_" v) "[i] = " (when-not exact? cast) "n_" (munge (name v)) ";\n")))
     "    }\n"
     "    int count = 0;\n"
     (when (:threshold m)
       (str "    for (int i = from; i < to; i++) {\n"
            (str/join (for [s thr-vars] (str "      double " (jname "s_" s) " = " (jname "a_" s) "[i];\n")))
            ;; The threshold first: it is rarely true, so the branch predicts well.
            "      if (" (:java (:threshold m)) (when refr? " && ref[i] == 0f") ") {\n        spikes[count++] = i;\n"
            (when refr? "        ref[i] = refSteps;\n")
            "      }\n    }\n"))
     "    return count;\n  }\n"))

(defn- gen-reset
  "reset(): the reset statements for this step's spikes."
  [{:keys [m cast load-all]}]
  (str
     "  public void reset(int[] spikes, int count) {\n"
     (when (seq (:reset m))
       (str "    final double t = lastStep * dt;\n"
            "    for (int k = 0; k < count; k++) {\n      int i = spikes[k];\n"
            (load-all "      ")
            (str/join (for [[v a] (:reset m)] (str "      " (jname "s_" v) " = " (:java a) ";\n")))
            (str/join (for [v (distinct (map first (:reset m)))] (str "      " (jname "a_" v) "[i] = " cast (jname "s_" v) ";\n")))
            "    }\n"))
     "  }\n"))

(defn- gen-initialise
  "initialise(): the :init expressions for the variables not given explicitly."
  [{:keys [m sidx cast load-all]}]
  (str
     "  public void initialise(int from, int to, boolean[] given) {\n"
     (when (seq (:init m))
       (str "    final double t = lastStep * dt;\n"
            "    for (int i = from; i < to; i++) {\n"
            (load-all "      ")
            (str/join (for [[v a] (:init m)]
                        (str "      if (!given[" (sidx v) "]) { " (jname "s_" v) " = " (:java a) "; "
                             (jname "a_" v) "[i] = " cast (jname "s_" v) "; }\n")))
            "    }\n"))
     "  }\n"))

(defn gen-source
  "Java source of the kernel class `cls` for parsed model `m`, over float[]
  state (dbl? false) or double[] state (true): named parts, in class order."
  [cls m dbl?]
  (let [g (kernel-context m dbl?)]
    (str "package chive.dsl;\n"
         "public final class " cls " implements chive.core.model.DslGroup.Kernel {\n"
         (gen-fields g)
         (gen-constructor cls g)
         (gen-update g (gen-integration g))
         (gen-reset g)
         (gen-initialise g)
         "}\n")))

(defn parse-synapse [model-name spec ns-obj]
  (let [ctx0 {:model model-name :where (str "defsynapse " model-name) :ns ns-obj}
        known #{:params :weight :pre :post :synapse :equations :on-pre :on-post :doc}
        _ (when-let [bad (seq (remove known (keys spec)))]
            (fail ctx0 (str "unknown keys " (vec bad) "; valid: " (sort known)) {:keys bad}))
        params (vec (for [[k f] (ordered (:params spec))] [(symbol (name k)) (eval-value ctx0 (str "parameter " (name k)) f)]))
        weight (eval-value ctx0 ":weight" (:weight spec 1.0))
        pre (vec (for [[k f] (ordered (:pre spec))] [(symbol (name k)) (eval-value ctx0 (str "pre " (name k)) f)]))
        post (vec (for [[k f] (ordered (:post spec))] [(symbol (name k)) (eval-value ctx0 (str "post " (name k)) f)]))
        syn (vec (for [[k f] (ordered (:synapse spec))] [(symbol (name k)) (eval-value ctx0 (str "synapse " (name k)) f)]))
        pre-syms (set (map first pre)) post-syms (set (map first post)) syn-syms (set (map first syn))
        dims (into {'w (u/dim-vector weight)} (map (fn [[s v]] [s (u/dim-vector v)]) (concat pre post syn)))
        _ (when-let [clash (seq (concat (set/intersection pre-syms post-syms) (set/intersection syn-syms (set/union pre-syms post-syms))
                                        (filter #{'w} (concat pre-syms post-syms syn-syms))))]
            (fail ctx0 (str "names used twice among w, pre, post and synapse state: " (vec (distinct clash))) {}))
        ctx (assoc ctx0 :params (into {} (map (fn [[s v]] [s (u/dim-vector v)]) params))
                   :state dims :varying (set (keys dims))
                   :names (into (set (keys dims)) (map first params)))
        eqs (into {} (for [[k f] (:equations spec)
                           :let [v (symbol (name k))
                                 c (assoc ctx :where (str "defsynapse " model-name ", equation d" v "/dt = " (pr-str f)))]]
                       (do (when-not (or (pre-syms v) (post-syms v))
                             (fail c (str v " is not pre or post state " (sort (concat pre-syms post-syms))
                                          (when (syn-syms v) " (per-synapse state changes only on spikes, in :on-pre and :on-post)"))
                                   {:var v}))
                           (when (seq (disj (set/intersection (free-symbols f) (set (keys dims))) v))
                             (fail c (str "d" v "/dt may depend only on " v " (traces decay independently)") {:var v}))
                           (let [a (analyze c f)
                                 want (dim- (dims v) time-dim)]
                             (when-not (= want (:dim a))
                               (fail c (str "d" v "/dt must be a " (u/dim-str want) " but the right-hand side is a " (u/dim-str (:dim a))) {:var v}))
                             (when (= :nl (:deg a)) (fail c (str "d" v "/dt must be linear in " v) {:var v}))
                             [v (affine-parts c f)]))))
        assigns (fn [k allowed reads]
                  (vec (for [[target f] (get spec k)
                             :let [v (symbol (name target))
                                   c (assoc ctx :where (str "defsynapse " model-name ", " (name k) " " v " = " (pr-str f)))]]
                         (do (when-not (allowed v)
                               (fail c (str (name k) " may assign " (sort allowed) ", not " v) {:var v}))
                             (when-let [bad (seq (set/difference (set/intersection (free-symbols f) (set (keys dims)))
                                                                 (reads v)))]
                               (fail c (str v " = ... may not read " (vec bad) " here") {:var v}))
                             (let [a (binding [*float* true] (analyze c f))]
                               (when-not (= (:dim a) (dims v))
                                 (fail c (str v " is a " (u/dim-str (dims v)) " but the value is a " (u/dim-str (:dim a))) {:var v}))
                               [v a])))))
        all (set (keys dims))
        per-synapse (conj syn-syms 'w)
        on-pre (assigns :on-pre (into pre-syms per-synapse) #(if (per-synapse %) all pre-syms))
        on-post (assigns :on-post (into post-syms per-synapse) #(if (per-synapse %) all post-syms))]
    {:name model-name :params params :weight weight :pre pre :post post :synapse syn :equations eqs
     :on-pre on-pre :on-post on-post :doc (:doc spec)}))

(defn- synapse-context
  "What every part of a defsynapse rule's source needs, from parsed rule `m`."
  [m]
  (let [pre (map first (:pre m)) post (map first (:post m)) syn (map first (:synapse m))
        params (map first (:params m))
        mv #(munge (name %))
        arr #(str "v_" (mv %))
        per-synapse? (fn [[v]] (or (= 'w v) (some #{v} syn)))
        w-pre (filter per-synapse? (:on-pre m)) var-pre (remove per-synapse? (:on-pre m))
        w-post (filter per-synapse? (:on-post m)) var-post (remove per-synapse? (:on-post m))
        ;; Per-synapse state: read into locals with w, written back after the assignments.
        syn-in (str/join (for [v syn] (str "          float " (jname "s_" v) " = " (arr v) "[s];\n")))
        syn-out (str/join (for [v syn] (str "          " (arr v) "[s] = " (jname "s_" v) ";\n")))
        zero? (fn [code] (not (re-find #"p_|[1-9]" code)))
        decay (fn [v idx]
                (when-let [parts (get-in m [:equations v])]
                  (str "      " (arr v) "[" idx "] = m_" (mv v) " * " (arr v) "[" idx "]"
                       (when-not (zero? (:const parts)) (str " + c_" (mv v))) ";\n")))
        ;; The built-in rules' subnormal flush (chive.core.model.FastMath), same steps, same bits.
        flush (fn [vars from to]
                (when-let [vs (seq (filter #(get-in m [:equations %]) vars))]
                  (str "    if (step % chive.core.model.FastMath.FLUSH_EVERY == 0) {\n"
                       (str/join (for [v vs] (str "      chive.core.model.FastMath.flushSubnormal(" (arr v) ", " from ", " to ");\n")))
                       "    }\n")))
        locals (fn [vars idx] (str/join (for [v vars] (str "          float " (jname "s_" v) " = " (arr v) "[" idx "];\n"))))
        apply-assigns (fn [as] (str/join (for [[v a] as] (str "          " (jname "s_" v) " = " (:java a) ";\n"))))
        ;; On-spike assignments to one side's neuron state, for this step's spikes of partition `part`.
        spike-assigns (fn [group sp idx vars as]
                        (when (seq as)
                          (str "    int[] " sp " = " group ".partitionSpikes(part);\n"
                               "    for (int k = 0, c = " group ".partitionSpikeCount(part); k < c; k++) {\n        int " idx " = " sp "[k];\n"
                               (locals vars idx) (apply-assigns as)
                               (str/join (for [[v] as] (str "          " (arr v) "[" idx "] = " (jname "s_" v) ";\n")))
                               "    }\n")))]
    {:m m :pre pre :post post :syn syn :params params :mv mv :arr arr :per-synapse? per-synapse? :w-pre w-pre :var-pre var-pre :w-post w-post :var-post var-post :syn-in syn-in :syn-out syn-out :zero? zero? :decay decay :flush flush :locals locals :apply-assigns apply-assigns :spike-assigns spike-assigns}))

(defn- gen-synapse-members
  "Fields, the constructor (parameters), the learning switch, trace access and Stateful (config, arrays, restore)."
  [cls {:keys [m pre post syn params mv arr per-synapse? w-pre var-pre w-post var-post syn-in syn-out zero? decay flush locals apply-assigns spike-assigns]}]
  (str
     (str/join (for [p params] (str "  private final float " (jname "p_" p) ";\n  private final double d_" (mv p) ";\n")))
     "  private volatile boolean learning = true;\n  private Projection proj;\n"
     "  private int[] colPtr, colSyn, preOfSyn;\n"
     (str/join (for [v (concat pre post syn)] (str "  private float[] " (arr v) ";\n")))
     (str/join (for [v (keys (:equations m))] (str "  private float m_" (mv v) ", c_" (mv v) ";\n")))
     "  public " cls "(double[] p) {\n"
     (str/join (map-indexed (fn [i p] (str "    " (jname "p_" p) " = (float) p[" i "];\n    d_" (mv p) " = p[" i "];\n")) params))
     "  }\n"
     "  public boolean learning() { return learning; }\n"
     "  public void setLearning(boolean on) { learning = on; }\n"
     "  public float[] trace(String name) {\n"
     (str/join (for [v (concat pre post syn)] (str "    if (name.equals(\"" (name v) "\")) return " (arr v) ";\n")))
     "    throw new ChiveException(\"rule " (:name m) " has no trace '\" + name + \"'\");\n  }\n"
     ;; Stateful: parameters and the learning switch as config; traces and per-synapse state as arrays.
     "  public java.util.Map<String, Object> config() {\n"
     "    java.util.Map<String, Object> ps = new java.util.LinkedHashMap<>();\n"
     (str/join (for [p params] (str "    ps.put(\"" (name p) "\", d_" (mv p) ");\n")))
     "    return State.map(\"params\", ps, \"learning\", learning);\n  }\n"
     "  public java.util.Map<String, Object> arrays() {\n    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();\n"
     (str/join (for [v (concat pre post syn)] (str "    m.put(\"" (name v) "\", " (arr v) " == null ? new float[0] : " (arr v) ");\n")))
     "    return m;\n  }\n"
     "  public void restore(java.util.Map<String, Object> saved) {\n"
     "    if (proj != null) proj.checkIdle(\"restore the learning rule of \" + proj);\n"
     "    State.restoreLive(\"rule " (:name m) "\" + (proj == null ? \"\" : \" of \" + proj), arrays(), saved);\n  }\n"))

(defn- gen-synapse-attach
  "attach() allocates traces and per-synapse state; bind() computes the exact decay of each trace for dt."
  [{:keys [m pre post mv arr]}]
  (str
     "  public void attach(Projection p) {\n"
     "    if (proj != null && proj != p) throw new ChiveException(\"a " (:name m) " rule belongs to one projection; make another for \" + p);\n"
     "    proj = p;\n"
     (str/join (for [[v init] (:pre m)] (str "    " (arr v) " = new float[p.pre().size()];\n    java.util.Arrays.fill(" (arr v) ", " (float (u/internal init)) "f);\n")))
     (str/join (for [[v init] (:post m)] (str "    " (arr v) " = new float[p.post().size()];\n    java.util.Arrays.fill(" (arr v) ", " (float (u/internal init)) "f);\n")))
     (str/join (for [[v init] (:synapse m)] (str "    " (arr v) " = new float[p.size()];\n    java.util.Arrays.fill(" (arr v) ", " (float (u/internal init)) "f);\n")))
     "    int[][] pi = p.connectivity().postIndex();\n    colPtr = pi[0];\n    colSyn = pi[1];\n    preOfSyn = p.connectivity().pre();\n  }\n"
     "  public void bind(double dt) {\n"
     (binding [*float* false]
       (str/join (for [[v parts] (:equations m)]
                   (str "    {\n      double[][] mc = chive.core.model.Affine.step(new double[][] {{"
                        (str/replace (get-in parts [:coefs v] "0.0") #"\bp_" "d_") "}}, new double[] {"
                        (str/replace (:const parts) #"\bp_" "d_") "}, dt);\n"
                        "      m_" (mv v) " = (float) mc[0][0];\n      c_" (mv v) " = (float) mc[0][1];\n    }\n"))))
     "  }\n"))

(defn- gen-synapse-pre-step
  "preStep(): pre traces decay, then the pre side's :on-pre assignments for this step's pre spikes."
  [{:keys [pre var-pre decay flush spike-assigns]}]
  (str
     "  public void preStep(long step, int part) {\n"
     "    NeuronGroup pre = proj.pre();\n"
     "    for (int i = pre.partitionFrom(part), to = pre.partitionTo(part); i < to; i++) {\n"
     (str/join (keep #(decay % "i") pre))
     "    }\n"
     (flush pre "pre.partitionFrom(part)" "pre.partitionTo(part)")
     (spike-assigns "pre" "sp" "i" pre var-pre)
     "  }\n"))

(defn- gen-synapse-post-step
  "postStep(): post traces decay; weight and per-synapse :on-pre / :on-post assignments; the post side's :on-post."
  [{:keys [pre post w-pre w-post var-post syn-in syn-out decay flush locals apply-assigns spike-assigns]}]
  (str
     "  public void postStep(long step, int part) {\n"
     "    NeuronGroup post = proj.post(), pre = proj.pre();\n"
     "    final int from = post.partitionFrom(part), to = post.partitionTo(part);\n"
     "    final float[] w = proj.weights();\n"
     "    for (int j = from; j < to; j++) {\n"
     (str/join (keep #(decay % "j") post))
     "    }\n"
     (flush post "from" "to")
     "    if (learning) {\n"
     (when (seq w-pre)
       (str "      final int[] rowPtr = proj.rowPtr(), col = proj.postIndex();\n"
            "      for (int q = 0, parts = pre.partitions(); q < parts; q++) {\n"
            "        int[] sp = pre.partitionSpikes(q);\n"
            "        for (int k = 0, c = pre.partitionSpikeCount(q); k < c; k++) {\n"
            "          int i = sp[k];\n"
            (locals pre "i")
            "          int a = rowPtr[i], b = rowPtr[i + 1], lo = a, hi = b;\n"
            "          while (lo < hi) { int mid = (lo + hi) >>> 1; if (col[mid] < from) lo = mid + 1; else hi = mid; }\n"
            "          for (int s = lo; s < b; s++) {\n            int j = col[s];\n            if (j >= to) break;\n"
            "          float s_w = w[s];\n" syn-in (locals post "j") (apply-assigns w-pre) "          w[s] = s_w;\n" syn-out
            "          }\n        }\n      }\n"))
     (when (seq w-post)
       (str "      int[] ps = post.partitionSpikes(part);\n"
            "      for (int k = 0, c = post.partitionSpikeCount(part); k < c; k++) {\n"
            "        int j = ps[k];\n" (locals post "j")
            "        for (int t = colPtr[j], e = colPtr[j + 1]; t < e; t++) {\n"
            "          int s = colSyn[t];\n          int i = preOfSyn[s];\n          float s_w = w[s];\n" syn-in
            (locals pre "i") (apply-assigns w-post) "          w[s] = s_w;\n" syn-out
            "        }\n      }\n"))
     "    }\n"
     (spike-assigns "post" "ps2" "j" post var-post)
     "  }\n"))

(defn- gen-synapse-bytes
  "bytes(): what the rule holds."
  [{:keys [pre post syn arr]}]
  (str
     "  public long bytes() {\n    long b = 4L * (colPtr == null ? 0 : colPtr.length + colSyn.length + preOfSyn.length);\n"
     (str/join (for [v (concat pre post syn)] (str "    if (" (arr v) " != null) b += 4L * " (arr v) ".length;\n")))
     "    return b;\n  }\n"))

(defn gen-synapse-source
  "Java source of the learning rule class `cls` for parsed rule `m`: named parts, in class order."
  [cls m]
  (let [g (synapse-context m)]
    (str "package chive.dsl;\n"
         "import chive.core.sim.*;\n"
         "public final class " cls " implements chive.core.plasticity.LearningRule {\n"
         (gen-synapse-members cls g)
         (gen-synapse-attach g)
         (gen-synapse-pre-step g)
         (gen-synapse-post-step g)
         (gen-synapse-bytes g)
         "}\n")))

