(ns chive.plot
  "Vega-Lite specifications as Clojure data, for the plots of this field:
  spike rasters, membrane traces, population rates, weight matrices (Diehl &
  Cook receptive fields as a grid of tiles), training curves, the STDP window,
  f-I curves. Every function returns a plain map (a Vega-Lite v5 spec) that a
  chive notebook renders, `to-json` serialises with Cheshire, and any
  Vega-Lite tool opens. Large inputs are reduced before they reach the
  browser, and the plot's subtitle says how (binned or sampled)."
  (:require [cheshire.core :as json]
            [chive.registry :as registry]
            [clojure.string :as str]))

(set! *warn-on-reflection* true)

(def schema "https://vega.github.io/schema/vega-lite/v5.json")

(defn spec? "Is `x` a Vega-Lite spec (as these functions make)?" [x]
  (and (map? x) (string? (:$schema x)) (.contains ^String (:$schema x) "vega-lite")))

(defn- base [title subtitle width height]
  (cond-> {:$schema schema :width width :height height}
    title (assoc :title (cond-> {:text title} subtitle (assoc :subtitle subtitle)))))

(defn to-json "The spec as a JSON string." [spec] (json/generate-string spec))

(def ^:private int-axis
  "Axis settings for indices and counts: whole-number ticks only."
  {:tickMinStep 1 :format "d"})

(defn raster
  "Spike raster from {:indices int[] :times-ms double[]} (chive.net/spikes).
  Up to :max-points spikes are drawn one tick each; beyond that the raster is
  binned into :bins-t × :bins-n cells coloured by spike count, and the
  subtitle says so."
  ([spikes] (raster spikes {}))
  ([{:keys [indices times-ms]} {:keys [title max-points bins-t bins-n width height t-max-ms n-max y-title]
                                :or {title "Spike raster" max-points 20000 bins-t 200 bins-n 100 width 600 height 260
                                     y-title "neuron index"}}]
   (let [^ints idx indices ^doubles ts times-ms
         n (alength idx)
         t-max (double (or t-max-ms (if (pos? n) (aget ts (dec n)) 1.0)))
         n-max (long (or n-max (inc (reduce max 0 (seq idx)))))]
     (if (<= n max-points)
       (merge (base title (format "%d spikes" n) width height)
              {:data {:values (mapv (fn [k] {:t (aget ts (int k)) :i (aget idx (int k))}) (range n))}
               :mark {:type "tick" :thickness (if (< n 2000) 2 1) :size (max 2 (min 12 (quot height (max 1 n-max))))
                      :orient "vertical"}
               :encoding {:x {:field "t" :type "quantitative" :title "time (ms)" :scale {:domain [0 t-max]}}
                          :y {:field "i" :type "quantitative" :title y-title :scale {:domain [0 n-max]} :axis int-axis}}})
       (let [bt (max 1 (int bins-t)) bn (max 1 (int (min bins-n n-max)))
             dt (/ (max t-max 1e-9) bt) dn (/ (double n-max) bn)
             counts (long-array (* bt bn))]
         (dotimes [k n]
           (let [a (min (dec bt) (int (/ (aget ts k) dt))) b (min (dec bn) (int (/ (aget idx k) dn)))]
             (aset counts (+ (* a bn) b) (inc (aget counts (+ (* a bn) b))))))
         (merge (base title (format "%d spikes, binned: %.3g ms x %.3g neurons per cell" n dt dn) width height)
                {:data {:values (vec (for [a (range bt) b (range bn) :let [c (aget counts (+ (* a bn) b))] :when (pos? c)]
                                       {:t0 (* a dt) :t1 (* (inc a) dt) :n0 (* b dn) :n1 (* (inc b) dn) :count c}))}
                 :mark "rect"
                 :encoding {:x {:field "t0" :type "quantitative" :title "time (ms)"} :x2 {:field "t1"}
                            :y {:field "n0" :type "quantitative" :title y-title :axis int-axis} :y2 {:field "n1"}
                            :color {:field "count" :type "quantitative" :scale {:scheme "greys"} :title "spikes per cell"}}}))))))

