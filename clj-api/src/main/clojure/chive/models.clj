(ns chive.models
  "Neuron models written in chive's DSL (chive.model/defneuron): readable
  definitions to copy from, and twins of built-in models that the tests hold
  to the built-ins' spikes. Each compiles to a Java kernel when this namespace
  loads (about a second each, once).

  - `lif`        CUBA LIF as in Brian2's CUBA example (exact integration)
  - `izhikevich` Izhikevich (2003), forward Euler
  - `adex`       adaptive exponential IF (Brette & Gerstner 2005)
  - `qif`        quadratic integrate-and-fire with adaptation (Izhikevich 2007, ch. 8)
  - `hh`         Hodgkin-Huxley with Traub-Miles kinetics (COBAHH's cell), exponential
                 Euler, refractory while above threshold, gates starting at steady state"
  (:require [chive.model :refer [defneuron]]
            [chive.units :refer [ms mV nA nF uS Mohm]]))

(defneuron lif
  "LIF with exponential current synapses (Brian2's CUBA): ge, gi in mV."
  {:params {:tau_m (ms 20) :tau_e (ms 5) :tau_i (ms 10) :v_rest (mV -49) :v_th (mV -50)
            :v_reset (mV -60) :t_ref (ms 5) :r_m (Mohm 1)}
   :state {:v (mV -60) :ge (mV 0) :gi (mV 0) :i_ext (nA 0)}
   :equations {:v (/ (+ ge gi (- v_rest v) (* r_m i_ext)) tau_m)
               :ge (- (/ ge tau_e))
               :gi (- (/ gi tau_i))}
   :threshold (> v v_th)
   :reset [[:v v_reset]]
   :refractory t_ref
   :hold #{:v}
   :method :exact
   :cost 1.0})

(defneuron izhikevich
  "Izhikevich (2003) as Brian2 writes it: v in mV; u and the input i_ext in the
  paper's dimensionless units."
  {:params {:a 0.02 :b 0.2 :c (mV -65) :d 8.0}
   :state {:v (mV -65) :u -13.0 :i_ext 0.0}
   :equations {:v (/ (+ (* 0.04 (/ v (mV 1)) v) (* 5 v) (mV 140) (- (* u (mV 1))) (* i_ext (mV 1))) (ms 1))
               :u (/ (* a (- (* b (/ v (mV 1))) u)) (ms 1))}
   :threshold (>= v (mV 30))
   :reset [[:v c] [:u (+ u d)]]
   :cost 4.0})

(defneuron adex
  "Adaptive exponential integrate-and-fire (Brette & Gerstner 2005), regular spiking."
  {:params {:c_m (nF 0.281) :g_l (uS 0.030) :e_l (mV -70.6) :v_t (mV -50.4) :delta_t (mV 2)
            :a (uS 0.004) :tau_w (ms 144) :b (nA 0.0805) :v_reset (mV -70.6) :v_peak (mV 0)}
   :state {:v (mV -70.6) :w (nA 0) :i_ext (nA 0)}
   :equations {:v (/ (+ (* g_l (- e_l v)) (* g_l delta_t (exp (/ (- (min v v_peak) v_t) delta_t))) (- w) i_ext) c_m)
               :w (/ (- (* a (- v e_l)) w) tau_w)}
   :threshold (> v v_peak)
   :reset [[:v v_reset] [:w (+ w b)]]
   :cost 12.0})

(defneuron qif
  "Quadratic integrate-and-fire with adaptation: tau dv/dt = (v - v_r)(v - v_c)/delta + R I - R w."
  {:params {:tau (ms 10) :v_r (mV -60) :v_c (mV -50) :delta (mV 10) :tau_w (ms 100) :kappa 0.5
            :b (mV 2) :v_peak (mV 20) :v_reset (mV -65)}
   :state {:v (mV -60) :w (mV 0) :drive (mV 0)}
   :equations {:v (/ (+ (/ (* (- v v_r) (- v v_c)) delta) drive (- w)) tau)
               :w (/ (- (* kappa (- v v_r)) w) tau_w)}
   :threshold (>= v v_peak)
   :reset [[:v v_reset] [:w (+ w b)]]
   :method :rk4
   :cost 10.0})

(defneuron hh
  "Hodgkin-Huxley neuron with Traub-Miles kinetics and conductance synapses,
  COBAHH's cell (Brette et al. 2007; Brian2's examples/COBAHH.py), as the
  built-in :hh computes it, written with the DSL: exponential Euler (each
  variable relaxes exactly towards its steady state, the others held over
  the step); a spike when v rises above v_spike, the neuron refractory while
  v stays above it (a condition, as in Brian2's HH examples), no reset; the
  gates m, h, n start at their steady state for the initial v."
  {:params {:c_m (nF 0.2) :g_l (uS 0.01) :e_l (mV -60) :e_k (mV -90) :e_na (mV 50)
            :g_na (uS 20) :g_kd (uS 6) :v_t (mV -63) :e_e (mV 0) :e_i (mV -80)
            :tau_e (ms 5) :tau_i (ms 10) :v_spike (mV -20)}
   :state {:v (mV -60) :m 0.0 :h 0.0 :n 0.0 :ge (uS 0) :gi (uS 0) :i_ext (nA 0)}
   :let {:x (- v v_t)
         :alpha_m (/ (/ (* 0.32 4) (exprel (/ (- (mV 13) x) (mV 4)))) (ms 1))
         :beta_m (/ (/ (* 0.28 5) (exprel (/ (- x (mV 40)) (mV 5)))) (ms 1))
         :alpha_h (/ (* 0.128 (exp (/ (- (mV 17) x) (mV 18)))) (ms 1))
         :beta_h (/ (/ 4 (+ 1 (exp (/ (- (mV 40) x) (mV 5))))) (ms 1))
         :alpha_n (/ (/ (* 0.032 5) (exprel (/ (- (mV 15) x) (mV 5)))) (ms 1))
         :beta_n (/ (* 0.5 (exp (/ (- (mV 10) x) (mV 40)))) (ms 1))}
   :equations {:v (/ (+ (* g_l (- e_l v)) (* ge (- e_e v)) (* gi (- e_i v))
                        (- (* g_na m m m h (- v e_na))) (- (* g_kd n n n n (- v e_k))) i_ext)
                     c_m)
               :m (- (* alpha_m (- 1 m)) (* beta_m m))
               :h (- (* alpha_h (- 1 h)) (* beta_h h))
               :n (- (* alpha_n (- 1 n)) (* beta_n n))
               :ge (- (/ ge tau_e))
               :gi (- (/ gi tau_i))}
   :threshold (> v v_spike)
   :refractory (> v v_spike)
   :init [[:m (/ alpha_m (+ alpha_m beta_m))]
          [:h (/ alpha_h (+ alpha_h beta_h))]
          [:n (/ alpha_n (+ alpha_n beta_n))]]
   :method :exponential-euler
   :cost 120.0})

