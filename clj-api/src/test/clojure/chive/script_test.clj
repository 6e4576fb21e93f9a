(ns chive.script-test
  (:require [clojure.test :refer [deftest is testing]]
            [chive.script :as s :refer [network-clear! create-population! network-stdp-connect!
                                        network-static-connect! network-record-spikes!
                                        network-set-static-poisson-freq! network-set-property!
                                        network-get-property network-run! network-get-conn-info
                                        loop-run-image-input]]
            [chive.units :refer [ms mV]]))

(def exc-params {:v_rest (mV -65) :v_reset (mV -65) :v_th (mV -52) :tau_m (ms 100) :tau_e (ms 1) :tau_i (ms 2)
                 :t_ref (ms 5) :e_i (mV -100) :theta_plus (mV 0.05) :tau_theta (ms 1e7) :theta_offset (mV 20)})
(def inh-params {:v_rest (mV -60) :v_reset (mV -45) :v_th (mV -40) :tau_m (ms 10) :tau_e (ms 1) :tau_i (ms 2)
                 :t_ref (ms 2) :e_i (mV -85)})

(defn- tiny-diehl-cook [nw]
  (network-clear! nw)
  (create-population! nw :input :poisson 16)
  (create-population! nw :excitatory :adaptive-lif 6 exc-params)
  (create-population! nw :inhibitory :coba-lif 6 inh-params)
  (s/set-initial! nw :excitatory {:v (mV -65) :theta (mV 20)})
  (s/set-initial! nw :inhibitory {:v (mV -60)})
  (let [ids (network-stdp-connect! nw :input :excitatory {:weight [:uniform 0.2 0.8]})]
    (network-static-connect! nw :excitatory :inhibitory 10.4 "linear" "Excitatory")
    (network-static-connect! nw :inhibitory :excitatory 17.0 "all_to_all_except_diagonal" "Inhibitory")
    (network-record-spikes! nw :excitatory)
    ids))

(deftest a-training-loop-reads-like-the-lisp-script
  (let [nw (s/new-network {:dt 0.5 :seed 4})
        [stdp] (tiny-diehl-cook nw)
        images [[(repeat 16 200.0) 1] [(concat (repeat 8 255.0) (repeat 8 0.0)) 2] [(repeat 16 120.0) 3]]
        w0 (vec (:weight (network-get-conn-info nw stdp)))
        n (loop-run-image-input [[image label] images]
            (network-set-static-poisson-freq! nw :input (map #(/ % 4.0) image))
            (network-run! nw 350)
            (network-set-static-poisson-freq! nw :input 0)
            (network-run! nw 150))]
    (is (= 3 n))
    (is (pos? (:count (s/network-spikes nw :excitatory))) "the excitatory layer fires")
    (let [{:keys [source target weight]} (network-get-conn-info nw stdp)]
      (is (= 96 (alength ^ints source) (alength ^ints target) (alength ^floats weight)))
      (is (not= w0 (vec weight)) "STDP changed the input weights"))
    (let [theta (network-get-property nw :excitatory "theta")]
      (is (= 6 (alength ^floats theta)))
      (is (some #(> % 20.0) theta) "theta grew on spikes"))
    (network-set-property! nw :excitatory "fix_theta" 1.0)
    (is (== 1.0 (network-get-property nw :excitatory "fix_theta")))))

(deftest the-current-network-for-repl-work
  (binding [s/*network* (s/new-network)]
    (create-population! :p :poisson 5)
    (network-record-spikes! :p)
    (network-set-static-poisson-freq! :p [100 100 100 100 100])
    (network-run! 200)
    (is (pos? (:count (s/network-spikes :p))))))

(deftest unknown-names-list-the-valid-ones
  (let [nw (s/new-network)]
    (create-population! nw :a :poisson 4)
    (create-population! nw :b :lif 4)
    (is (thrown-with-msg? clojure.lang.ExceptionInfo
                          #"unknown connector \"lineer\"; valid: \[\"all_to_all\" \"all_to_all_except_diagonal\""
                          (network-static-connect! nw :a :b 1.0 "lineer" "Excitatory")))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown target \"Excitory\"; valid: \[\"Excitatory\" \"Inhibitory\"\]"
                          (network-static-connect! nw :a :b 1.0 "linear" "Excitory")))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"no population :c"
                          (network-static-connect! nw :a :c 1.0 "linear" "Excitatory")))
    (network-static-connect! nw :a :b (mV 1) "linear" "Excitatory")
    (network-run! nw 10)
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"population :b has no property \"thetta\"; valid: \[.*\"tau_m\""
                          (network-get-property nw :b "thetta")))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"cannot add a population after the network has run"
                          (create-population! nw :c :lif 2)))))
