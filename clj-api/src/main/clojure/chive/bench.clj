(ns chive.bench
  "bin/chive bench NAME [--n N] [--duration MS] [--threads T] [--seed S]

  The standard benchmark networks, built through the public map API of
  `chive.net` on the general engine, as Brian2 2.5.1 defines them
  (examples/CUBA.py, examples/COBAHH.py; connection probability 80/N, so each
  neuron has about 80 synapses at any N; dt 0.1 ms). One JSON line per result
  on stdout; progress on stderr.

  run_s is the wall time of the simulation loop alone, measured after
  warm-up runs of a separate copy of the network (up to 3, so the JIT has
  compiled the kernels); build_s is the time to build the network from its map."
  (:require [chive.impl.log :refer [log]]
            [cheshire.core :as json]
            [chive.analysis :as analysis]
            [chive.impl.cli :as cli]
            [clojure.string :as str]
            [chive.net :as net]
            [chive.units :refer [ms mV nS uS um2 Hz]])
  (:gen-class))

(set! *warn-on-reflection* true)

(defn cuba-spec
  "Brian2's CUBA (Vogels & Abbott 2005; Brette et al. 2007 benchmark 2) as a
  chive map: 80 % excitatory, p = 80/N, exact integration, delays none.
  :model \"builtin\" (the Java LIF) or \"dsl\" (chive.models/lif, the same
  equations in the DSL)."
  [{:keys [n seed duration-ms model] :or {seed 1 model "builtin"}}]
  (let [ne (int (* 0.8 n)) ni (- n ne)
        p (min 1.0 (/ 80.0 n))
        cell {:model (case model
                       "builtin" :lif
                       "dsl" @(requiring-resolve 'chive.models/lif)
                       (throw (ex-info (str "--model must be builtin or dsl, got " (pr-str model)) {:model model})))
              :params {:tau_m (ms 20) :tau_e (ms 5) :tau_i (ms 10) :v_rest (mV -49)
                       :v_th (mV -50) :v_reset (mV -60) :t_ref (ms 5)}
              :init {:v [:uniform (mV -60) (mV -50)]}}
        conn {:rule :fixed-probability :p p :self? true}]
    {:dt (ms 0.1) :seed seed
     :groups {:exc (assoc cell :n ne) :inh (assoc cell :n ni)}
     :projections (into {} (for [[src target w] [[:exc :ge (mV 1.62)] [:inh :gi (mV -9)]]
                                 dst [:exc :inh]]
                             [(keyword (str (name src) "->" (name dst)))
                              {:from src :to dst :target target :connect conn :weight w}]))
     :monitors {:exc-spikes {:type :spikes :group :exc} :inh-spikes {:type :spikes :group :inh}}}))

(defn cobahh-spec
  "Brian2's COBAHH (Brette et al. 2007 benchmark 3): Traub-Miles HH cells of
  area 20000 µm², conductance synapses we 6 nS, wi 67 nS, p = 80/N."
  [{:keys [n seed] :or {seed 1}}]
  (let [ne (int (* 0.8 n)) ni (- n ne)
        p (min 1.0 (/ 80.0 n))
        cell {:model :hh
              :params {:c_m (chive.units/nF 0.2) :g_l (uS 0.01) :e_l (mV -60) :e_k (mV -90) :e_na (mV 50)
                       :g_na (uS 20) :g_kd (uS 6) :v_t (mV -63) :e_e (mV 0) :e_i (mV -80)
                       :tau_e (ms 5) :tau_i (ms 10) :v_spike (mV -20) :t_ref (ms 3)}
              :init {:v [:normal (mV -65) (mV 5)]
                     :ge [:normal (nS 40) (nS 15)]
                     :gi [:normal (nS 200) (nS 120)]}}
        conn {:rule :fixed-probability :p p :self? true}]
    {:dt (ms 0.1) :seed seed
     :groups {:exc (assoc cell :n ne) :inh (assoc cell :n ni)}
     :projections (into {} (for [[src target w] [[:exc :ge (nS 6)] [:inh :gi (nS 67)]]
                                 dst [:exc :inh]]
                             [(keyword (str (name src) "->" (name dst)))
                              {:from src :to dst :target target :connect conn :weight w}]))
     :monitors {:exc-spikes {:type :spikes :group :exc} :inh-spikes {:type :spikes :group :inh}}}))