(defn- sampled [xs max-n]
  (let [n (count xs)]
    (if (<= n max-n) [xs 1] (let [step (long (Math/ceil (/ n (double max-n))))] [(take-nth step xs) step]))))

(defn traces
  "Membrane (or any state) traces: `times-ms` and a map {label values}.
  Accepts chive.net/trace output directly. More than :max-points samples per
  trace are thinned to every k-th, and the subtitle says so. :facet true
  draws one panel per trace instead of overlaying them."
  ([tr] (traces tr {}))
  ([tr {:keys [title y-title max-points width height facet] :or {max-points 4000 width 600 height 220}}]
   (let [[times series] (if (:values tr)
                          (let [vals (:values tr)]
                            [(vec (:times-ms tr))
                             (into (sorted-map)
                                   (map-indexed (fn [j nrn] [(str "neuron " nrn) (mapv #(java.lang.reflect.Array/getDouble % (int j)) vals)])
                                                (:neurons tr)))])
                          [(vec (:times-ms tr)) (:series tr)])
         [ts step] (sampled times max-points)
         rows (vec (for [[label ys] series
                         [t y] (map vector ts (first (sampled (vec ys) max-points)))]
                     {:t t :y (double y) :series (str label)}))]
     (let [layer {:mark {:type "line" :strokeWidth 1}
                  :encoding {:x {:field "t" :type "quantitative" :title "time (ms)"}
                             :y {:field "y" :type "quantitative"
                                 :title (or y-title (when-let [v (:var tr)] (str (name v) (when-let [u (:unit tr)] (when (not= u :1) (str " (" (name u) ")")))))
                                            "value")
                                 :scale {:zero false}}
                             :color {:field "series" :type "nominal" :title (if (:values tr) "recorded" nil) :sort nil}}}
           sub (when (> step 1) (format "every %d-th sample shown" step))]
       (if facet
         ;; one small panel per trace, stacked
         (merge (dissoc (base (or title "Traces") sub width height) :width :height)
                {:data {:values rows}
                 :facet {:row {:field "series" :type "nominal" :title nil}}
                 :spec (assoc layer :width width :height height)})
         (merge (base (or title "Traces") sub width height) {:data {:values rows}} layer))))))

(defn rates
  "Population rate from {:times-ms :rates-hz} (chive.net/rates), smoothed by a
  running mean over :window-ms."
  ([r] (rates r {}))
  ([{:keys [times-ms rates-hz]} {:keys [title window-ms width height] :or {window-ms 1.0 width 600 height 180}}]
   (let [^doubles ts times-ms ^doubles rs rates-hz n (alength ts)
         dt (if (> n 1) (- (aget ts 1) (aget ts 0)) 1.0)
         w (max 1 (long (Math/round (/ (double window-ms) dt))))
         bins (quot n w)
         rows (vec (for [b (range bins)]
                     {:t (aget ts (int (* b w)))
                      :rate (/ (reduce + (map #(aget rs (int %)) (range (* b w) (* (inc b) w)))) w)}))]
     (merge (base (or title "Population rate") (format "mean over %.3g ms bins" (* w dt)) width height)
            {:data {:values rows}
             :mark {:type "line" :strokeWidth 1}
             :encoding {:x {:field "t" :type "quantitative" :title "time (ms)"}
                        :y {:field "rate" :type "quantitative" :title "rate (Hz)"}}}))))

(defn matrix
  "A matrix (row-major float[]/double[] or vector of rows) as an image."
  ([m rows cols] (matrix m rows cols {}))
  ([m rows cols {:keys [title scheme width height x-title y-title value-title]
                 :or {scheme "viridis" width 300 height 300 x-title "column" y-title "row" value-title "value"}}]
   (let [v (vec (if (sequential? (first m)) (apply concat m) (seq m)))]
     (when-not (= (count v) (* rows cols))
       (throw (ex-info (str "matrix: " (count v) " values for " rows " x " cols) {:rows rows :cols cols})))
     (merge (base (or title "Matrix") nil width height)
            {:data {:values (vec (for [r (range rows) c (range cols)] {:r r :c c :v (double (v (+ (* r cols) c)))}))}
             :mark "rect"
             :encoding {:x {:field "c" :type "ordinal" :title x-title :axis {:labelOverlap true :labelAngle 0}}
                        :y {:field "r" :type "ordinal" :title y-title :axis {:labelOverlap true}}
                        :color {:field "v" :type "quantitative" :scale {:scheme scheme} :title value-title}}}))))

(defn receptive-fields
  "Diehl & Cook's learned weights as a grid of tiles: `w` is the input ->
  excitatory weight array, all-to-all, row-major by input (784 inputs x N
  neurons, chive.net/weights order). Shows the first :max-neurons neurons,
  :grid-cols tiles per row; tiles are :tile (28) pixels square."
  ([w n-neurons] (receptive-fields w n-neurons {}))
  ([w n-neurons {:keys [tile grid-cols max-neurons title px]
                 :or {tile 28 max-neurons 100 px 3}}]
   (let [^floats w w
         shown (min n-neurons max-neurons)
         gc (or grid-cols (long (Math/ceil (Math/sqrt shown))))
         gr (long (Math/ceil (/ shown (double gc))))
         inputs (* tile tile)]
     (when-not (= (alength w) (* inputs n-neurons))
       (throw (ex-info (str "receptive-fields: " (alength w) " weights for " inputs " inputs x " n-neurons " neurons") {})))
     (merge (base (or title "Receptive fields")
                  (format "%d of %d neurons, %dx%d tiles" shown n-neurons tile tile)
                  (* gc (inc tile) px) (* gr (inc tile) px))
            {:data {:values (vec (for [j (range shown) p (range inputs)
                                       :let [v (aget w (int (+ (* p n-neurons) j)))] :when (> v 0.01)]
                                   {:x (+ (* (mod j gc) (inc tile)) (mod p tile))
                                    :y (+ (* (quot j gc) (inc tile)) (quot p tile))
                                    :w (Math/round (* 1000.0 v))}))}
             :mark {:type "rect" :width px :height px}
             :encoding {:x {:field "x" :type "quantitative" :axis nil :scale {:domain [0 (* gc (inc tile))]}}
                        :y {:field "y" :type "quantitative" :axis nil :scale {:domain [0 (* gr (inc tile))] :reverse true}}
                        :color {:field "w" :type "quantitative" :scale {:scheme "greys"} :title "weight × 1000"}}}))))

(defn feature-maps
  "Feature maps of a convolutional layer, one small heat map per channel:
  `values` is one sample's [C H W] map, channel-major (float[]/double[] or a
  seq; for example a layer's spike counts summed over time, see
  chive.learn/feature-maps). Shows the first :max-channels (16), :columns (8)
  per row, :px pixels per unit; :value-title names the colour scale (default
  \"spikes\")."
  ([values shape] (feature-maps values shape {}))
  ([values [c h w :as shape] {:keys [title max-channels columns px value-title]
                              :or {max-channels 16 columns 8 px 4 value-title "spikes"}}]
   (let [v (vec (seq values))]
     (when-not (and (= 3 (count shape)) (every? pos-int? shape))
       (throw (ex-info (str "feature-maps: shape must be [C H W] of positive integers, got " (pr-str shape)) {:shape shape})))
     (when-not (= (count v) (* c h w))
       (throw (ex-info (str "feature-maps: " (count v) " values for shape " (pr-str shape) " (" (* c h w) " expected)") {:shape shape})))
     (let [shown (min c max-channels)]
       (cond-> {:$schema schema
                ;; Every unit, zeros too: a silent channel shows as a dark panel, not as a missing one.
                :data {:values (vec (for [ch (range shown) y (range h) x (range w)]
                                      {:channel ch :x x :x1 (inc x) :y y :y1 (inc y) :v (double (v (+ (* ch h w) (* y w) x)))}))}
                :facet {:field "channel" :type "ordinal" :title "channel" :sort {:field "channel"}}
                :columns (min columns shown)
                :spec {:width (* px w) :height (* px h)
                       :mark {:type "rect"}
                       :encoding {:x {:field "x" :type "quantitative" :scale {:domain [0 w]} :axis {:title "column" :tickMinStep 1 :format "d"}}
                                  :x2 {:field "x1"}
                                  :y {:field "y" :type "quantitative" :scale {:domain [0 h] :reverse true} :axis {:title "row" :tickMinStep 1 :format "d"}}
                                  :y2 {:field "y1"}
                                  :color {:field "v" :type "quantitative" :scale {:scheme "viridis"} :title value-title}}}}
         true (assoc :title {:text (or title "Feature maps")
                             :subtitle (format "%d of %d channels, %d x %d units each" shown c h w)}))))))

(def ^:private curve-names
  {:train-acc "training accuracy" :test-acc "test accuracy" :val-acc "validation accuracy"
   :train-loss "training loss (epoch mean)" :test-loss "test loss" :val-loss "validation loss"
   :loss "loss" :accuracy "accuracy" :lr "learning rate"})

(defn curves
  "Training curves from a history (maps per epoch, chive.learn/history): one
  line per key in `ks`, against :x (default :epoch, whole-number ticks).
  The y axis is titled from the keys (accuracy as a fraction, loss) unless
  :y-title is given; the legend names each curve."
  ([history ks] (curves history ks {}))
  ([history ks {:keys [x title width height y-title] :or {x :epoch width 420 height 220}}]
   (let [acc? (every? #(re-find #"acc" (name %)) ks)
         loss? (every? #(re-find #"loss" (name %)) ks)
         label #(get curve-names % (name %))]
     (merge (base (or title (cond acc? "Accuracy per epoch" loss? "Loss per epoch" :else "Training")) nil width height)
            {:data {:values (vec (for [h history k ks :when (number? (get h k))] {:x (get h x) :y (get h k) :series (label k)}))}
             :mark {:type "line" :point true}
             :encoding {:x (cond-> {:field "x" :type "quantitative" :title (get {:epoch "epoch" :batch "batch" :step "step"} x (name x))}
                             (#{:epoch :batch :step} x) (assoc :axis int-axis))
                        :y (cond-> {:field "y" :type "quantitative"
                                    :title (or y-title (cond acc? "accuracy (fraction correct)" loss? "loss" :else (str/join ", " (map label ks))))}
                             acc? (assoc :scale {:domain [0 1]}))
                        :color {:field "series" :type "nominal" :title "curve" :sort (mapv label ks)}}}))))

(defn stdp-window
  "The STDP window: weight change against pre - post spike time (ms).
  :w-unit names the weights' unit (the y axis: \"Δw (mV)\"); :theory
  {:a-plus :a-minus :tau-plus-ms :tau-minus-ms} adds the exponential window
  Δw = a+·exp(lag/τ+) for lag < 0, -a-·exp(-lag/τ-) for lag > 0 as a line
  under the measured points."
  ([lags-ms dws] (stdp-window lags-ms dws {}))
  ([lags-ms dws {:keys [title width height w-unit theory] :or {width 420 height 240}}]
   (let [y-title (str "Δw" (if w-unit (str " (" (name w-unit) ")") " (units of w)"))
         measured (mapv (fn [l d] {:lag (double l) :dw (double d) :what "measured"}) lags-ms dws)
         curve (when-let [{:keys [a-plus a-minus tau-plus-ms tau-minus-ms]} theory]
                 (let [lo (reduce min lags-ms) hi (reduce max lags-ms)]
                   (vec (for [k (range 401) :let [l (+ lo (* k (/ (- hi lo) 400.0)))] :when (not (zero? l))]
                          {:lag l :dw (if (neg? l) (* a-plus (Math/exp (/ l tau-plus-ms))) (- (* a-minus (Math/exp (- (/ l tau-minus-ms))))))
                           :what "theory (exponential window)" :side (if (neg? l) "pre first" "post first")}))))
         x {:field "lag" :type "quantitative" :title "t_pre - t_post (ms)"}
         y {:field "dw" :type "quantitative" :title y-title}
         color {:field "what" :type "nominal" :title nil}]
     (merge (base (or title "STDP window") "weight change after one pre/post pair" width height)
            {:data {:values (into measured curve)}
             :layer (cond-> [{:mark {:type "rule" :color "#bbb"} :encoding {:y {:datum 0}}}]
                      curve (conj {:transform [{:filter "datum.what != 'measured'"}]
                                   :mark {:type "line" :strokeDash [4 3] :color "#d62728"}
                                   :encoding {:x x :y y :detail {:field "side"} :color color}})
                      true (conj {:transform [{:filter "datum.what == 'measured'"}]
                                  :mark {:type "point" :filled true}
                                  :encoding {:x x :y y :color color}}))}))))

(defn fi-curves
  "f-I curves: `series` is {label [[current rate] ...]}, currents in nA
  unless :x-title says otherwise."
  ([series] (fi-curves series {}))
  ([series {:keys [title x-title width height] :or {x-title "input current (nA)" width 420 height 240}}]
   (merge (base (or title "f-I curves") nil width height)
          {:data {:values (vec (for [[label pts] series [i r] pts] {:i (double i) :rate (double r) :model (str label)}))}
           :mark {:type "line" :point true}
           :encoding {:x {:field "i" :type "quantitative" :title x-title}
                      :y {:field "rate" :type "quantitative" :title "rate (Hz)"}
                      :color {:field "model" :type "nominal" :title "model"}}})))

(defn- natural-key
  "Sorts numbers and whole-number strings (class labels) numerically, before other labels in their given order."
  [[i k]]
  (let [s (if (keyword? k) (name k) (str k))
        n (cond (number? k) (double k) (re-matches #"-?\d+(\.\d+)?" s) (parse-double s))]
    (if n [0 n i] [1 0 i])))

(defn bars
  "A bar chart of {label value}. Labels that are numbers or whole-number
  strings (classes) come in numeric order, others after them in the
  map's order. :x-title and :y-title name the axes (default \"label\" and
  \"value\": give the quantity and its unit)."
  ([m] (bars m {}))
  ([m {:keys [title x-title y-title width height] :or {width 360 height 200 x-title "label" y-title "value"}}]
   (let [ordered (map second (sort-by natural-key (map-indexed vector (keys m))))]
     (merge (base title nil width height)
            {:data {:values (vec (for [k ordered] {:k (str (if (keyword? k) (name k) k)) :v (double (get m k))}))}
             :mark "bar"
             :encoding {:x {:field "k" :type "nominal" :title x-title :sort nil :axis {:labelAngle 0}}
                        :y {:field "v" :type "quantitative" :title y-title}}}))))

(defn confusion
  "A confusion matrix as a heat map with counts: `truth` and `predicted`
  are sequences of class indices (a prediction of -1 or nil: no answer,
  shown as the column \"none\"). Classes in order 0..:classes-1 on both
  axes; :labels names them. Rows are true classes, columns predictions;
  each cell says how many samples."
  ([truth predicted] (confusion truth predicted {}))
  ([truth predicted {:keys [classes labels title width height scheme] :or {width 360 height 320 scheme "blues"}}]
   (when-not (= (count truth) (count predicted))
     (throw (ex-info (str "confusion: " (count truth) " true labels but " (count predicted) " predictions") {})))
   (let [k (long (or classes (inc (reduce max 0 (concat truth (remove nil? predicted))))))
         name-of (fn [c] (cond (or (nil? c) (neg? c)) "none" labels (str (nth labels c)) :else (str c)))
         counts (frequencies (map (fn [a b] [a (if (or (nil? b) (neg? b)) -1 b)]) truth predicted))
         none? (some (fn [[[_ b]]] (= -1 b)) counts)
         cols (cond-> (vec (range k)) none? (conj -1))
         hi (reduce max 1 (vals counts))
         cells (vec (for [a (range k) b cols :let [n (get counts [a b] 0)]]
                      {:truth (name-of a) :predicted (name-of b) :count n :light (< n (* 0.5 hi))}))
         correct (reduce + (map #(get counts [% %] 0) (range k)))]
     (merge (base (or title "Confusion matrix") (format "%d samples, %.1f %% correct" (count truth) (* 100.0 (/ correct (max 1.0 (count truth))))) width height)
            {:data {:values cells}
             :encoding {:x {:field "predicted" :type "ordinal" :title "predicted class" :sort (mapv name-of cols) :axis {:labelAngle 0}}
                        :y {:field "truth" :type "ordinal" :title "true class" :sort (mapv name-of (range k))}}
             :layer [{:mark "rect" :encoding {:color {:field "count" :type "quantitative" :title "samples" :scale {:scheme scheme}}}}
                     {:mark {:type "text" :fontSize 10}
                      :encoding {:text {:field "count" :type "quantitative"}
                                 :color {:condition {:test "datum.light" :value "black"} :value "white"}}}]}))))

(defn column
  "Several plots (specs these functions make) stacked in one figure, top to bottom."
  [specs]
  (let [specs (vec specs)]
    (when-not (and (seq specs) (every? spec? specs))
      (throw (ex-info (str "column: needs one or more Vega-Lite specs, got " (count specs) " values") {:count (count specs)})))
    {:$schema schema :vconcat (mapv #(dissoc % :$schema) specs)}))

(defn heatmap
  "A quantity over two parameters as coloured cells (a phase diagram):
  `rows` are maps (e.g. a sweep's results); :x, :y and :value name their
  keys. Rows at the same (x, y), such as seeds, are averaged and the cell
  says over how many; :labels true (default) writes each cell's mean.
  Titles: :x-title, :y-title, :value-title (quantity and unit)."
  [rows {:keys [x y value title subtitle x-title y-title value-title scheme width height labels fmt]
         :or {scheme "viridis" width 320 height 260 labels true fmt ".3~g"}}]
  (when-not (and (keyword? x) (keyword? y) (keyword? value))
    (throw (ex-info (str "heatmap: :x, :y and :value must be keys of the rows, got " (pr-str [x y value])) {:x x :y y :value value})))
  (let [ok (filter #(and (number? (get % x)) (number? (get % y)) (number? (get % value)) (Double/isFinite (double (get % value)))) rows)
        _ (when (empty? ok)
            (throw (ex-info (str "heatmap: no row has numbers at " (pr-str [x y value])) {:x x :y y :value value})))
        cells (for [[[xv yv] rs] (sort-by key (group-by (juxt #(double (get % x)) #(double (get % y))) ok))]
                {:x xv :y yv :v (/ (reduce + (map #(double (get % value)) rs)) (count rs)) :n (count rs)})
        lo (apply min (map :v cells)) hi (apply max (map :v cells))
        ;; text in black on the bright half of the scale, white on the dark half
        cells (map #(assoc % :light (> (:v %) (+ lo (* 0.5 (- hi lo))))) cells)
        ns (set (map :n cells))
        vt (or value-title (name value))]
    (merge (base (or title vt) (or subtitle (str "mean over " (if (= 1 (count ns)) (first ns) (str (apply min ns) "-" (apply max ns))) " run(s) per cell")) width height)
           {:data {:values (vec cells)}
            :encoding {:x {:field "x" :type "ordinal" :title (or x-title (name x)) :axis {:labelAngle 0}}
                       :y {:field "y" :type "ordinal" :title (or y-title (name y)) :sort "descending"}}
            :layer (cond-> [{:mark "rect"
                             :encoding {:color {:field "v" :type "quantitative" :title vt :scale {:scheme scheme}}
                                        :tooltip [{:field "x" :title (or x-title (name x))} {:field "y" :title (or y-title (name y))}
                                                  {:field "v" :title vt :format fmt} {:field "n" :title "runs"}]}}]
                     labels (conj {:mark {:type "text" :fontSize 10}
                                   :encoding {:text {:field "v" :type "quantitative" :format fmt}
                                              :color {:condition {:test "datum.light" :value "black"} :value "white"}}}))})))

;; ---------------------------------------------------------------- the plots, registered (chive.registry, kind :plot)

(doseq [v [#'raster #'traces #'rates #'matrix #'receptive-fields #'feature-maps #'curves #'stdp-window #'fi-curves #'bars #'confusion #'heatmap]]
  (registry/register! :plot (keyword (name (symbol v)))
                      {:doc (first (clojure.string/split-lines (str (:doc (meta v))))) :fn @v}))

(defn plots
  "The registered plots: {name first-line-of-doc}. Add one with
  (chive.registry/register! :plot :name {:doc \"...\" :fn f}), f returning a Vega-Lite map."
  []
  (get (registry/describe) :plot))

(defn plot
  "Makes registered plot `k` (see `plots`) from `args`: (plot :raster spikes) = (raster spikes)."
  [k & args]
  (apply (:fn (registry/lookup :plot k "plot")) args))
