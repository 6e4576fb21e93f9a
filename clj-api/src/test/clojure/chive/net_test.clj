(ns chive.net-test
  (:require [clojure.test :refer [deftest is testing]]
            [chive.net :as net]
            [chive.io]
            [chive.bench :as bench]
            [chive.impl.cmd.bench :as bench-cli]
            [chive.units :refer [ms mV Hz nS]]))

(def small-spec
  {:dt (ms 0.1) :seed 3
   :groups {:in {:model :poisson :n 50 :rate (Hz 40)}
            :exc {:model :lif :n 100
                  :params {:tau_m (ms 20) :v_rest (mV -60) :v_th (mV -50) :v_reset (mV -60) :t_ref (ms 2)}
                  :init {:v [:uniform (mV -60) (mV -50)]}}}
   :projections {:in->exc {:from :in :to :exc :target :ge
                           :connect {:rule :fixed-probability :p 0.2} :weight (mV 3)
                           :delay (ms 1)}}
   :monitors {:spikes {:type :spikes :group :exc}
              :v {:type :state :group :exc :var :v :neurons [0 1 2] :every (ms 1)}
              :rate {:type :rate :group :exc}}})

(deftest build-run-read-change-continue
  (let [n (net/build small-spec)
        r1 (net/run! n (ms 200) :threads 1)
        c1 (:count (net/spikes n :spikes))]
    (is (= 2000 (:steps r1)))
    (is (== 200.0 (net/time-ms n)))
    (is (pos? c1) "the input drives the group")
    (let [{:keys [times-ms values neurons]} (net/trace n :v)]
      (is (= [0 1 2] neurons))
      (is (= 200 (alength ^doubles times-ms)) "one record per ms")
      (is (= 3 (alength ^floats (first values)))))
    (is (= 2000 (alength ^doubles (:rates-hz (net/rates n :rate)))))
    (testing "change a parameter and continue"
      (net/set-param! n :exc :v_th (mV -40))
      (is (= (mV -40) (net/param n :exc :v_th)))
      (net/run! n (ms 200) :threads 2)
      (is (== 400.0 (net/time-ms n)))
      (let [{:keys [^doubles times-ms]} (net/spikes n :spikes)
            late (count (filter #(>= % 200.0) times-ms))]
        (is (< late c1) "a higher threshold fires less")))
    (testing "set Poisson rates between runs"
      (net/set-rates! n :in (Hz 0))
      (let [before (:count (net/spikes n :spikes))]
        (net/run! n (ms 50))
        ;; Only spikes still in the 1 ms delay line can arrive; a silent input soon silences the group.
        (is (<= (- (:count (net/spikes n :spikes)) before) 20))))
    (is (= 100 (get-in (net/summary n) [:groups :exc :n])))))

(deftest same-spikes-for-any-thread-count
  (let [run-with (fn [t] (let [n (net/build small-spec)]
                           (net/run! n (ms 300) :threads t)
                           (vec (:indices (net/spikes n :spikes)))))]
    (is (= (run-with 1) (run-with 2) (run-with 3)))))

(deftest errors-name-the-problem
  (testing "wrong unit names parameter, given and expected"
    (let [e (is (thrown? clojure.lang.ExceptionInfo
                         (net/build (assoc-in small-spec [:groups :exc :params :tau_m] (mV 20)))))]
      (is (re-find #"exc/tau_m: expected a time \(ms\), got a voltage" (ex-message e)))))
  (testing "unknown names list the valid ones"
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"groups/exc/model: unknown model :lifx; did you mean :lif\? Valid: :adaptive-lif"
                          (net/build (assoc-in small-spec [:groups :exc :model] :lifx))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"groups/exc/params: unknown key :tau_x in the parameters of model :lif; did you mean :tau_m\? Valid keys: :r_m :t_ref"
                          (net/build (assoc-in small-spec [:groups :exc :params :tau_x] (ms 1)))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown connection rule :linearish"
                          (net/build (assoc-in small-spec [:projections :in->exc :connect] :linearish))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"projections/in->exc/target: unknown target variable of group :exc :gx; did you mean :ge\?"
                          (net/build (assoc-in small-spec [:projections :in->exc :target] :gx))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"no group :nope"
                          (net/state (net/build small-spec) :nope :v))))
  (testing "impossible sizes"
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"groups/exc/n: :n must be an integer in 1..2147483639, got -5"
                          (net/build (assoc-in small-spec [:groups :exc :n] -5))))
    (let [e (is (thrown? clojure.lang.ExceptionInfo
                         (net/build {:groups {:a {:model :lif :n 2000000} :b {:model :lif :n 2000000}}
                                     :projections {:ab {:from :a :to :b :target :ge :connect :all-to-all :weight (mV 1)}}})))]
      (is (re-find #"needs about .* MiB but only .* MiB of heap are free" (ex-message e))))))

(deftest cuba-from-the-map-api-matches-brian2s-rate
  ;; Brian2 2.5.1 gives 5.4-5.7 Hz for this network at N = 4000 (bench/brian2_bench.py).
  (let [n (net/build (bench/cuba-spec {:n 4000 :seed 2}))]
    (net/run! n (ms 1000) :threads 1)
    (let [spikes (+ (:count (net/spikes n :exc-spikes)) (:count (net/spikes n :inh-spikes)))
          rate (/ spikes 4000.0)]
      (is (< 4.8 rate 6.3) (str "mean rate " rate " Hz")))))

(deftest plasticity-from-the-map
  (let [spec (-> small-spec
                 (assoc-in [:groups :exc :model] :adaptive-lif)
                 (assoc-in [:groups :exc :params] {:v_rest (mV -65) :v_th (mV -52) :v_reset (mV -65)
                                                    :tau_m (ms 100) :tau_e (ms 1) :tau_i (ms 2)})
                 (assoc-in [:groups :exc :init] {:v (mV -65) :theta (mV 20)})
                 (update-in [:projections :in->exc] merge
                            {:weight [:uniform 0.2 0.6] :delay nil :connect :all-to-all
                             :plasticity {:rule :diehl-cook :tau_pre (ms 20) :tau_post1 (ms 20) :tau_post2 (ms 40)
                                          :nu_pre 0.0001 :nu_post 0.01 :w_max 1.0}}))
        n (net/build spec)
        w0 (vec (net/weights n :in->exc))]
    (net/set-rates! n :in (Hz 60))
    (net/run! n (ms 500))
    (is (pos? (:count (net/spikes n :spikes))) "the excitatory cells fire")
    (is (< 100 (count (filter false? (map = w0 (net/weights n :in->exc))))) "weights learn")
    (is (every? #(<= 0.0 % 1.0) (net/weights n :in->exc)) "within [0, w_max]")
    (net/set-learning! n :in->exc false)
    (let [w1 (vec (net/weights n :in->exc))]
      (net/run! n (ms 200))
      (is (zero? (count (filter false? (map = w1 (net/weights n :in->exc))))) "frozen when learning is off"))
    (net/normalize! n :in->exc 3.0)
    (let [{:keys [post weight]} (net/connections n :in->exc)
          sums (reduce (fn [m k] (update m (aget ^ints post k) (fnil + 0.0) (aget ^floats weight k)))
                       {} (range (alength ^ints post)))]
      (is (every? #(< (Math/abs (- 3.0 %)) 1e-3) (vals sums)))))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"plasticity :diehl-cook needs :nu_post"
                        (net/build (assoc-in small-spec [:projections :in->exc :plasticity]
                                             {:rule :diehl-cook :tau_pre (ms 20) :tau_post1 (ms 20)
                                              :tau_post2 (ms 40) :nu_pre 0.0001 :w_max 1.0})))))

(deftest bench-arguments
  (is (= {:bench "cuba" :n 400 :duration-ms 100.0 :threads 2 :seed 1 :repeat 1 :warmup false :model "builtin"}
         (dissoc (bench-cli/parse-args ["cuba" "--n" "400" "--duration" "100" "--threads" "2" "--no-warmup"]) :g :eta)))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--n x: needs a whole number, got \"x\""
                        (bench-cli/parse-args ["cuba" "--n" "x"])))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--n -5: must be at least 5, got -5"
                        (bench-cli/parse-args ["cuba" "--n" "-5"])))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"Unknown option: \"--frob\""
                        (bench-cli/parse-args ["cuba" "--frob"])))
  (let [r (bench/measure "cuba" {:n 400 :duration-ms 100.0 :threads 1 :seed 1 :warmup false})]
    (is (= #{:bench :n :synapses :duration_s :spikes :mean_rate_hz :build_s :run_s :threads :seed :jdk
             :bytes_per_synapse :network_bytes :peak_heap_bytes :max_heap_bytes :model :jit_warmup}
           (set (keys r))))
    (is (= "not started" (:jit_warmup r)) "only bin/chive's launcher starts the JIT warm-up")
    (is (<= (:network_bytes r) (:peak_heap_bytes r) (:max_heap_bytes r)) "the network fits in the peak, the peak in the heap")
    (is (= "cuba" (:bench r)))))

(deftest quiet-fast-forward-is-an-option-reported-and-saved
  (let [spec {:dt (ms 0.5) :seed 2
              :groups {:in {:model :poisson :n 30 :rate (Hz 60)}
                       :e {:model :coba-lif :n 10 :params {:v_th (mV -50)}}}
              :projections {:p {:from :in :to :e :target :ge :connect :all-to-all :weight 0.3}}
              :monitors {:s {:type :spikes :group :e}}}
        run (fn [ff]
              (let [n (net/build (assoc spec :fast-forward ff))]
                (net/run! n (ms 50) :progress false)
                (net/set-rates! n :in (Hz 0))
                (net/run! n (ms 200) :progress false)
                n))
        on (run true)
        off (run false)]
    ;; ge (tau_e 5 ms) decays below 1e-9 (flushed) in about 120 ms; the rest of the 200 ms is skipped
    (is (< 100 (:quiet-steps (net/summary on)) 200) "the silent steps after the conductances flushed skipped")
    (is (= 0 (:quiet-steps (net/summary off))))
    (is (false? (:fast-forward (net/summary off))))
    (is (= (vec (:indices (net/spikes on :s))) (vec (:indices (net/spikes off :s)))))
    (is (pos? (:count (net/spikes on :s))) "the group fired during the stimulus")
    (is (every? #(< (Math/abs (double %)) 2e-4)
                (map - (net/state on :e :v) (net/state off :e :v)))
        "v after the closed form within 2e-4 mV of stepping")
    (let [dir (str (java.nio.file.Files/createTempDirectory "ff" (make-array java.nio.file.attribute.FileAttribute 0)))]
      (chive.io/save! off dir {:overwrite true})
      (is (false? (:fast-forward (net/summary (chive.io/load dir)))) "the choice is saved"))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":fast-forward must be true or false, got \"yes\""
                          (net/build (assoc spec :fast-forward "yes"))))))