(defn izhikevich-spec
  "N Izhikevich (2003) cells, 80 % regular spiking and 20 % fast spiking, each
  driven by its own constant input drawn uniformly in [3, 12]; no synapses, so
  this measures the neuron update alone (forward Euler, dt 0.1 ms).
  :model \"builtin\" (the Java model) or \"dsl\" (chive.models/izhikevich)."
  [{:keys [n seed model] :or {seed 1 model "builtin"}}]
  (let [ne (int (* 0.8 n)) ni (- n ne)
        dsl? (case model "builtin" false "dsl" true
                   (throw (ex-info (str "--model must be builtin or dsl, got " (pr-str model)) {:model model})))
        cell (fn [k a d]
               {:model (if dsl? @(requiring-resolve 'chive.models/izhikevich) :izhikevich)
                :n k
                :params {:a a :b 0.2 :c (mV -65) :d d}
                :init {:v (mV -65) :u -13.0 :i_ext [:uniform 3.0 12.0]}})]
    {:dt (ms 0.1) :seed seed
     :groups {:exc (cell ne 0.02 8.0) :inh (cell ni 0.1 2.0)}
     :monitors {:exc-spikes {:type :spikes :group :exc} :inh-spikes {:type :spikes :group :inh}}}))

(defn brunel-spec
  "Brunel's (2000) sparse network, model A: N = N_E + N_I delta-synapse LIF
  neurons (N_I = N_E/4), each receiving C_E = 0.1 N_E excitatory inputs of J
  and C_I = 0.1 N_I inhibitory inputs of -g J (fixed in-degree), delay D,
  and C_E external Poisson inputs of rate eta · nu_thr (nu_thr = theta /
  (J C_E tau)), all adding to v directly:
  tau dv/dt = -v; spike v > theta (20 mV); reset V_r (10 mV); refractory
  tau_rp (2 ms), v held and its input discarded meanwhile; tau 20 ms,
  J 0.1 mV, D 1.5 ms, dt 0.1 ms; v = 0 at the start.
  One group with two subgroups (:E, :I) and a Poisson input (:ext).
  :ce sets C_E (then C_I = C_E/4): a network smaller than Brunel's 12,500
  neurons keeps his C_E = 1000, so each neuron's input (mean and variance
  at a given rate) stays his, at a higher connection probability."
  [{:keys [n seed g eta ce] :or {n 5000 seed 1 g 5.0 eta 2.0}}]
  (let [ne (int (* 0.8 n)) ni (- n ne)
        _ (when (and ce (not (and (integer? ce) (<= 4 ce ne))))
            (throw (ex-info (str "brunel :ce must be a whole number from 4 to N_E = " ne ", got " (pr-str ce)) {:ce ce})))
        ci (int (if ce (Math/round (/ ce 4.0)) (Math/round (* 0.1 ni))))
        ce (int (or ce (Math/round (* 0.1 ne))))
        j 0.1 theta 20.0 tau 20.0
        nu-thr-hz (* 1000.0 (/ theta (* j ce tau)))]
    {:dt (ms 0.1) :seed seed
     :groups {:all {:model :lif :n n
                    :params {:tau_m (ms tau) :v_rest (mV 0) :v_th (mV theta) :v_reset (mV 10) :t_ref (ms 2)}
                    :init {:v (mV 0)}}}
     :subgroups {:E [:all 0 ne] :I [:all ne n]}
     :projections {:E->all {:from :E :to :all :target :v :connect {:rule :fixed-in-degree :k ce}
                            :weight (mV j) :delay (ms 1.5)}
                   :I->all {:from :I :to :all :target :v :connect {:rule :fixed-in-degree :k ci}
                            :weight (mV (- (* g j))) :delay (ms 1.5)}}
     :inputs {:ext {:to :all :target :v :n ce :rate (Hz (* eta nu-thr-hz)) :weight (mV j)}}
     :monitors {:spikes {:type :spikes :group :all}}}))

(def benches {"cuba" cuba-spec "cobahh" cobahh-spec "izhikevich" izhikevich-spec "brunel" brunel-spec})


(defn peak-heap-bytes
  "The sum of the heap memory pools' peak usage (since the JVM started or the
  last resetPeakUsage): the most heap the process has held, live or garbage."
  []
  (reduce + (for [^java.lang.management.MemoryPoolMXBean p (java.lang.management.ManagementFactory/getMemoryPoolMXBeans)
                  :when (= java.lang.management.MemoryType/HEAP (.getType p))]
              (.getUsed (.getPeakUsage p)))))

