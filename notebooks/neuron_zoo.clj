;; # The neuron zoo
;;
;; chive's built-in point neurons, driven by constant currents: membrane
;; traces first, then how firing rate grows with input (f-I curves). Every
;; model here is a Java kernel behind `chive.net`; the same maps work at the
;; REPL. Render at full size with `bin/chive notebook build --full`
;; (longer runs, finer current steps).

(ns notebooks.neuron-zoo
  (:require [chive.net :as net]
            [chive.notebook :as nb]
            [chive.plot :as plot]
            [chive.units :refer [ms mV nA Mohm]]))

(def duration (if (nb/full?) 1000 300))

;; ## One neuron of each kind
;;
;; A helper builds a group of `n` neurons of one model, gives neuron k the
;; k-th input from `inputs`, records the membrane potential of the first few
;; and counts spikes.

(defn run-group [model params inputs & {:keys [dt record] :or {dt 0.1 record 4}}]
  (let [n (count inputs)
        nw (net/build {:dt (ms dt) :seed 1
                       :groups {:g {:model model :n n :params params :init {:i_ext (vec inputs)}}}
                       :monitors {:v {:type :state :group :g :var :v :neurons (vec (range (min record n))) :every (ms dt)}
                                  :s {:type :spikes :group :g}}})]
    (net/run! nw (ms duration) :progress false)
    nw))

;; **Leaky integrate-and-fire**, exactly integrated: v relaxes towards
;; v_rest + R·I and resets after crossing v_th.

(def lif (run-group :lif {:tau_m (ms 20) :v_rest (mV -65) :v_th (mV -50) :v_reset (mV -65)
                          :t_ref (ms 2) :r_m (Mohm 10)}
                    [(nA 1.2) (nA 1.6) (nA 2.4)]))

(plot/traces (net/trace lif :v) {:title "LIF, 1.2 / 1.6 / 2.4 nA" :y-title "v (mV)"})

;; **Izhikevich** (2003): four parameters (a, b, c, d) give the classic firing
;; patterns. Regular spiking, fast spiking, chattering and intrinsically
;; bursting, each with input 10 (the paper's dimensionless units):

(def izh-types
  {"RS" {:a 0.02 :b 0.2 :c (mV -65) :d 8}
   "FS" {:a 0.1 :b 0.2 :c (mV -65) :d 2}
   "CH" {:a 0.02 :b 0.2 :c (mV -50) :d 2}
   "IB" {:a 0.02 :b 0.2 :c (mV -55) :d 4}})

(plot/traces {:times-ms (:times-ms (net/trace (run-group :izhikevich (izh-types "RS") [10]) :v))
              :series (into (sorted-map)
                            (for [[k p] izh-types]
                              [k (map first (:values (net/trace (run-group :izhikevich p [10] :record 1) :v)))]))}
             {:title "Izhikevich firing patterns (I = 10)" :y-title "v (mV)" :facet true :height 90})

;; **AdEx** (Brette & Gerstner 2005): an exponential spike initiation and an
;; adaptation current w; with these defaults the inter-spike interval grows
;; after the first spikes (spike-frequency adaptation).

(plot/traces (net/trace (run-group :adex {} [(nA 0.8)] :record 1) :v) {:title "AdEx, 0.8 nA" :y-title "v (mV)"})

;; **Hodgkin-Huxley** with Traub-Miles kinetics (the COBAHH cell), at dt 0.01 ms:

(plot/traces (net/trace (run-group :hh {} [(nA 0.5)] :dt 0.01 :record 1) :v) {:title "Hodgkin-Huxley, 0.5 nA" :y-title "v (mV)"})

;; ## f-I curves
;;
;; Rate against input current: a group of neurons, one per current value, run
;; once; rates from the mean inter-spike interval after a 50 ms transient.
;; The LIF curve has the closed form f = 1/(t_ref + tau_m ln(RI/(RI - θ)))
;; above its rheobase (1.5 nA here); AdEx starts at a lower current and rises
;; about linearly; the Traub-Miles HH cell (COBAHH's parameters, no input
;; conductances) fires already at small currents and rises steeply.

(def steps (if (nb/full?) 40 12))

(defn rates-of
  "Firing rate of each neuron from its mean inter-spike interval after a 50 ms
  transient (0 with fewer than two spikes there)."
  [nw n]
  (let [trains (net/spike-trains nw :s)]
    (for [k (range n)
          :let [ts (filter #(> % 50.0) (get trains k))]]
      (if (< (count ts) 2) 0.0 (/ 1000.0 (/ (- (last ts) (first ts)) (dec (count ts))))))))

(def lif-currents (map #(* 3.0 (/ % (dec steps))) (range steps)))

(def fi
  {"LIF" (map vector lif-currents
              (rates-of (run-group :lif {:tau_m (ms 20) :v_rest (mV -65) :v_th (mV -50) :v_reset (mV -65) :t_ref (ms 2) :r_m (Mohm 10)}
                                   (map nA lif-currents))
                        steps))
   "AdEx" (map vector lif-currents (rates-of (run-group :adex {} (map nA lif-currents)) steps))
   "HH" (map vector lif-currents (rates-of (run-group :hh {} (map nA lif-currents) :dt 0.01) steps))})

(plot/fi-curves fi {:x-title "input current (nA)"})

;; The LIF points against the closed form (tau_m 20 ms, R 10 MΩ, θ 15 mV
;; above rest, t_ref 2 ms):

(for [[i r] (get fi "LIF") :when (> (* 10 i) 15)]
  {:current_nA i :simulated_Hz r
   :closed_form_Hz (/ 1000.0 (+ 2 (* 20 (Math/log (/ (* 10 i) (- (* 10 i) 15))))))})
