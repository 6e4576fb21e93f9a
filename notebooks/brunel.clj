;; # Brunel (2000): the phase diagram of a sparse E/I network
;;
;; Brunel's model A: N_E = 4 N_I leaky integrate-and-fire neurons (τ = 20 ms,
;; θ = 20 mV, reset 10 mV, refractory 2 ms), each receiving C_E = 0.1 N_E
;; excitatory and C_I = C_E / 4 inhibitory synapses (delta currents, J = 0.1
;; mV, inhibitory -g·J, delay 1.5 ms) and C_E external Poisson inputs at
;; η·ν_thr, where ν_thr = θ / (J C_E τ) is the rate that just brings a neuron
;; to threshold without recurrence. Two numbers choose the state:
;; g, the relative strength of inhibition, and η, the external drive.
;; Brunel names four states: synchronous regular (SR, excitation dominates,
;; g < 4), asynchronous irregular (AI, inhibition dominates with strong
;; drive), and synchronous irregular with fast (SI fast, large g, high η) or
;; slow (SI slow, η near 1) population oscillations.
;;
;; Every point below is one call of `chive.experiments.brunel/point` (a plain
;; function from a parameter map to a result map), run by `chive.sweep` on
;; every core: the same call `bin/chive sweep examples/sweeps/brunel-grid.edn`
;; makes, locally or on a Spark cluster. This page runs a small grid (N =
;; 2000, 0.5 s, one seed: seconds); `--full` runs the 48-point grid of
;; `examples/sweeps/brunel-grid.edn` (N = 5000, C_E = 1000, 2.5 s, 3 seeds:
;; a few minutes on two cores).

(ns notebooks.brunel
  (:require [chive.notebook :as nb]
            [chive.plot :as plot]
            [chive.sweep :as sweep]
            [clojure.edn :as edn])
  (:import (java.nio.file Files)
           (java.nio.file.attribute FileAttribute)))

(defn- fresh-dir [] (str (Files/createTempDirectory "chive-nb-brunel" (make-array FileAttribute 0))))

(def space
  (if (nb/full?)
    (:space (edn/read-string (slurp "examples/sweeps/brunel-grid.edn")))
    {:grid {:g [3.0 4.0 5.0 6.0] :eta [1.0 2.0 3.0 4.0]} :seeds 1 :fixed {:n 2000 :duration-ms 500}}))

space

;; The sweep, on all cores of this machine (each point its own network and
;; thread; results as plain maps):

(def rows (sweep/run! 'chive.experiments.brunel/point space {:out (fresh-dir) :progress false}))

{:points (count rows)
 :failed (count (remove #(= :ok (:sweep/status %)) rows))
 :seconds-per-point (/ (Math/round (* 100 (/ (reduce + (map :sweep/seconds rows)) (count rows)))) 100.0)}

;; ## Mean firing rate
;;
;; Over all neurons, after the first 100 ms. At g = 3 excitation wins and
;; every neuron fires near its maximum (1 / refractory period, minus the
;; time to climb to threshold); from g = 4 on, inhibition holds the rate
;; down, more so the larger g and the weaker the drive.

(plot/heatmap rows {:x :g :y :eta :value :rate-hz :title "Mean firing rate"
                    :x-title "g (inhibition relative to excitation)" :y-title "η = ν_ext / ν_thr"
                    :value-title "rate (Hz)"})

;; ## Irregularity: the coefficient of variation of inter-spike intervals
;;
;; The CV of each neuron's inter-spike intervals (neurons with at least
;; three spikes), averaged. Near 0: clock-like firing (SR); near 1: Poisson-like
;; irregular firing (AI and SI).

(plot/heatmap rows {:x :g :y :eta :value :cv-isi :title "Irregularity"
                    :x-title "g (inhibition relative to excitation)" :y-title "η = ν_ext / ν_thr"
                    :value-title "CV of ISIs (1)" :scheme "magma"})

;; ## Synchrony
;;
;; χ (Golomb 2007): the standard deviation of the population-averaged
;; activity over the mean of the single neurons' standard deviations, in
;; 1 ms bins. χ → 0 for asynchronous firing (it falls as 1/√N), χ → 1
;; when all neurons move together.

(plot/heatmap rows {:x :g :y :eta :value :sync-chi :title "Synchrony"
                    :x-title "g (inhibition relative to excitation)" :y-title "η = ν_ext / ν_thr"
                    :value-title "χ (1)" :scheme "inferno"})

;; ## The four states, spike by spike
;;
;; Brunel's figure 8 points (N = 5000, C_E = 1000 on this page in both
;; sizes; the first 200 neurons, the last 200 ms of 600 ms, time counted from 400 ms):
;; A, SR: g = 3, η = 2; B, AI: g = 6, η = 4; C, SI fast: g = 5, η = 2;
;; D, SI slow: g = 4.5, η = 0.9.

(def ^:show states
  "Brunel's four example points."
  [{:state "A: synchronous regular" :g 3.0 :eta 2.0}
   {:state "B: asynchronous irregular" :g 6.0 :eta 4.0}
   {:state "C: synchronous irregular, fast" :g 5.0 :eta 2.0}
   {:state "D: synchronous irregular, slow" :g 4.5 :eta 0.9}])

(def examples
  "The four runs by state name (each with the spikes of its first 200 neurons)."
  (zipmap (map :state states)
          (sweep/run! 'chive.experiments.brunel/point
                      {:list (mapv #(select-keys % [:g :eta]) states) :fixed {:n 5000 :ce 1000 :duration-ms 600 :raster 200 :seed 1}}
                      {:out (fresh-dir) :progress false})))

(defn- window-raster [{:keys [raster-i raster-t-ms]} t0 t1]
  (let [keep (filter #(<= t0 (nth raster-t-ms %) t1) (range (count raster-t-ms)))]
    {:indices (int-array (map #(nth raster-i %) keep))
     :times-ms (double-array (map #(- (nth raster-t-ms %) t0) keep))}))

(plot/column
 (for [{:keys [state]} states :let [r (examples state)]]
   (plot/raster (window-raster r 400.0 600.0)
                {:title (format "%s (g %s, η %s): %.1f Hz, CV %.2f, χ %.2f" state (:g r) (:eta r) (:rate-hz r) (:cv-isi r) (:sync-chi r))
                 :t-max-ms 200 :n-max 200 :height 160})))

;; The same statistics as a table:

(for [{:keys [state]} states :let [r (examples state)]]
  {:state state :g (:g r) :eta (:eta r) :rate-hz (:rate-hz r) :cv-isi (:cv-isi r) :sync-chi (:sync-chi r)})
