(ns chive.extension-test
  "chive's extension points from outside the library: a new neuron model, a
  new connector, a new learning rule and a new monitor, each added here by
  its one registration (and, where it has a kernel, one Java class, compiled
  by this test), used together in one network that saves, loads and
  continues bit for bit. chive.script and the errors know the new names.
  Also: the round trip of every kind of state chive has (a defsynapse rule
  with per-synapse state, a spike generator, state and rate monitors in the
  middle of a recording, input in flight on delays, Poisson inputs)."
  (:require [clojure.test :refer [deftest is testing use-fixtures]]
            [chive.impl.javac :as javac]
            [chive.io :as cio]
            [chive.model :refer [defsynapse]]
            [chive.net :as net]
            [chive.registry :as registry]
            [chive.script :as s]
            [chive.units :refer [ms mV Hz]]
            [clojure.java.io :as io])
  (:import (chive.core.sim Connectivity NeuronGroup)
           (java.nio.file Files)
           (java.nio.file.attribute FileAttribute)))

;; ---------------------------------------------------------------- the four extensions

(def ^:private qif-source
  "A quadratic integrate-and-fire neuron (Ermentrout & Kopell's theta neuron
  in voltage form), forward Euler: tau_m dv/dt = (v - v_rest)(v - v_c)/delta + r_m i + ge."
  "package ext;
