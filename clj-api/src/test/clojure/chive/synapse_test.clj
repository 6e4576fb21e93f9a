(ns chive.synapse-test
  "Learning rules written with defsynapse against the built-in STDP."
  (:require [clojure.test :refer [deftest is testing]]
            [chive.model :as model :refer [defsynapse]]
            [chive.net :as net]
            [chive.units :refer [ms mV Hz]]))

(defsynapse pair-stdp
  "Additive pair STDP with all-to-all traces, bounded to [0, w_max]."
  {:params {:tau_pre (ms 16.8) :tau_post (ms 33.7) :a_plus 0.01 :a_minus 0.0105 :w_max 1.0}
   :pre {:x 0.0} :post {:y 0.0}
   :equations {:x (- (/ x tau_pre)) :y (- (/ y tau_post))}
   :on-pre [[:x (+ x 1)] [:w (clip (- w (* a_minus y)) 0 w_max)]]
   :on-post [[:w (clip (+ w (* a_plus x)) 0 w_max)] [:y (+ y 1)]]})

(defsynapse diehl-cook
  "Diehl & Cook 2015: traces set to 1 on spikes; depression by post1, potentiation by pre·post2(before)."
  {:params {:tau_pre (ms 20) :tau_post1 (ms 20) :tau_post2 (ms 40) :nu_pre 0.0001 :nu_post 0.01 :w_max 1.0}
   :pre {:pre 0.0} :post {:post1 0.0 :post2 0.0}
   :equations {:pre (- (/ pre tau_pre)) :post1 (- (/ post1 tau_post1)) :post2 (- (/ post2 tau_post2))}
   :on-pre [[:pre 1.0] [:w (clip (- w (* nu_pre post1)) 0 w_max)]]
   :on-post [[:w (clip (+ w (* nu_post pre post2)) 0 w_max)] [:post1 1.0] [:post2 1.0]]})

(defn- spec [plasticity]
  {:dt (ms 0.5) :seed 9
   :groups {:in {:model :poisson :n 300 :rate (Hz 20)}
            :exc {:model :lif :n 60 :params {:v_rest (mV -65) :v_th (mV -50) :v_reset (mV -65) :t_ref (ms 2)}}}
   :projections {:in->exc {:from :in :to :exc :target :ge :connect {:rule :fixed-probability :p 0.3}
                           :weight 0.5 :plasticity plasticity}}
   :monitors {:s {:type :spikes :group :exc}}})

(defn- learned [plasticity threads]
  (let [n (net/build (assoc-in (spec plasticity) [:projections :in->exc :weight] (mV 2.5)))]
    (net/run! n (ms 2000) :threads threads)
    [(vec (net/weights n :in->exc)) (:count (net/spikes n :s))]))

(deftest dsl-pair-stdp-equals-the-built-in
  (let [weight-mv (fn [p] p)
        builtin (learned {:rule :stdp :tau_pre (ms 16.8) :tau_post (ms 33.7) :a_plus (mV 0.01) :a_minus (mV 0.0105)
                          :w_max (mV 1.0)}
                         1)]
    (is (pos? (second builtin)) "the post neurons fire")
    (testing "weights in mV: the DSL rule's :weight says so"
      (defsynapse pair-stdp-mv
        {:params {:tau_pre (ms 16.8) :tau_post (ms 33.7) :a_plus (mV 0.01) :a_minus (mV 0.0105) :w_max (mV 1.0)}
         :weight (mV 1)
         :pre {:x 0.0} :post {:y 0.0}
         :equations {:x (- (/ x tau_pre)) :y (- (/ y tau_post))}
         :on-pre [[:x (+ x 1)] [:w (clip (- w (* a_minus y)) (mV 0) w_max)]]
         :on-post [[:w (clip (+ w (* a_plus x)) (mV 0) w_max)] [:y (+ y 1)]]})
      (is (= builtin (learned pair-stdp-mv 1)) "same weights, same spikes")
      (is (= builtin (learned pair-stdp-mv 3)) "and with 3 threads"))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"synapse pair-stdp has weights of dimension dimensionless but its target is a voltage"
                          (net/build (assoc-in (spec pair-stdp) [:projections :in->exc :weight] (mV 1.5)))))))

(deftest dsl-diehl-cook-equals-the-built-in
  (let [s (-> (spec nil)
              (assoc-in [:groups :exc] {:model :adaptive-lif :n 30
                                        :params {:v_rest (mV -65) :v_th (mV -52) :v_reset (mV -65) :tau_m (ms 100)
                                                 :tau_e (ms 1) :tau_i (ms 2)}
                                        :init {:v (mV -65) :theta (mV 20)}})
              (assoc-in [:projections :in->exc :weight] [:uniform 0.05 0.5]))
        run (fn [p] (let [n (net/build (assoc-in s [:projections :in->exc :plasticity] p))]
                      (net/run! n (ms 2000) :threads 2)
                      [(vec (net/weights n :in->exc)) (vec (:indices (net/spikes n :s)))]))
        builtin (run {:rule :diehl-cook :tau_pre (ms 20) :tau_post1 (ms 20) :tau_post2 (ms 40)
                      :nu_pre 0.0001 :nu_post 0.01 :w_max 1.0})]
    (is (< 10 (count (second builtin))))
    (is (= builtin (run diehl-cook)))
    (is (= builtin (run {:model diehl-cook :params {:nu_post 0.01}})) "parameter overrides")))

(deftest synapse-errors
  (let [err (fn [form] (try (macroexpand form) nil
                            (catch Throwable t (loop [e t] (if (instance? clojure.lang.ExceptionInfo e) (ex-message e) (recur (.getCause e)))))))]
    (is (re-find #"cannot subtract w \[dimensionless\] and \(\* a y\) \[voltage\]"
                 (err '(chive.model/defsynapse bad {:params {:a (chive.units/mV 1)} :pre {:x 0.0} :post {:y 0.0}
                                                    :on-pre [[:w (- w (* a y))]]}))))
    (is (re-find #"on-pre may assign \(w x\), not y"
                 (err '(chive.model/defsynapse bad2 {:pre {:x 0.0} :post {:y 0.0} :on-pre [[:y 1.0]]}))))
    (is (re-find #"dx/dt may depend only on x"
                 (err '(chive.model/defsynapse bad3 {:params {:tau (chive.units/ms 1)} :pre {:x 0.0} :post {:y 0.0}
                                                     :equations {:x (/ (- y x) tau)}}))))))