(defn measure
  "Builds and runs benchmark `bench-name`; returns the result map (JSON keys)."
  [bench-name {:keys [n duration-ms threads seed warmup] :as opts}]
  (let [spec-fn (or (benches bench-name)
                    (throw (ex-info (str "unknown benchmark " (pr-str bench-name) "; valid: " (sort (keys benches)))
                                    {:bench bench-name})))
        opts (assoc opts :duration-ms duration-ms)]
    (when warmup
      ;; One run is not always enough for C2 to finish optimising the kernels
      ;; (measured: the 2nd and 3rd runs after a single warm-up were still 2x
      ;; slow); warm up with up to 3 runs, until 2 s of warm-up wall time.
      (log (format "warm-up: %s, N = %d, %.0f ms, up to 3 runs" bench-name n duration-ms))
      (let [w (net/build (spec-fn opts))]
        (loop [k 0 wall 0.0]
          (when (and (< k 3) (or (zero? k) (< wall 2.0)))
            (let [r (net/run! w (ms duration-ms) :threads (or threads (net/default-threads w)) :progress false)]
              (recur (inc k) (+ wall (:wall-s r))))))))
    (System/gc)
    ;; peak_heap_bytes: the most heap in use from here to the end of the run
    ;; (the warm-up's networks were collected just above).
    (doseq [^java.lang.management.MemoryPoolMXBean p (java.lang.management.ManagementFactory/getMemoryPoolMXBeans)]
      (.resetPeakUsage p))
    (let [t0 (System/nanoTime)
          nw (net/build (spec-fn opts))
          build-s (/ (- (System/nanoTime) t0) 1e9)
          _ (log (format "built %s: N = %d, %d synapses in %.2f s" bench-name n (:synapses (net/summary nw)) build-s))
          threads (or threads (net/default-threads nw))
          r (net/run! nw (ms duration-ms) :threads threads)
          brunel? (= bench-name "brunel")
          spikes (if brunel?
                   (:count (net/spikes nw :spikes))
                   (+ (:count (net/spikes nw :exc-spikes)) (:count (net/spikes nw :inh-spikes))))
          summary (net/summary nw)]
      (merge
       (when brunel?
         ;; Statistics over [100 ms, end): the first 100 ms are the transient from v = 0.
         (let [{:keys [indices times-ms]} (net/spikes nw :spikes)
               t0 (min 100.0 (* 0.5 duration-ms))]
           {:g (:g opts 5.0) :eta (:eta opts 2.0) :window_ms [t0 duration-ms]
            :window_rate_hz (analysis/mean-rate-hz indices times-ms n t0 duration-ms)
            :mean_cv_isi (analysis/mean-cv-isi indices times-ms t0 duration-ms)
            :run_s_per_sim_s (/ (:wall-s r) (/ duration-ms 1000.0))}))
       {:bench bench-name :n n :synapses (:synapses summary) :duration_s (/ duration-ms 1000.0)
       :spikes spikes :mean_rate_hz (/ spikes (* n (/ duration-ms 1000.0)))
       :build_s build-s :run_s (:wall-s r) :threads threads :seed seed
       :model (or (:model opts) "builtin")
       ;; All projection memory (indices, weights, row pointers, delays, rings) per synapse.
       :bytes_per_synapse (double (/ (reduce + (map (fn [[_ p]] (:bytes p)) (:projections summary)))
                                     (max 1 (:synapses summary))))
       :network_bytes (:bytes summary)
       :peak_heap_bytes (peak-heap-bytes)
       :max_heap_bytes (.maxMemory (Runtime/getRuntime))
       ;; bin/chive's background JIT warm-up (chive.core.sim.JitWarmup): "not started"
       ;; (off, one processor, or a JVM started another way), "running", or why it ended.
       :jit_warmup (chive.core.sim.JitWarmup/status)
       :jdk (System/getProperty "java.version")}))))
