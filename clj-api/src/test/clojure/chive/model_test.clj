(ns chive.model-test
  "The DSL against built-in models, analytic solutions, and its own errors."
  (:require [clojure.test :refer [deftest is testing]]
            [chive.model :as model :refer [defneuron]]
            [chive.models :as models]
            [chive.net :as net]
            [chive.units :refer [ms mV nA Mohm Hz]])
  (:import (chive.core.sim Network SpikeMonitor StateMonitor)
           (chive.core.model Izhikevich)))

;; The catalogue's models, written with defneuron (chive.models).
(def izhikevich-dsl models/izhikevich)

(deftest dsl-izhikevich-equals-the-built-in-bit-for-bit
  (doseq [[cell a d c] [["rs" 0.02 8.0 -65] ["fs" 0.1 2.0 -65] ["ch" 0.02 2.0 -50] ["ib" 0.02 4.0 -55]]]
    (let [run (fn [g]
                (let [net (Network. 0.1 1)
                      grp (.add net g)
                      m (.add net (SpikeMonitor. grp))]
                  (.setParam grp "a" a) (.setParam grp "d" d) (.setParam grp "c" (double c))
                  (aset-float (.var grp "v") 0 -65.0) (aset-float (.var grp "u") 0 (float (* 0.2 -65)))
                  (aset-float (.var grp "i_ext") 0 10.0)
                  (.run net 500.0 1 nil)
                  [(vec (.steps m)) (vec (.var grp "v")) (vec (.var grp "u"))]))
          builtin (run (Izhikevich. cell 1))
          dsl (run (model/group izhikevich-dsl cell 1))]
      (is (< 5 (count (first builtin))) (str cell " fires"))
      (is (= builtin dsl) (str cell ": spikes and final state identical")))))

(def lif-dsl models/lif)

(defn- driven-spec [model]
  {:dt (ms 0.1) :seed 11
   :groups {:in {:model :poisson :n 200 :rate (Hz 80)}
            :cells {:model model :n 300
                    :params {:v_rest (mV -65) :v_th (mV -50) :v_reset (mV -60) :t_ref (ms 3)}
                    :init {:v [:uniform (mV -65) (mV -55)]}}}
   :projections {:in->cells {:from :in :to :cells :target :ge :connect {:rule :fixed-probability :p 0.1}
                             :weight [:uniform (mV 1) (mV 5)]}}
   :monitors {:spikes {:type :spikes :group :cells}}})

(deftest dsl-lif-equals-the-built-in
  (let [run (fn [m] (let [n (net/build (driven-spec m))]
                      (net/run! n (ms 1000) :threads 2)
                      [(vec (:indices (net/spikes n :spikes))) (vec (:times-ms (net/spikes n :spikes)))]))
        builtin (run :lif)
        dsl (run lif-dsl)]
    (is (< 1000 (count (first builtin))) "the cells fire")
    (is (= builtin dsl) "same spikes, same seed")))

(deftest exact-integration-matches-the-analytic-solution-at-a-large-dt
  (let [n (net/build {:dt (ms 1.0)
                      :groups {:c {:model lif-dsl :n 1 :params {:v_rest (mV -70) :v_th (mV 0)}
                                   :init {:v (mV -60) :ge (mV 4)}}}
                      :monitors {:v {:type :state :group :c :var :v}}})]
    (net/run! n (ms 30))
    (let [{:keys [^doubles times-ms values]} (net/trace n :v)
          a (/ (* 4 5.0) (- 5.0 20.0))]
      (doseq [k (range (alength times-ms))
              :let [t (aget times-ms k)
                    exact (+ -70 (* (- 10 a) (Math/exp (/ (- t) 20))) (* a (Math/exp (/ (- t) 5))))]]
        (is (< (Math/abs (- exact (aget ^floats (nth values k) 0))) 1e-4) (str "t = " t))))))

(defneuron qif
  "Quadratic integrate-and-fire: tau dv/dt = v²/v_s + I (v relative to rest)."
  {:params {:tau (ms 10) :v_s (mV 1) :v_peak (mV 50) :v_reset (mV -10)}
   :state {:v (mV -10) :drive (mV 4)}
   :equations {:v (/ (+ (/ (* v v) v_s) drive) tau)}
   :threshold (>= v v_peak)
   :reset [[:v v_reset]]
   :method :rk4})

