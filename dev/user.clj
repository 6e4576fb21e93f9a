(ns user
  "chive's REPL start. `bin/chive repl` (or `clojure -M:nrepl`) loads this
  file, so a fresh REPL has chive's namespaces under short names and the
  live view running (its URL is printed beside the nREPL port).

  Take the tour: put the cursor in a form inside a `comment` block below and
  evaluate it (CIDER: C-c C-e or C-c C-c; Calva: Alt+Enter / Ctrl+Enter).
  Every value you pass to `show!` or `tap>` appears in the live view page."
  (:require [chive.bench :as bench]
            [chive.learn :as learn]
            [chive.net :as net]
            [chive.plot :as plot]
            [chive.units :refer [ms mV Hz]]
            [chive.view :as view :refer [show!]]
            [chive.viewer :as viewer]))

(comment
  ;; ---- 1. CUBA (Vogels & Abbott 2005, Brian2's benchmark): 4,000 LIF neurons,
  ;; 2 % random connectivity. A network is described by a map; look at it first.
  (def spec (-> (bench/cuba-spec {:n 4000 :seed 1})
                (assoc-in [:monitors :exc-rate] {:type :rate :group :exc})))
  (:groups spec)
  (def n (net/build spec))
  (show! n)                                   ; groups, projections, synapses

  ;; ---- 2. Run 500 ms and look at the spikes.
  (net/run! n (ms 500))
  (show! (plot/raster (net/spikes n :exc-spikes) {:title "CUBA, excitatory neurons"}))
  (show! (plot/rates (net/rates n :exc-rate)))

  ;; ---- 3. Change a parameter of the running network and continue from where it is.
  (net/param n :exc :tau_m)                   ; a quantity with its unit
  (net/set-param! n :exc :tau_m (ms 25))
  (net/run! n (ms 500))                       ; the clock goes on: 500 -> 1000 ms
  (show! (plot/raster (net/spikes n :exc-spikes) {:title "after tau_m = 25 ms"}))
  (net/time-ms n)
  ;; A long run can be stopped with your editor's interrupt (CIDER: C-c C-b;
  ;; Calva: "Interrupt running evaluations"): it returns at a consistent
  ;; point and run! continues from there.

  ;; ---- 4. Anything else you evaluate can go to the view: maps, tables, arrays.
  (tap> {:t-ms (net/time-ms n) :synapses (:synapses (net/summary n))})
  (show! (net/state n :exc :v))               ; an array: shape, range, histogram
  (show! (viewer/md "**Note to self:** the network is asynchronous irregular at g = 4."))

  ;; ---- 5. Train a spiking network with surrogate gradients on Randman
  ;; (Zenke & Vogels 2021) and watch the curve grow after every epoch.
  (def data (learn/randman {:classes 2 :units 16 :steps 100 :samples 1000 :seed 42}))
  (def parts (learn/split-at-fraction data 0.8))
  (def m (learn/model {:inputs 16 :layers [{:n 32 :recurrent true} {:n 2 :recurrent true}]
                       :neuron learn/jax-seed-neuron
                       :loss {:type :spike-count :reduction :sum :scale 0.5}
                       :seed 42 :threads 2}))
  (learn/train! m (first parts)
                {:epochs 20 :batch 48 :optimizer {:type :sgd :lr 2e-2 :momentum 0.9}
                 :shuffle-seed 42 :test (second parts)
                 :on-epoch (fn [_] (show! (plot/curves (learn/history m) [:train-acc :test-acc]
                                                       {:title "Randman: accuracy per epoch"})))})
  (learn/evaluate m (second parts))

  ;; ---- 6. Your own viewer: any value of yours, drawn your way, here and in notebooks.
  (viewer/add-viewer! {:name :my/percent
                       :pred #(and (map? %) (contains? % :percent))
                       :render #(str "<h2>" (:percent %) " %</h2>")})
  (show! {:percent 97.5})
  (viewer/remove-viewer! :my/percent)

  ;; The view's address again, or start/stop it:
  (view/url)
  (view/clear!))