import chive.core.sim.NeuronGroup;
public final class Qif extends NeuronGroup {
  private final float[] v, ge;
  private double a, b;
  public Qif(String name, int n) {
    super(name, n);
    addParam(\"tau_m\", 10.0, \"ms\");
    addParam(\"tau_e\", 5.0, \"ms\");
    addParam(\"v_rest\", -65.0, \"mV\");
    addParam(\"v_c\", -50.0, \"mV\");
    addParam(\"delta\", 10.0, \"mV\");
    addParam(\"v_peak\", 0.0, \"mV\");
    addParam(\"v_reset\", -70.0, \"mV\");
    v = addVar(\"v\", -65f);
    ge = addVar(\"ge\", 0f);
    unit(\"v\", \"mV\");
    unit(\"ge\", \"mV\");
  }
  @Override public String model() { return \"QIF\"; }
  @Override protected void configure() { a = dt / positive(\"tau_m\"); b = Math.exp(-dt / positive(\"tau_e\")); }
  @Override protected int update(int from, int to, long step, int[] spikes) {
    double vr = param(\"v_rest\"), vc = param(\"v_c\"), d = param(\"delta\"), peak = param(\"v_peak\");
    int c = 0;
    for (int i = from; i < to; i++) {
      double x = v[i];
      x += a * ((x - vr) * (x - vc) / d + ge[i]);
      ge[i] = (float) (ge[i] * b);
      v[i] = (float) x;
      if (x > peak) spikes[c++] = i;
    }
    return c;
  }
  @Override protected void reset(int[] spikes, int count) {
    float r = (float) param(\"v_reset\");
    for (int k = 0; k < count; k++) v[spikes[k]] = r;
  }
}")

(def ^:private hebb-source
  "Each presynaptic spike adds eta to its synapses' weights (bounded by
  w_max) and counts, per synapse, how often it was used: per-synapse state."
  "package ext;
import chive.core.sim.*;
import java.util.Map;
public final class CountingHebb implements chive.core.plasticity.LearningRule {
  private final double eta, wMax;
  private volatile boolean learning = true;
  private Projection proj;
  private float[] uses = new float[0];
  public CountingHebb(double eta, double wMax) { this.eta = eta; this.wMax = wMax; }
  public boolean learning() { return learning; }
  public void setLearning(boolean on) { learning = on; }
  public void attach(Projection p) { proj = p; uses = new float[p.size()]; }
  public void bind(double dt) {}
  public void preStep(long step, int part) {}
  public void postStep(long step, int part) {
    NeuronGroup pre = proj.pre(), post = proj.post();
    int from = post.partitionFrom(part), to = post.partitionTo(part);
    int[] rowPtr = proj.rowPtr(), col = proj.postIndex();
    float[] w = proj.weights();
    for (int q = 0; q < pre.partitions(); q++) {
      int[] sp = pre.partitionSpikes(q);
      for (int k = 0, c = pre.partitionSpikeCount(q); k < c; k++) {
        int i = sp[k];
        for (int s = rowPtr[i]; s < rowPtr[i + 1]; s++) {
          int j = col[s];
          if (j < from || j >= to) continue;
          uses[s] += 1f;
          if (learning) w[s] = (float) Math.min(wMax, w[s] + eta);
        }
      }
    }
  }
  public long bytes() { return 4L * uses.length; }
  public Map<String, Object> config() { return State.map(\"eta\", eta, \"w_max\", wMax, \"learning\", learning); }
  public Map<String, Object> arrays() { return State.map(\"uses\", uses); }
  public void restore(Map<String, Object> saved) { State.restoreLive(\"counting-hebb\", arrays(), saved); }
}")

(def ^:private first-spike-source
  "The step of each neuron's first spike (-1: none yet)."
  "package ext;
import chive.core.sim.*;
import java.util.Map;
public final class FirstSpikeMonitor extends Monitor {
  private final long[] first;
  public FirstSpikeMonitor(NeuronGroup g, int lo, int hi) {
    super(g, lo, hi);
    first = new long[g.size()];
    java.util.Arrays.fill(first, -1L);
  }
  @Override protected void partition(int threads) {}
  @Override protected void atEnd(int p, long step) {
    int[] sp = group.partitionSpikes(p);
    for (int k = 0, c = group.partitionSpikeCount(p); k < c; k++) {
      int i = sp[k];
      if (i >= lo && i < hi && first[i] < 0) first[i] = step;
    }
  }
  public long[] first() { return first.clone(); }
  @Override public long bytes() { return 8L * first.length; }
  @Override public Map<String, Object> arrays() { return State.map(\"first\", first); }
  @Override public void restore(Map<String, Object> saved) { State.restoreLive(\"first-spike monitor\", arrays(), saved); }
}")

(def ^:private drive-source
  "Adds `amount` to the target variable of every neuron of its slice, every step."
  "package ext;
import chive.core.sim.*;
import java.util.Map;
public final class ConstantDrive extends Input {
  private final double amount;
  private float[] tgt;
  public ConstantDrive(String name, NeuronGroup g, String var, int from, int to, double amount) {
    super(\"constant\", name, g, var, from, to);
    this.amount = amount;
  }
  @Override protected void bind(double dt, int id, long seed) { tgt = target().var(var); }
  @Override protected void apply(int lo, int hi, long step) {
    for (int j = Math.max(lo, from); j < Math.min(hi, to); j++) tgt[j] += (float) amount;
  }
  @Override public Map<String, Object> config() { Map<String, Object> m = super.config(); m.put(\"amount\", amount); return m; }
  @Override public Map<String, Object> arrays() { return new java.util.LinkedHashMap<>(); }
  @Override public void restore(Map<String, Object> saved) { State.sameNames(toString(), arrays(), saved); }
}")

(defn- compile! [cls src] (javac/compile-class (str "ext." cls) src))

(defn- ctor [^Class c & types] (.getConstructor c (into-array Class types)))

(defn- register-extensions! []
  (let [qif (compile! "Qif" qif-source)
        hebb (compile! "CountingHebb" hebb-source)
        first-spike (compile! "FirstSpikeMonitor" first-spike-source)
        drive (compile! "ConstantDrive" drive-source)
        new-drive (ctor drive String NeuronGroup String Integer/TYPE Integer/TYPE Double/TYPE)
        new-qif (ctor qif String Integer/TYPE)
        new-hebb (ctor hebb Double/TYPE Double/TYPE)
        new-first (ctor first-spike NeuronGroup Integer/TYPE Integer/TYPE)]
    ;; 1. a neuron model: its Java class declares parameters, variables and units
    (registry/register! :model :qif
      (registry/java-model (fn [nm n] (.newInstance new-qif (object-array [nm (int n)]))) nil
                           {:doc "quadratic integrate-and-fire (test extension)"}))
    ;; 2. a connector: each neuron i to the k neurons after it on a ring
    (registry/register! :connector :ring
      {:doc "i -> i+1 .. i+k (mod n), between groups of one size (test extension)"
       :keys #{:k} :required [:k]
       :validate (fn [path c [plo phi] [qlo qhi]]
                   (chive.impl.validate/int-in! path ":k" (:k c) 1 (dec (- qhi qlo)))
                   (when-not (= (- phi plo) (- qhi qlo))
                     (chive.impl.validate/fail! path ":ring connects groups of one size" {})))
       :connect (fn [{:keys [k]} npre npost _]
                  (let [pairs (for [i (range npre) d (range 1 (inc k))] [i (mod (+ i d) npost)])]
                    (Connectivity/fromPairs npre npost (int-array (map first pairs)) (int-array (map second pairs)))))
       :expected (fn [{:keys [k]} npre _] (* 1.0 npre k))})
    ;; 3. a learning rule with per-synapse state
    (registry/register! :plasticity :counting-hebb
      {:doc "each pre spike adds :eta to its weights, up to :w_max; counts uses per synapse (test extension)"
       :keys #{:eta :w_max} :required [:eta :w_max]
       :build (fn [_ p _] (.newInstance new-hebb (object-array [(double (chive.units/internal (:eta p)))
                                                                 (double (chive.units/internal (:w_max p)))])))
       :load (fn [config] (.newInstance new-hebb (object-array [(double (config "eta")) (double (config "w_max"))])))})
    ;; 4. a monitor
    (registry/register! :monitor :first-spike
      {:doc "the step of each neuron's first spike (test extension)"
       :new (fn [g lo hi _ _] (.newInstance new-first (object-array [g (int lo) (int hi)])))
       :load (fn [g lo hi _] (.newInstance new-first (object-array [g (int lo) (int hi)])))})
    ;; 5. an input kind
    (registry/register! :input :constant
      {:doc "adds :amount to the target every step (test extension)"
       :keys #{:amount} :required [:amount]
       :validate (fn [path _ spec unit _] (chive.units/check :amount (:amount spec) unit))
       :new (fn [k g lo hi spec unit]
              (.newInstance new-drive (object-array [(name k) g (name (:target spec)) (int lo) (int hi)
                                                     (double (chive.units/check :amount (:amount spec) unit))])))
       :load (fn [nm g lo hi config]
               (.newInstance new-drive (object-array [nm g (config "target") (int lo) (int hi) (double (config "amount"))])))})))

(defn- unregister-extensions! []
  (registry/unregister! :model :qif)
  (registry/unregister! :connector :ring)
  (registry/unregister! :plasticity :counting-hebb)
  (registry/unregister! :monitor :first-spike)
  (registry/unregister! :input :constant))

(use-fixtures :once (fn [t] (register-extensions!) (try (t) (finally (unregister-extensions!)))))

(defn- tmp-dir []
  (let [d (.toFile (Files/createTempDirectory "chive-ext" (make-array FileAttribute 0)))]
    (.deleteOnExit d)
    (io/file d "save")))

(def ^:private ext-spec
  {:dt (ms 0.1) :seed 11
   :groups {:in {:model :poisson :n 40 :rate (Hz 40)}
            :q {:model :qif :n 40 :params {:tau_m (ms 10) :v_c (mV -58)} :init {:v [:uniform (mV -70) (mV -60)]}}}
   :projections {:in->q {:from :in :to :q :target :ge :connect {:rule :ring :k 3} :weight (mV 6)
                         :delay (ms 1.5)
                         :plasticity {:rule :counting-hebb :eta (mV 0.01) :w_max (mV 8)}}
                 :q->q {:from :q :to :q :target :ge :connect {:rule :ring :k 2} :weight (mV 1)}}
   :inputs {:drive {:type :constant :to [:q 0 20] :target :ge :amount (mV 0.02)}}
   :monitors {:first {:type :first-spike :group :q}
              :spikes {:type :spikes :group :q}}})

(defn- observe
  "Everything a continuation must reproduce, as comparable data."
  [n]
  {:t (net/time-ms n)
   :spikes (mapv vec (vals (select-keys (net/spikes n :spikes) [:indices :times-ms])))
   :v (vec (net/state n :q :v))
   :ge (vec (net/state n :q :ge))
   :w (vec (net/weights n :in->q))
   :uses (vec (get (net/recorded n :in->q) "uses"))
   :first (vec (get (net/recorded n :first) "first"))})

(deftest four-new-extensions-save-load-and-continue-bit-for-bit
  (let [whole (net/build ext-spec)
        _ (net/run! whole (ms 100) :progress false)
        half (net/build ext-spec)
        _ (net/run! half (ms 50) :progress false)
        dir (tmp-dir)
        _ (cio/save! half dir)
        loaded (cio/load dir)
        _ (net/run! loaded (ms 50) :progress false)
        a (observe whole)
        b (observe loaded)]
    (is (pos? (count (first (:spikes a)))) "the QIF neurons spike")
    (is (some pos? (:uses a)) "the rule counted uses")
    (is (some #(>= % 0) (:first a)) "the monitor recorded first spikes")
    (is (not= (vec (net/weights (net/build ext-spec) :in->q)) (:w a)) "the rule changed weights")
    (doseq [k (keys a)]
      (is (= (k a) (k b)) (str k ": continued after save/load = one run")))
    (testing "the kinds in network.json are the registered names"
      (let [txt (slurp (io/file dir "network.json"))]
        (doseq [k ["\"qif\"" "\"counting-hebb\"" "\"first-spike\"" "\"constant\""]]
          (is (.contains txt k) k))))
    (testing "loading needs the kinds registered, and says so"
      (registry/unregister! :monitor :first-spike)
      (try
        (is (thrown-with-msg? clojure.lang.ExceptionInfo #"kind \"first-spike\" is not a registered monitor; registered: .*register it before loading"
                              (cio/load dir)))
        (finally (register-extensions!))))))

(deftest the-new-names-are-known-everywhere
  (testing "errors list the registered names, with the nearest one"
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown model :qiff; did you mean :qif\?.*:qif"
                          (net/build (assoc-in ext-spec [:groups :q :model] :qiff))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown connection rule :rinng; did you mean :ring\?"
                          (net/build (assoc-in ext-spec [:projections :q->q :connect :rule] :rinng))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown plasticity rule :counting-heb; did you mean :counting-hebb\?"
                          (net/build (assoc-in ext-spec [:projections :in->q :plasticity :rule] :counting-heb))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown monitor type :first-spikes; did you mean :first-spike\?"
                          (net/build (assoc-in ext-spec [:monitors :first :type] :first-spikes))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown input type :constnt; did you mean :constant\?.*:poisson"
                          (net/build (assoc-in ext-spec [:inputs :drive :type] :constnt)))))
  (testing "each entry's own keys and checks apply"
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown key :kk in connection rule :ring; did you mean :k\?"
                          (net/build (assoc-in ext-spec [:projections :q->q :connect] {:rule :ring :kk 2}))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":k must be an integer in 1..39, got 40"
                          (net/build (assoc-in ext-spec [:projections :q->q :connect :k] 40))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"exc/tau_m: expected a time \(ms\), got a voltage"
                          (net/build (assoc-in ext-spec [:groups :exc] {:model :qif :n 2 :params {:tau_m (mV 1)}})))
        "units come from the Java class's declarations"))
  (testing "models, describe and chive.script"
    (is (= {:tau_m :ms :tau_e :ms :v_rest :mV :v_c :mV :delta :mV :v_peak :mV :v_reset :mV} (get-in (net/models) [:qif :params])))
    (is (= :ring (get (s/connectors) "ring")))
    (is (contains? (:plasticity (registry/describe)) :counting-hebb))
    (let [nw (s/new-network {:dt 0.1 :seed 3})]
      (s/create-population! nw :a :poisson 20)
      (s/create-population! nw :b :qif 20)
      (s/network-static-connect! nw :a :b (mV 3) "ring" "Excitatory" {:k 2})
      (s/network-run! nw 20)
      (is (= 40 (get-in (net/summary (:net @nw)) [:projections :a->b-0 :synapses]))))))

;; ---------------------------------------------------------------- every kind of state, mid-flight

(defsynapse eligibility-stdp
  "Pair STDP whose weight changes also accumulate in a per-synapse eligibility e."
  {:params {:tau_pre (ms 20) :tau_post (ms 20) :a_plus (mV 0.01) :a_minus (mV 0.012) :w_min (mV 0) :w_max (mV 3)}
   :weight (mV 1)
   :pre {:x 0.0} :post {:y 0.0} :synapse {:e (mV 0) :pairs 0.0}
   :equations {:x (- (/ x tau_pre)) :y (- (/ y tau_post))}
   :on-pre [[:x (+ x 1)] [:e (- e (* a_minus y))] [:pairs (+ pairs 1)] [:w (clip (- w (* a_minus y)) w_min w_max)]]
   :on-post [[:e (+ e (* a_plus x))] [:w (clip (+ w (* a_plus x)) w_min w_max)] [:y (+ y 1)]]})

(def ^:private state-spec
  {:dt (ms 0.1) :seed 5
   :groups {:gen {:model :spike-generator :n 5
                  :spikes {:indices [0 1 2 3 4 0 2 4 1 3] :times [(ms 2) (ms 5) (ms 9) (ms 14) (ms 20) (ms 33) (ms 41) (ms 48) (ms 52) (ms 77)]}}
            :in {:model :poisson :n 60 :rate (Hz 30)}
            :exc {:model :lif :n 50 :params {:v_rest (mV -49)} :init {:v [:uniform (mV -60) (mV -50)]}}}
   :projections {:in->exc {:from :in :to :exc :target :ge :connect {:rule :fixed-probability :p 0.2}
                           :weight (mV 0.3) :delay (ms 2)
                           :plasticity eligibility-stdp}
                 :gen->exc {:from :gen :to :exc :target :ge :connect :all-to-all :weight (mV 2)
                            ;; one delay per synapse, 0.5 .. 6.5 ms
                            :delay (vec (for [s (range 250)] (ms (* 0.5 (inc (mod s 13))))))}}
   :inputs {:bg {:to :exc :target :ge :n 20 :rate (Hz 10) :weight (mV 0.5)}}
   :monitors {:spikes {:type :spikes :group :exc}
              :v {:type :state :group :exc :var :v :neurons [0 7 21] :every (ms 0.5)}
              :rate {:type :rate :group [:exc 10 40]}
              :counts {:type :counts :group :exc}}})

(deftest every-kind-of-state-round-trips-mid-flight
  (let [spec state-spec
        whole (net/build spec)
        _ (net/run! whole (ms 120) :progress false)
        half (net/build spec)
        _ (net/run! half (ms 43.7) :progress false)
        ring-before (net/recorded half :gen->exc)
        dir (tmp-dir)
        _ (cio/save! half dir)
        loaded (cio/load dir)
        _ (net/run! loaded (ms 76.3) :progress false)
        seen (fn [n] {:spikes (mapv vec (vals (select-keys (net/spikes n :spikes) [:indices :times-ms])))
                      :trace (mapv vec (:values (net/trace n :v)))
                      :trace-t (vec (:times-ms (net/trace n :v)))
                      :rates (vec (:rates-hz (net/rates n :rate)))
                      :counts (vec (net/spike-counts n :counts))
                      :w (vec (net/weights n :in->exc))
                      :e (vec (get (net/recorded n :in->exc) "e"))
                      :pairs (vec (get (net/recorded n :in->exc) "pairs"))
                      :v (vec (net/state n :exc :v))})]
    (is (some pos? (get ring-before "ring")) "input was in flight on the delays when saved")
    (is (some pos? (get (net/recorded half :in->exc) "pairs")) "per-synapse state had changed when saved")
    (is (seq (:values (net/trace half :v))) "the state monitor had recorded when saved")
    (let [a (seen whole) b (seen loaded)]
      (is (= 240 (count (:trace a)) (count (:trace b))) "every 0.5 ms over 120 ms, nothing lost at the save")
      (doseq [k (keys a)]
        (is (= (k a) (k b)) (str k ": continued after save/load = one run"))))))

;; ---------------------------------------------------------------- a surrogate and a plot

(def ^:private exp-surrogate-source
  "A surrogate whose derivative is the Laplace density exp(-|x|/b)/(2b)."
  "package ext;
public final class ExpSurrogate extends chive.core.learn.Surrogate {
  public ExpSurrogate(double b) { super(\"exponential\", b); }
  @Override public double grad(double x) { return Math.exp(-Math.abs(x) / p) / (2 * p); }
  @Override public double smooth(double x) { return x < 0 ? 0.5 * Math.exp(x / p) : 1 - 0.5 * Math.exp(-x / p); }
}")

(deftest a-new-surrogate-and-plot-register-once
  (let [cls (compile! "ExpSurrogate" exp-surrogate-source)
        ctor (ctor cls Double/TYPE)]
    (registry/register! :surrogate :exponential
      {:doc "exp(-|x|/b)/(2b) (test extension)" :new (fn [b] (.newInstance ctor (object-array [(double b)])))})
    (registry/register! :plot :spike-count-bars
      {:doc "spike counts per neuron as bars (test extension)"
       :fn (fn [counts] {:mark "bar" :data {:values (vec (map-indexed (fn [i c] {:neuron i :count c}) counts))}})})
    (try
      (let [m ((requiring-resolve 'chive.learn/model)
               {:inputs 4 :layers [{:n 3 :surrogate [:exponential 0.5]} {:n 2 :readout true}]
                :neuron {:mem 0.9 :syn 0.8} :loss {:type :max-membrane} :seed 1})
            ^chive.core.learn.Layer l (first (.layers ^chive.core.learn.SpikingNet (:net m)))
            sg (.surrogate l)]
        (is (= "exponential" (.name sg)))
        (is (== (/ (Math/exp -0.4) 1.0) (.grad sg 0.2)) "the subclass's gradient is the one used")
        (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown surrogate :exponentail; did you mean :exponential\?"
                              ((requiring-resolve 'chive.learn/model)
                               {:inputs 4 :layers [{:n 3 :surrogate [:exponentail 0.5]}] :seed 1}))))
      (let [plot (requiring-resolve 'chive.plot/plot)
            plots (requiring-resolve 'chive.plot/plots)]
        (is (= "bar" (:mark (plot :spike-count-bars [3 1 4]))))
        (is (contains? (plots) :spike-count-bars))
        (is (contains? (plots) :raster) "the built-in plots are registered the same way"))
      (finally
        (registry/unregister! :surrogate :exponential)
        (registry/unregister! :plot :spike-count-bars)))))