(deftest qif-period-matches-its-closed-form
  ;; tau dv/dt = v² + I (v_s = 1 mV): from v_r to v_p takes tau/√I (atan(v_p/√I) - atan(v_r/√I)).
  (let [drives [1.0 4.0 9.0 25.0]
        n (net/build {:dt (ms 0.001)
                      :groups {:q {:model qif :n (count drives) :init {:drive (map mV drives)}}}
                      :monitors {:s {:type :spikes :group :q}}})]
    (net/run! n (ms 250) :threads 1)
    (let [trains (net/spike-trains n :s)]
      (doseq [[i drive] (map-indexed vector drives)
              :let [ts (get trains i)
                    sq (Math/sqrt drive)
                    period (* (/ 10.0 sq) (- (Math/atan (/ 50.0 sq)) (Math/atan (/ -10.0 sq))))
                    measured (/ (- (peek ts) (first ts)) (dec (count ts)))]]
        (is (> (count ts) 3))
        ;; Spike times are quantised to dt = 1 µs; RK4 is accurate far beyond that.
        (is (< (Math/abs (- period measured)) 0.002) (str "drive " drive ": " measured " vs " period))))))

(defn- expansion-error
  "The ex-info that stopped the macro expansion of `form` (Clojure wraps it in a
  CompilerException), or nil if it expanded."
  [form]
  (try (macroexpand form) nil
       (catch Throwable t
         (loop [e t] (cond (nil? e) t (instance? clojure.lang.ExceptionInfo e) e :else (recur (.getCause e)))))))

(deftest unit-mismatch-fails-at-macro-expansion-naming-the-term
  (let [msg #(ex-message (expansion-error %))]
    (is (re-find #"equation dv/dt = .*cannot add \(- e_l v\) \[voltage\] and g \[conductance\]"
                 (msg '(chive.model/defneuron bad
                         {:params {:tau (chive.units/ms 10) :e_l (chive.units/mV -70) :g (chive.units/nS 5)}
                          :state {:v (chive.units/mV -70)}
                          :equations {:v (/ (+ (- e_l v) g) tau)}}))))
    (is (re-find #"dv/dt must be a voltage-rate \(voltage per time\), but the right-hand side is a voltage"
                 (msg '(chive.model/defneuron bad2
                         {:params {:tau (chive.units/ms 10)}
                          :state {:v (chive.units/mV -70)}
                          :equations {:v (- v)}}))))
    (is (re-find #"exp needs a dimensionless argument, but v is a voltage"
                 (msg '(chive.model/defneuron bad3
                         {:params {:tau (chive.units/ms 10)}
                          :state {:v (chive.units/mV -70)}
                          :equations {:v (/ (exp v) tau)}}))))
    (is (nil? (expansion-error '(chive.model/defneuron fine4
                                  {:params {:tau (chive.units/ms 10)}
                                   :state {:v 1.0 :k 2.0}
                                   :equations {:v (/ (+ (* v v) (* k v)) tau)}
                                   :method :exact})))
        "nonlinear terms (and per-neuron constants times state) are allowed with :exact: held over each step (chive.fidelity-test)")
    (is (re-find #"unknown symbol w"
                 (msg '(chive.model/defneuron bad5
                         {:params {:tau (chive.units/ms 10)}
                          :state {:v 1.0}
                          :equations {:v (/ w tau)}}))))
    (is (nil? (expansion-error '(chive.model/defneuron fine
                                  {:params {:tau (chive.units/ms 10)}
                                   :state {:v 1.0}
                                   :equations {:v (/ (- v) tau)}})))
        "a correct model expands")))

(deftest dsl-parameters-are-unit-checked-in-networks
  (let [n (net/build (driven-spec lif-dsl))]
    (net/set-param! n :cells :tau_m (ms 25))
    (is (= (ms 25) (net/param n :cells :tau_m)))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"cells/tau_m: expected a time, got a voltage"
                          (net/set-param! n :cells :tau_m (mV 3))))))
