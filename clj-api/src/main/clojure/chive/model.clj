(ns chive.model
  "Neuron models as equations in s-expressions, unit-checked when the macro
  expands and compiled to JVM code over chive's struct-of-arrays layout.

      (require '[chive.model :refer [defneuron]] '[chive.units :refer [ms mV]])

      (defneuron lif
        \"Leaky integrate-and-fire with exponential current synapses.\"
        {:params    {:tau_m (ms 20) :tau_e (ms 5) :v_rest (mV -49) :v_th (mV -50)
                     :v_reset (mV -60) :t_ref (ms 5)}
         :state     {:v (mV -60) :ge (mV 0)}
         :equations {:v  (/ (+ (- v_rest v) ge) tau_m)     ; dv/dt
                     :ge (- (/ ge tau_e))}                ; dge/dt
         :threshold (> v v_th)
         :reset     [[:v v_reset]]
         :refractory t_ref
         :hold      #{:v}                                  ; v held while refractory
         :method    :exact})

      ;; then, in a network map: {:groups {:exc {:model lif :n 400}}}

  A model map:
  - :params     {name default}: quantities (or plain numbers for dimensionless ones),
                shared by every neuron of a group
  - :state      {name initial}: state variables; those without an equation are
                per-neuron constants (inputs such as an injected current, or
                per-neuron parameters)
  - :let        {name expr}: named subexpressions (Brian2's \"alpha_m = ... : Hz\"),
                usable in every expression below
  - :equations  {var rhs}: dvar/dt = rhs, whose dimension must be var's per time
  - :threshold  a condition; :reset [[var expr] ...] applied in order; both may
                use any state, parameter, t and dt
  - :refractory a time (an expression of parameters): R = round(t_ref/dt)
                steps after a spike the neuron may not spike; or a condition
                (Brian2's refractory='v > -40*mV'): refractory while it holds,
                evaluated on the state at the start of each step
  - :hold       the variables that do not integrate while refractory, and whose
                every write (synaptic or Poisson input) is discarded meanwhile
                (Brian2's \"(unless refractory)\")
  - :init       [[var expr] ...] or {var expr}: initial values computed when a
                group is built, in order, after the network map's :init (which
                takes precedence for the variables it names); e.g. HH gates at
                their steady state for the initial v
  - :method     :euler (default), :rk4, :exponential-euler (each variable
                relaxes exactly towards its steady state with the others held
                at the start of the step; every equation must be linear in its
                own variable, as for Brian2's exponential_euler), or :exact:
                the terms of each right-hand side that are affine in the state
                variables integrate exactly (exp(dt·A), computed from the
                parameters); any other terms (nonlinear or conditional: if,
                min, max, clip, comparisons) are evaluated at the start of the
                step and held over it (x' = exp(dt A) x + Phi (b + r(x)), Phi =
                integral of exp(s A) over the step); with no such term the
                step is the exact solution
  - :cost       rough ns per neuron-step, for choosing threads (default 10)

  Expressions: numbers; parameter, state, :let names, t (the time at the start
  of the step) and dt symbols; unit constants such as (mV 140); + - * /
  (pow x n) (sq x) (sqrt x) (exp x) (log x) (exprel x) (tanh x) (sin x)
  (cos x) (abs x) (min a b) (max a b) (clip x lo hi) (if c a b) and the
  comparisons with and/or/not. A dimension mismatch stops the macro with a
  message that shows the equation, the offending term and both dimensions.

  Precision: groups store state in float32 by default; a group built with
  :precision :double uses a double-precision kernel of the same model
  (compiled on first use).

  Inside, values are in chive's coherent internal units (see chive.units)."
  (:require [chive.impl.dsl :as dsl :refer [parse-spec affine-parts analyze gen-source parse-synapse gen-synapse-source]]
            [chive.impl.javac :as javac]
            [chive.units :as u]
            [clojure.string :as str])
  (:import (chive.core.model DslGroup DslGroup$KernelFactory)))

(set! *warn-on-reflection* true)

(defrecord NeuronModel [name doc params state param-dims state-dims ^Class kernel-class double-class cost source])

(defn- factory ^DslGroup$KernelFactory [^Class cls double-class]
  (let [ctor (.getConstructor cls (into-array Class [(Class/forName "[[F") (Class/forName "[F") (Class/forName "[D") Double/TYPE]))
        dctor (delay (.getConstructor ^Class @double-class (into-array Class [(Class/forName "[[D") (Class/forName "[F") (Class/forName "[D") Double/TYPE])))
        make (fn [^java.lang.reflect.Constructor c args]
               (try (.newInstance c (object-array args))
                    (catch java.lang.reflect.InvocationTargetException e (throw (.getCause e)))))]
    (reify DslGroup$KernelFactory
      (make [_ vars refractory params dt] (make ctor [vars refractory params dt]))
      (makeDouble [_ vars refractory params dt] (make @dctor [vars refractory params dt])))))

(defn- compile-kernel
  "Compiles the kernel class of parsed model `m` in single (dbl? false) or double precision."
  ^Class [m dbl?]
  (let [cls (str "M_" (munge (name (:name m))) (if dbl? "_d_" "_f_") (Integer/toHexString (hash (:spec-hash m))) "_" (System/nanoTime))]
    (javac/compile-class (str "chive.dsl." cls) (gen-source cls m dbl?))))

(defn neuron-model
  "Compiles a model map (see the namespace doc) into a NeuronModel value;
  `defneuron` calls this at macro-expansion time for its checks and at load
  time for the code. `ns-obj` resolves unit functions in the expressions.
  The single-precision kernel is compiled now, the double-precision one
  when a group first asks for :precision :double."
  [model-name spec ns-obj]
  (let [m (parse-spec model-name spec ns-obj)
        m (assoc m :spec-hash [model-name spec])
        m (if (= :exact (:method m))
            (let [ctx (assoc (:ctx m) :where (str "defneuron " model-name))]
              (assoc m
                     :affine (into {} (for [[v {:keys [linear]}] (:split m)]
                                        [v (if linear (affine-parts ctx linear) {:coefs {} :const "0.0"})]))
                     :rest-java (into {} (for [[v {:keys [rest]}] (:split m) :when rest]
                                           [v (:java (analyze ctx rest))]))))
            m)
        klass (compile-kernel m false)
        double-class (delay (compile-kernel m true))]
    (map->NeuronModel
     {:name (str model-name) :doc (:doc spec)
      :params (mapv (fn [[s v]] [(keyword s) v]) (:params m))
      :state (mapv (fn [[s v]] [(keyword s) v]) (:state m))
      :param-dims (into {} (map (fn [[s v]] [(keyword s) (u/dim-vector v)]) (:params m)))
      :state-dims (into {} (map (fn [[s v]] [(keyword s) (u/dim-vector v)]) (:state m)))
      :hold (vec (sort (map name (:hold m))))
      :init-vars (vec (map (comp keyword first) (:init m)))
      :kernel-class klass :double-class double-class :cost (:cost m)
      :source (gen-source "Kernel" m false)})))

(defn model?
  "True for a model made by `defneuron` / `neuron-model`."
  [x] (instance? NeuronModel x))

(defn group
  "A DslGroup of `n` neurons of `model`, named `group-name` (for chive.net);
  state in double precision when `precision` is :double."
  (^DslGroup [model group-name n] (group model group-name n :single))
  (^DslGroup [^NeuronModel model group-name n precision]
   (DslGroup. (str group-name) (int n) (:name model)
              (into-array String (map (comp name first) (:state model)))
              (double-array (map (comp u/internal second) (:state model)))
              (into-array String (map (comp name first) (:params model)))
              (double-array (map (comp u/internal second) (:params model)))
              (into-array String (map name (:hold model)))
              (factory (:kernel-class model) (:double-class model))
              (double (:cost model))
              (= precision :double))))

(defmacro defneuron
  "Defines `name` as a neuron model compiled from the equations of `spec` (see
  the namespace doc). Units and dimensions are checked while the macro
  expands: a mismatch is a compile error naming the equation, the term and
  both dimensions."
  [name & args]
  (let [[doc spec] (if (string? (first args)) [(first args) (second args)] [nil (first args)])]
    ;; Check now, at macro-expansion time, so errors stop compilation.
    (parse-spec name spec *ns*)
    `(def ~name ~@(when doc [doc])
       (assoc (neuron-model '~name '~(cond-> spec doc (assoc :doc doc)) (the-ns '~(ns-name *ns*)))
              ;; How a saved network finds this model again (chive.io/load).
              :var-name '~(symbol (str (ns-name *ns*)) (str name))))))

;; ---- Synapses: learning rules in the DSL

(defrecord SynapseModel [name doc params weight-dim ^Class rule-class source var-name])

(defn synapse-model
  "Compiles a synapse (learning rule) map into a SynapseModel; see `defsynapse`."
  [model-name spec ns-obj]
  (let [m (parse-synapse model-name spec ns-obj)
        cls (str "S_" (munge (name model-name)) "_" (Integer/toHexString (hash [model-name spec])) "_" (System/nanoTime))
        src (gen-synapse-source cls m)]
    (map->SynapseModel {:name (str model-name) :doc (:doc spec)
                        :params (mapv (fn [[s v]] [(keyword s) v]) (:params m))
                        :weight-dim (u/dim-vector (:weight m))
                        :rule-class (javac/compile-class (str "chive.dsl." cls) src)
                        :source src})))

(defn synapse-model?
  "True for a model made by `defsynapse`."
  [x] (instance? SynapseModel x))

(defn synapse-rule
  "A fresh learning rule of `model` with parameter `overrides` ({name quantity}),
  ready for Projection.setPlasticity."
  ^chive.core.plasticity.LearningRule [^SynapseModel model overrides]
  (let [known (set (map first (:params model)))]
    (doseq [k (keys overrides)]
      (when-not (known (keyword (name k)))
        (throw (ex-info (str "synapse " (:name model) " has no parameter " k "; valid: " (sort known)) {:param k})))))
  (let [vals (for [[k default] (:params model)
                   :let [v (get overrides k default)]]
               (u/check-dim (keyword (:name model) (name k)) v (u/dim-vector default)))
        ctor (.getConstructor ^Class (:rule-class model) (into-array Class [(Class/forName "[D")]))]
    (.newInstance ctor (object-array [(double-array vals)]))))

(defn rule-from-config
  "A learning rule of `model` rebuilt from its saved config (Stateful's
  {\"params\" {name value-in-internal-units} \"learning\" bool}); for chive.io."
  ^chive.core.plasticity.LearningRule [^SynapseModel model config]
  (let [ps (get config "params")
        names (map (comp name first) (:params model))]
    (when-not (and (map? ps) (= (set names) (set (keys ps))) (every? number? (vals ps)))
      (throw (ex-info (str "synapse " (:name model) ": the saved parameters " (pr-str ps) " are not its parameters "
                           (vec names) " as numbers") {:params ps})))
    (when-not (boolean? (get config "learning"))
      (throw (ex-info (str "synapse " (:name model) ": the saved \"learning\" must be true or false, got "
                           (pr-str (get config "learning"))) {})))
    (let [ctor (.getConstructor ^Class (:rule-class model) (into-array Class [(Class/forName "[D")]))
          ^chive.core.plasticity.LearningRule rule (.newInstance ctor (object-array [(double-array (map #(double (get ps %)) names))]))]
      (.setLearning rule (boolean (get config "learning")))
      rule)))

(defmacro defsynapse
  "Defines `name` as a synaptic learning rule compiled from `spec`:
  - :params   {name default}
  - :weight   a quantity giving the weight's dimension (default 1.0: dimensionless);
              checked against the target variable when the rule is attached
  - :pre, :post  per-neuron state on either side (traces), with initial values
  - :synapse  per-synapse state with initial values ({:e 0.0}); it changes only
              on spikes (assign it in :on-pre / :on-post, where w can read it),
              and is saved with the network (chive.io)
  - :equations   {trace rhs}: each linear in its own variable, integrated exactly
  - :on-pre   [[var expr] ...]: on a pre spike; pre state first (in phase A),
              then weight (and :synapse state) assignments per synapse (seeing post state before this
              step's post spikes)
  - :on-post  [[var expr] ...]: on a post spike; weight assignments first, then
              post state
  Expressions read w (the synapse's weight), pre and post state and parameters;
  `clip` bounds a value. Float arithmetic, as the built-in rules use.

      (defsynapse pair-stdp
        {:params {:tau_pre (ms 20) :tau_post (ms 20) :a_plus 0.01 :a_minus 0.0105 :w_max 1.0}
         :pre {:x 0.0} :post {:y 0.0}
         :equations {:x (- (/ x tau_pre)) :y (- (/ y tau_post))}
         :on-pre [[:x (+ x 1)] [:w (clip (- w (* a_minus y)) 0 w_max)]]
         :on-post [[:w (clip (+ w (* a_plus x)) 0 w_max)] [:y (+ y 1)]]})

  In a network map: {:plasticity pair-stdp} or {:plasticity {:model pair-stdp :params {...}}}."
  [name & args]
  (let [[doc spec] (if (string? (first args)) [(first args) (second args)] [nil (first args)])]
    (parse-synapse name spec *ns*)
    `(def ~name ~@(when doc [doc])
       (assoc (synapse-model '~name '~(cond-> spec doc (assoc :doc doc)) (the-ns '~(ns-name *ns*)))
              :var-name '~(symbol (str (ns-name *ns*)) (str name))))))
