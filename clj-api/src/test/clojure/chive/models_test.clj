(ns chive.models-test
  "The DSL catalogue (chive.models) in the benchmark networks, against the built-ins."
  (:require [clojure.test :refer [deftest is testing]]
            [chive.bench :as bench]
            [chive.models :as models]
            [chive.net :as net]
            [chive.units :refer [ms mV nA]]))

(defn- spikes-of [spec-fn model n]
  (let [nw (net/build (spec-fn {:n n :seed 3 :model model}))]
    (net/run! nw (ms 300) :threads 2)
    [(vec (:indices (net/spikes nw :exc-spikes))) (vec (:indices (net/spikes nw :inh-spikes)))]))

(deftest dsl-twins-give-the-built-ins-spikes
  (testing "CUBA with the DSL LIF"
    (let [b (spikes-of bench/cuba-spec "builtin" 2000)]
      (is (< 1000 (count (first b))))
      (is (= b (spikes-of bench/cuba-spec "dsl" 2000)))))
  (testing "Izhikevich RS/FS cells with the DSL Izhikevich"
    (let [b (spikes-of bench/izhikevich-spec "builtin" 500)]
      (is (< 1000 (count (first b))))
      (is (= b (spikes-of bench/izhikevich-spec "dsl" 500))))))

(defn- isis [model drive-key drive]
  (let [nw (net/build {:dt (ms 0.05) :groups {:c {:model model :n 1 :init {drive-key drive}}}
                       :monitors {:s {:type :spikes :group :c}}})]
    (net/run! nw (ms 1000) :threads 1)
    (let [t (vec (:times-ms (net/spikes nw :s)))]
      (mapv - (rest t) t))))

(deftest adaptation-lengthens-intervals
  (testing "AdEx (DSL): regular spiking adapts"
    (let [d (isis models/adex :i_ext (nA 1))]
      (is (< 5 (count d)))
      (is (< (* 1.5 (first d)) (last d)) (str "first ISI " (first d) " ms, last " (last d) " ms"))))
  (testing "QIF with adaptation (DSL, RK4)"
    (let [d (isis models/qif :drive (mV 20))]
      (is (< 3 (count d)))
      (is (< (first d) (last d)) (str "first ISI " (first d) " ms, last " (last d) " ms")))))
