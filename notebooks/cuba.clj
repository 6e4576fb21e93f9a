;; # CUBA: a balanced network of integrate-and-fire neurons
;;
;; The current-based benchmark network of Vogels & Abbott (2005) and Brette
;; et al. (2007), as Brian2's `examples/CUBA.py` defines it: 80 % excitatory
;; and 20 % inhibitory LIF neurons, each connected to about 80 others,
;; exponential synaptic currents, dt 0.1 ms. Excitation and inhibition
;; balance into irregular, asynchronous firing at a few Hz. The map below is
;; the one `bin/chive bench cuba` measures.
;;
;; This page simulates 4,000 neurons for 300 ms; `--full` renders 1 s, the
;; benchmark's length.

(ns notebooks.cuba
  (:require [chive.bench :as bench]
            [chive.net :as net]
            [chive.notebook :as nb]
            [chive.plot :as plot]
            [chive.units :refer [ms]]))

(def duration (if (nb/full?) 1000 300))

(def spec (-> (bench/cuba-spec {:n 4000 :seed 1})
              (assoc-in [:monitors :rate] {:type :rate :group :exc})
              (assoc-in [:monitors :v] {:type :state :group :exc :var :v :neurons [0 1 2] :every (ms 0.1)})))

;; The network as data (groups and projections; the synapse counts come from
;; the connectivity drawn at build time):

(def n (net/build spec))

(for [[k p] (:projections (net/summary n))] {:projection (name k) :synapses (:synapses p)})

(def result (net/run! n (ms duration) :progress false))

(select-keys result [:wall-s :steps :threads])

;; ## Spikes
;;
;; Every excitatory spike (the raster bins itself when a recording is too
;; large to draw spike by spike, and says so):

(plot/raster (net/spikes n :exc-spikes) {:title "Excitatory neurons" :t-max-ms duration :n-max 3200})

;; Population rate of the excitatory group, in 2 ms bins:

(plot/rates (net/rates n :rate) {:window-ms 2})

;; Mean rates: the asynchronous irregular state of this network sits at a few Hz.

(let [secs (/ duration 1000.0)]
  {:exc-hz (/ (:count (net/spikes n :exc-spikes)) 3200 secs)
   :inh-hz (/ (:count (net/spikes n :inh-spikes)) 800 secs)})

;; Membrane potentials of three excitatory neurons: fluctuations driven by the
;; balance of excitation and inhibition, resets to -60 mV after each spike.

(plot/traces (net/trace n :v) {:title "v of three excitatory neurons" :y-title "v (mV)"})
