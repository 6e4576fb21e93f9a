(ns chive.script
  "Experiment scripts that read like WheatNNLeek's Common Lisp training script.

      (network-clear!)
      (create-population! :input :poisson 784)
      (create-population! :excitatory :adaptive-lif 100 {:v_th (mV -52) ...})
      (create-population! :inhibitory :coba-lif 100 {...})
      (def stdp-ids (network-stdp-connect! :input :excitatory {:weight [:uniform 0.003 0.303] ...}))
      (network-static-connect! :excitatory :inhibitory 10.4 \"linear\" \"Excitatory\")
      (network-static-connect! :inhibitory :excitatory 17.0 \"all_to_all_except_diagonal\" \"Inhibitory\")
      (network-record-spikes! :excitatory)
      (loop-run-image-input [[image label] images]
        (network-set-static-poisson-freq! :input (map #(* % 0.25) image))
        (network-run! 350)
        (network-set-static-poisson-freq! :input 0)
        (network-run! 150))
      (network-get-conn-info (first stdp-ids))   ;=> {:source int[] :target int[] :weight float[]}
      (network-get-property :excitatory \"theta\")

  Every function takes the network as an optional first argument (a value from
  `new-network`); without it, it works on the current network (`*network*`,
  reset by `network-clear!`), handy at the REPL. Populations and connections
  accumulate as a chive.net map; the first run (or read of state) builds it.
  Times are ms and rates Hz when given as plain numbers, as in the CL script;
  quantities work too. Whole-population operations are one call.

  Names as in WheatNNLeek: connectors \"linear\" (one to one), \"all_to_all\",
  \"all_to_all_except_diagonal\", \"fixed_probability\", and every connector
  registered with chive.registry under its :script-names or its name in
  snake_case (see `connectors`); targets \"Excitatory\"
  (ge) and \"Inhibitory\" (gi); properties are parameter and state names such as
  \"fix_theta\" and \"theta\". An unknown name is an error listing the valid ones."
  (:require [chive.impl.validate :as v]
            [chive.net :as net]
            [chive.registry :as registry]
            [clojure.string :as str]
            [chive.units :as u]))

(set! *warn-on-reflection* true)

(defn new-network
  "A fresh script network (an atom of {:spec map :net built-or-nil}).
  Options: :dt (ms or a time, default 0.5), :seed (0), :threads (threads for
  every run; default: chive.net/default-threads)."
  ([] (new-network {}))
  ([{:keys [dt seed threads] :or {dt 0.5 seed 0} :as opts}]
   (v/kwargs! "new-network" opts [:dt :seed :threads])
   (when (some? threads) (v/int-in! [] ":threads" threads 1 1024))
   (atom {:spec {:dt (if (u/quantity? dt) dt (u/ms dt)) :seed seed :groups {} :projections {} :monitors {}}
          :threads threads
          :net nil})))

(def ^:dynamic *network*
  "The current script network, used when a function is called without one."
  (new-network))

(defn network-clear!
  "Starts the current network afresh with `opts` (as `new-network`: :dt in
  ms, :seed, :threads), or empties script network `nw` of its populations,
  connections and recordings, keeping its :dt, :seed and :threads."
  ([] (network-clear! {}))
  ([opts] (if (instance? clojure.lang.Atom opts)
            (swap! opts (fn [{:keys [spec threads]}]
                          (assoc @(new-network {:dt (:dt spec) :seed (:seed spec)}) :threads threads)))
            (alter-var-root #'*network* (constantly (new-network opts))))
   nil))

(defn- nw? [x] (instance? clojure.lang.Atom x))

(defmacro ^:private defscript
  "Defines f with an arity taking the network first and one using *network*."
  [name doc args & body]
  `(defn ~name ~doc
     (~args (~name *network* ~@(remove #{'&} args)))
     ([~'nw ~@args] ~@body)))

(defn- built
  "The built chive.net network of `nw`, building it on first use."
  [nw]
  (or (:net @nw)
      (let [n (net/build (:spec @nw))]
        (swap! nw assoc :net n)
        n)))

(defn- unbuilt! [nw what]
  (when (:net @nw)
    (throw (ex-info (str "cannot " what " after the network has run; call network-clear! and rebuild it")
                    {:what what}))))

(defn- ms [x] (if (u/quantity? x) x (u/ms x)))

(defn create-population!
  "Adds population `id` of `model` (a chive.net model keyword, such as
  :poisson, :lif, :adaptive-lif, :coba-lif, or a defneuron model) with `n`
  neurons and parameters `params` (quantities). Returns `id`."
  ([id model n] (create-population! *network* id model n {}))
  ([id model n params] (if (nw? id) (create-population! id model n params {}) (create-population! *network* id model n params)))
  ([nw id model n params]
   (unbuilt! nw "add a population")
   (when (get-in @nw [:spec :groups id])
     (throw (ex-info (str "population " id " already exists") {:population id})))
   (swap! nw assoc-in [:spec :groups id] {:model model :n n :params params})
   id))

(defn set-initial!
  "Initial state of population `id`: {var init-spec} as chive.net's :init."
  ([id init] (set-initial! *network* id init))
  ([nw id init]
   (unbuilt! nw "set initial state")
   (swap! nw update-in [:spec :groups id :init] merge init)
   id))

(defn connectors
  "Connector names (WheatNNLeek's) and the chive.net rules they stand for:
  every registered connector (chive.registry, kind :connector), under its
  :script-names, or else its name in snake_case (:fixed-in-degree ->
  \"fixed_in_degree\")."
  []
  (into (sorted-map)
        (for [[k e] (registry/entries-of :connector)
              nm (or (seq (:script-names e)) [(str/replace (name k) "-" "_")])]
          [nm k])))

(def targets
  "WheatNNLeek's synapse types and the state variable they increment."
  {"Excitatory" :ge "Inhibitory" :gi})

(defn- lookup [table kind v]
  (or (table v)
      (throw (ex-info (str "unknown " kind " " (pr-str v) "; valid: " (vec (sort (keys table))))
                      {kind v :valid (sort (keys table))}))))

(defn- connect! [nw pre post spec]
  (unbuilt! nw "connect populations")
  (doseq [p [pre post]]
    (when-not (get-in @nw [:spec :groups p])
      (throw (ex-info (str "no population " (pr-str p) "; populations: " (vec (keys (get-in @nw [:spec :groups]))))
                      {:population p}))))
  (let [id (keyword (str (name pre) "->" (name post) "-" (count (get-in @nw [:spec :projections]))))]
    (swap! nw assoc-in [:spec :projections id] (assoc spec :from pre :to post))
    id))

(defn network-static-connect!
  "Static synapses from `pre` to `post` with `weight` (a number in the target
  variable's unit, a quantity, or [:uniform lo hi]), `connector` (a name in
  `(connectors)`; its options, such as :p of \"fixed_probability\" or :k of
  \"fixed_in_degree\", go in `opts`) and `target` (\"Excitatory\" or
  \"Inhibitory\"). Options: the connector's, and :delay (ms). Returns the
  connection id."
  ([pre post weight connector target] (network-static-connect! *network* pre post weight connector target {}))
  ([a b c d e f] (if (nw? a)
                   (network-static-connect! a b c d e f {})
                   (network-static-connect! *network* a b c d e f)))
  ([nw pre post weight connector target {:keys [delay] :as opts}]
   (let [rule (lookup (connectors) "connector" connector)
         copts (dissoc opts :delay)]
     (connect! nw pre post (cond-> {:target (lookup targets "target" target)
                                    :connect (if (seq copts) (assoc copts :rule rule) rule)
                                    :weight weight}
                             delay (assoc :delay (ms delay)))))))

(defn network-stdp-connect!
  "All-to-all plastic synapses from `pre` to `post` onto ge, with the Diehl &
  Cook rule unless told otherwise. Options (paper values by default):
  :weight init (default [:uniform 0.003 0.303]), :tau-pre 20, :tau-post1 20,
  :tau-post2 40 (ms), :nu-pre 0.0001, :nu-post 0.01, :w-max 1.0, :delay (ms).
  Returns a vector of connection ids (one here), as WheatNNLeek's does."
  ([pre post] (network-stdp-connect! *network* pre post {}))
  ([a b c] (if (nw? a) (network-stdp-connect! a b c {}) (network-stdp-connect! *network* a b c)))
  ([nw pre post {:keys [weight tau-pre tau-post1 tau-post2 nu-pre nu-post w-max delay]
                 :or {weight [:uniform 0.003 0.303] tau-pre 20 tau-post1 20 tau-post2 40
                      nu-pre 0.0001 nu-post 0.01 w-max 1.0}}]
   [(connect! nw pre post (cond-> {:target :ge :connect :all-to-all :weight weight
                                   :plasticity {:rule :diehl-cook :tau_pre (ms tau-pre) :tau_post1 (ms tau-post1)
                                                :tau_post2 (ms tau-post2) :nu_pre nu-pre :nu_post nu-post :w_max w-max}}
                            delay (assoc :delay (ms delay))))]))

(defscript network-record-spikes!
  "Records the spikes of population `id` (monitor named after it)."
  [id]
  (unbuilt! nw "add a recording")
  (swap! nw assoc-in [:spec :monitors id] {:type :spikes :group id})
  id)

(defscript network-count-spikes!
  "Counts the spikes of population `id` per neuron (constant memory; read with
  `network-spike-counts`, zero with `network-reset-counts!`)."
  [id]
  (unbuilt! nw "add a recording")
  (swap! nw assoc-in [:spec :monitors (keyword (str (name id) "-counts"))] {:type :counts :group id})
  id)

(defscript network-spike-counts
  "Spike counts per neuron of population `id` since the last reset (int[])."
  [id]
  (net/spike-counts (built nw) (keyword (str (name id) "-counts"))))

(defscript network-reset-counts!
  "Zeroes the spike counts of population `id`."
  [id]
  (net/reset-counts! (built nw) (keyword (str (name id) "-counts")))
  id)

(defscript network-normalize!
  "Scales each target neuron's incoming weights of connection `id` to sum to `total`."
  [id total]
  (net/normalize! (built nw) id total)
  id)

(defscript network-set-learning!
  "Switches the plasticity of connection `id` on or off."
  [id on?]
  (net/set-learning! (built nw) id on?)
  id)

(defscript network-set-static-poisson-freq!
  "Sets the rates (Hz) of Poisson population `id`: one number or quantity for
  all, or one per neuron (any sequence or array). One call for the whole
  population."
  [id rates]
  (let [n (built nw)
        rates (cond (or (number? rates) (u/quantity? rates)) (if (u/quantity? rates) rates (u/Hz rates))
                    (instance? (Class/forName "[D") rates) rates ; Hz, straight to Java
                    :else (mapv #(if (u/quantity? %) % (u/Hz %)) rates))]
    (net/set-rates! n id rates)
    id))

(defn- property-key [nw id prop]
  (let [k (keyword prop)
        n (built nw)
        ^chive.core.sim.NeuronGroup g (get-in n [:groups id])]
    (when-not g
      (throw (ex-info (str "no population " (pr-str id) "; populations: " (vec (keys (:groups n)))) {:population id})))
    (cond (some #{(name k)} (.paramNames g)) [:param k]
          (.hasVar g (name k)) [:state k]
          :else (throw (ex-info (str "population " id " has no property " (pr-str prop) "; valid: "
                                     (vec (sort (concat (.paramNames g) (.varNames g)))))
                                {:population id :property prop})))))

(defscript network-set-property!
  "Sets parameter or state variable `prop` (a name, e.g. \"fix_theta\") of population `id` to `value`."
  [id prop value]
  (let [[kind k] (property-key nw id prop)
        n (built nw)]
    (if (= kind :param) (net/set-param! n id k value) (net/set-state! n id k value))
    id))

(defscript network-get-property
  "The value of parameter `prop` (a quantity or number) or the live array of
  state variable `prop` (e.g. \"theta\") of population `id`."
  [id prop]
  (let [[kind k] (property-key nw id prop)
        n (built nw)]
    (if (= kind :param) (net/param n id k) (net/state n id k))))

(defscript network-run!
  "Runs the network for `duration` (ms, or a time); builds it first if needed.
  The run completes even if the thread is interrupted meanwhile (the flag stays
  set): scripts check it between runs, as `loop-run-image-input` does, so a
  sample is never left half-presented."
  [duration]
  (if-let [t (:threads @nw)]
    (net/run! (built nw) (ms duration) :progress false :interruptible false :threads t)
    (net/run! (built nw) (ms duration) :progress false :interruptible false)))

(defscript network-get-conn-info
  "Connection `id` as {:source int[] :target int[] :weight float[]} (one entry per synapse)."
  [id]
  (let [{:keys [pre post weight]} (net/connections (built nw) id)]
    {:source pre :target post :weight weight}))

(defscript network-spikes
  "Spikes recorded for population `id`: {:indices :times-ms :count}."
  [id]
  (net/spikes (built nw) id))

(defscript network-built
  "The chive.net network behind the script (built now if it was not)."
  []
  (built nw))

(defmacro loop-run-image-input
  "Runs `body` once per element of `images`, binding it to `binding` (a
  destructuring form), as WheatNNLeek's loop-run-image-input: the body sets the
  input rates from the image and runs. Stops early, between images, when the
  thread is interrupted (nREPL's interrupt); returns the number of images run."
  [[binding images] & body]
  `(let [xs# ~images]
     (loop [s# (seq xs#) k# 0]
       (if (and s# (not (.isInterrupted (Thread/currentThread))))
         (let [~binding (first s#)]
           ~@body
           (recur (next s#) (inc k#)))
         k#))))

(defmacro with-open-data
  "Binds data sources as with-open does and closes them afterwards, whatever
  happens (the CL script's open/close-data)."
  [bindings & body]
  `(with-open ~bindings ~@body))
