;; # The STDP window
;;
;; Spike-timing-dependent plasticity strengthens a synapse when the
;; presynaptic spike comes shortly before the postsynaptic one and weakens it
;; when it comes after (Bi & Poo 1998). chive's pair-based rule keeps a trace
;; per neuron: x (pre) jumps by 1 at each pre spike and decays with tau_pre,
;; y (post) likewise with tau_post; a pre spike depresses by a_minus·y, a post
;; spike potentiates by a_plus·x.
;;
;; We measure the window directly: many presynaptic neurons, each firing once
;; at a different lag around a single forced postsynaptic spike at 50 ms, and
;; read each synapse's weight change.

(ns notebooks.stdp-window
  (:require [chive.net :as net]
            [chive.notebook :as nb]
            [chive.plot :as plot]
            [chive.units :refer [ms mV]]))

(def lags (vec (range -50.0 50.01 (if (nb/full?) 0.5 2.5))))

;; The weights target the post neuron's inhibitory current gi, so they are voltages (mV):

(def params {:tau_pre (ms 16.8) :tau_post (ms 33.7) :a_plus (mV 0.01) :a_minus (mV 0.0105) :w_max (mV 1.0)})

(def n
  (net/build
   {:dt (ms 0.1) :seed 1
    :groups {:pre {:model :spike-generator :n (count lags)
                   :spikes {:indices (vec (range (count lags))) :times (mapv #(ms (+ 50.0 %)) lags)}}
             :force {:model :spike-generator :n 1 :spikes {:indices [0] :times [(ms 49.9)]}}
             :post {:model :lif :n 1 :params {:v_rest (mV -70)} :init {:v (mV -70)}}}
    :projections {:force->post {:from :force :to :post :target :v :connect :all-to-all :weight (mV 100)}
                  :pre->post {:from :pre :to :post :target :gi :connect :all-to-all :weight (mV 0.5)
                              :plasticity (assoc params :rule :stdp)}}
    :monitors {:post {:type :spikes :group :post}}}))

(net/run! n (ms 150) :progress false)

;; The postsynaptic neuron fired once, at 50 ms:

(vec (:times-ms (net/spikes n :post)))

(def dw (mapv #(- % 0.5) (net/weights n :pre->post)))

(plot/stdp-window lags dw {:w-unit "mV" :theory {:a-plus 0.01 :a-minus 0.0105 :tau-plus-ms 16.8 :tau-minus-ms 33.7}})

;; Against the exponential window the rule implies
;; (Δw = a_plus·exp(lag/tau_pre) for lag < 0, -a_minus·exp(-lag/tau_post) for lag > 0):

(def check
  (for [[lag d] (map vector lags dw) :when (not (zero? lag))]
    (let [expected (if (neg? lag) (* 0.01 (Math/exp (/ lag 16.8))) (- (* 0.0105 (Math/exp (- (/ lag 33.7))))))]
      {:lag_ms lag :dw d :expected expected :error (Math/abs (- d expected))})))

{:max-error (apply max (map :error check))}

(take 8 check)
