(ns chive.viewer
  "How values look in a page: the viewers that notebooks (chive.notebook) and
  the live view (chive.view) share. A viewer is data,

    {:name   :my/thing            ; a keyword
     :pred   (fn [v] ...)         ; does it apply to this value?
     :render (fn [v] html-string) ; the HTML for it
     :doc    \"...\"}              ; optional

  kept in one ordered registry: `html` uses the first whose :pred accepts
  the value. `add-viewer!` puts yours before the built-in ones (or replaces
  the one with the same :name), so a value of your own type can look as you
  like in notebooks and the live view alike; `with-viewer` picks a viewer by
  name for one value; `md` marks a string as Markdown; `table` shows rows
  as a table.

  Built in, in order: with-viewer and Markdown wrappers, Vega-Lite specs
  (chive.plot: drawn by Vega-Embed) and vectors of them (side by side),
  images (BufferedImage), errors (class, message, ex-data, causes, the top
  of the stack), chive networks (chive.net/summary as tables), primitive
  arrays and arrays of them (shape, min, max, mean, NaN count, the first
  values and a histogram), sequences of maps (tables), maps (key/value
  tables, nested plots and arrays shown by their viewers), vars, strings,
  nil (nothing) and anything else (printed, shortened)."
  (:require [cheshire.core :as json]
            [chive.plot :as plot]
            [clojure.java.io :as io]
            [clojure.string :as str])
  (:import [org.commonmark.parser Parser]
           [org.commonmark.renderer.html HtmlRenderer]
           [org.commonmark.ext.gfm.tables TablesExtension]))

(set! *warn-on-reflection* true)

(defn esc "HTML-escapes the string of `s`." [s]
  (-> (str s) (str/replace "&" "&amp;") (str/replace "<" "&lt;") (str/replace ">" "&gt;") (str/replace "\"" "&quot;")))

(def ^:private md-ext [(TablesExtension/create)])
(def ^:private md-parser (-> (Parser/builder) (.extensions md-ext) (.build)))
(def ^:private md-renderer (-> (HtmlRenderer/builder) (.extensions md-ext) (.build)))
(defn markdown->html "CommonMark (with GFM tables) to HTML." [^String s]
  (.render ^HtmlRenderer md-renderer (.parse ^Parser md-parser s)))

(defn truncate "`s`, cut to `n` characters with an ellipsis." [^String s n]
  (if (> (count s) n) (str (subs s 0 n) " …") s))

;; ---------------------------------------------------------------- wrappers

(defn md "Shows `s` as Markdown." [s] {::markdown (str s)})
(defn with-viewer "Shows `v` with the viewer named `viewer-name`." [viewer-name v] {::viewer viewer-name ::value v})
(defn table "Shows `rows` (maps) as a table." [rows] (with-viewer :chive/table rows))

;; ---------------------------------------------------------------- the registry

(declare html)

(defonce ^{:doc "The ordered viewer registry (an atom of a vector of viewer maps). Change it with add-viewer! and remove-viewer!."}
  registry (atom []))

(defn- check-viewer! [v]
  (let [problem (cond (not (map? v)) (str "a viewer is a map {:name :pred :render}, got " (pr-str v))
                      (not (keyword? (:name v))) (str "a viewer's :name must be a keyword, got " (pr-str (:name v)))
                      (not (ifn? (:pred v))) (str "viewer " (:name v) ": :pred must be a function, got " (pr-str (:pred v)))
                      (not (ifn? (:render v))) (str "viewer " (:name v) ": :render must be a function, got " (pr-str (:render v))))]
    (when problem (throw (ex-info problem {:viewer v})))
    v))

(defn add-viewer!
  "Adds viewer `v` ({:name :pred :render}) before all others, or, when one
  with its :name exists, in that one's place. Returns the names in order."
  [v]
  (check-viewer! v)
  (mapv :name (swap! registry (fn [vs] (if (some #(= (:name v) (:name %)) vs)
                                          (mapv #(if (= (:name v) (:name %)) v %) vs)
                                          (into [v] vs))))))

(defn remove-viewer!
  "Removes the viewer named `viewer-name`; returns the names left."
  [viewer-name]
  (mapv :name (swap! registry (fn [vs] (filterv #(not= viewer-name (:name %)) vs)))))

(defn viewer-names "The viewers' names, in the order they are tried." [] (mapv :name @registry))

(defn viewer-for
  "The viewer `html` would use for `v`. A :pred that throws counts as
  false (one broken viewer does not stop every value from showing)."
  [v]
  (some #(when (try ((:pred %) v) (catch Exception _ false)) %) @registry))

;; ---------------------------------------------------------------- built-in renderers

(defn- fmt-num [x]
  (cond (float? x) (let [d (double x)] (if (or (Double/isNaN d) (Double/isInfinite d)) (str d) (format "%.4g" d)))
        :else (str x)))

(defn- cell
  "A table cell: plots, arrays and tables through their viewers, numbers
  formatted, anything else printed and shortened."
  [v depth]
  (cond
    (and (< depth 2) (or (plot/spec? v) (.isArray (class (or v ""))) (map? v)))
    (html v (inc depth))
    (float? v) (esc (fmt-num v))
    :else (esc (truncate (binding [*print-length* 20 *print-level* 3] (pr-str v)) 200))))

(defn- table-html [rows]
  (let [shown (take 200 rows)
        cols (vec (distinct (mapcat keys shown)))]
    (str "<table class=\"result\"><thead><tr>" (str/join (map #(str "<th>" (esc (if (keyword? %) (name %) %)) "</th>") cols)) "</tr></thead><tbody>"
         (str/join (for [r shown] (str "<tr>" (str/join (map #(str "<td>" (esc (truncate (let [v (get r %)] (if (float? v) (fmt-num v) (pr-str v))) 80)) "</td>") cols)) "</tr>")))
         "</tbody></table>"
         (when (> (count rows) 200) (str "<p class=\"note\">first 200 of " (count rows) " rows</p>")))))

(defn- map-html [m depth]
  (let [ks (take 100 (keys m))]
    (str "<table class=\"result map\"><tbody>"
         (str/join (for [k ks] (str "<tr><th>" (esc (if (keyword? k) (str k) (pr-str k))) "</th><td>" (cell (get m k) depth) "</td></tr>")))
         "</tbody></table>"
         (when (> (count m) 100) (str "<p class=\"note\">first 100 of " (count m) " keys</p>")))))

(defn- image-html [^java.awt.image.BufferedImage img]
  (let [out (java.io.ByteArrayOutputStream.)]
    (javax.imageio.ImageIO/write img "png" out)
    (str "<img class=\"result\" src=\"data:image/png;base64," (.encodeToString (java.util.Base64/getEncoder) (.toByteArray out)) "\">")))

(defn- spec-html [v]
  (str "<div class=\"vega\"></div><script type=\"application/json\" class=\"vega-spec\">"
       (str/replace (json/generate-string v) "</" "<\\/") "</script>"))

(defn- root-cause [^Throwable t]
  (loop [t t] (if-let [c (.getCause t)] (if (instance? clojure.lang.Compiler$CompilerException t) (recur c) t) t)))

(defn error-html
  "An error box: the root exception's class and message and ex-data; with
  `:detail` also the chain of causes and the top of the stack."
  ([t] (error-html t {}))
  ([^Throwable t {:keys [detail]}]
   (let [root (root-cause t)]
     (str "<div class=\"error\"><b>" (esc (.getSimpleName (class root))) "</b>: " (esc (.getMessage ^Throwable root))
          (when-let [d (ex-data root)] (str "<pre>" (esc (truncate (binding [*print-length* 20 *print-level* 4] (pr-str d)) 1000)) "</pre>"))
          (when detail
            (str "<details><summary>causes and stack</summary><pre>"
                 (esc (str/join "\n" (concat
                                      (for [^Throwable c (take-while some? (iterate #(.getCause ^Throwable %) t))]
                                        (str (.getName (class c)) ": " (.getMessage c)))
                                      ["" "at"]
                                      (map str (take 12 (.getStackTrace ^Throwable root))))))
                 "</pre></details>"))
          "</div>"))))

;; arrays

(defn- array-type [v]
  (let [c (class v)]
    (when (and c (.isArray ^Class c))
      (let [ct (.getComponentType ^Class c)]
        (cond (.isPrimitive ct) (str ct)
              (and (.isArray ct) (.isPrimitive (.getComponentType ct))) (str (.getComponentType ct) "[]"))))))

(defn- as-doubles
  "A primitive array's values as double[] (typed loops: no reflection or boxing per element)."
  ^doubles [a]
  (let [n (java.lang.reflect.Array/getLength a) out (double-array n)]
    (condp instance? a
      (Class/forName "[D") (System/arraycopy a 0 out 0 n)
      (Class/forName "[F") (let [^floats x a] (dotimes [i n] (aset out i (double (aget x i)))))
      (Class/forName "[I") (let [^ints x a] (dotimes [i n] (aset out i (double (aget x i)))))
      (Class/forName "[J") (let [^longs x a] (dotimes [i n] (aset out i (double (aget x i)))))
      (Class/forName "[S") (let [^shorts x a] (dotimes [i n] (aset out i (double (aget x i)))))
      (Class/forName "[B") (let [^bytes x a] (dotimes [i n] (aset out i (double (aget x i)))))
      (Class/forName "[C") (let [^chars x a] (dotimes [i n] (aset out i (double (int (aget x i))))))
      (Class/forName "[Z") (let [^booleans x a] (dotimes [i n] (aset out i (if (aget x i) 1.0 0.0)))))
    out))

(defn- array-summary [v]
  (let [rows (when (.isArray (.getComponentType (class v))) (vec v))
        parts (if rows (map as-doubles rows) [(as-doubles v)])
        shape (if rows [(count rows) (if (seq rows) (java.lang.reflect.Array/getLength (first rows)) 0)] [(java.lang.reflect.Array/getLength v)])
        total (reduce + (map #(alength ^doubles %) parts))
        stats (reduce (fn [[lo hi sum finite nan] ^doubles xs]
                        (loop [i 0 lo lo hi hi sum sum finite finite nan nan]
                          (if (= i (alength xs)) [lo hi sum finite nan]
                              (let [x (aget xs i)]
                                (cond (Double/isNaN x) (recur (inc i) lo hi sum finite (inc nan))
                                      (Double/isInfinite x) (recur (inc i) lo hi sum finite nan)
                                      :else (recur (inc i) (min lo x) (max hi x) (+ sum x) (inc finite) nan))))))
                      [Double/POSITIVE_INFINITY Double/NEGATIVE_INFINITY 0.0 0 0] parts)
        [lo hi sum finite nan] stats]
    {:type (array-type v) :shape shape :n total :min (when (pos? finite) lo) :max (when (pos? finite) hi)
     :mean (when (pos? finite) (/ sum finite)) :nan nan :parts parts}))

(defn- histogram [parts lo hi]
  (let [bins 20 w (/ (- hi lo) bins) counts (long-array bins)]
    (doseq [^doubles xs parts, i (range (alength xs))]
      (let [x (aget xs i)]
        (when-not (or (Double/isNaN x) (Double/isInfinite x))
          (let [b (min (dec bins) (int (/ (- x lo) w)))] (aset counts b (inc (aget counts b)))))))
    {:$schema plot/schema :width 320 :height 90
     :data {:values (vec (for [b (range bins)] {:lo (+ lo (* b w)) :hi (+ lo (* (inc b) w)) :count (aget counts b)}))}
     :mark "bar"
     :encoding {:x {:field "lo" :type "quantitative" :bin {:binned true} :title "value"} :x2 {:field "hi"}
                :y {:field "count" :type "quantitative" :title "elements"}}}))

(defn- array-html [v]
  (let [{:keys [type shape n min max mean nan parts]} (array-summary v)
        first-vals (take 10 (first parts))]
    (str "<div class=\"array\"><b>" (esc type) "</b> shape " (esc (pr-str shape))
         (if min
           (str ": min " (fmt-num min) ", max " (fmt-num max) ", mean " (fmt-num mean))
           (when (pos? n) ": no finite values"))
         (when (pos? nan) (str ", <b>" nan " NaN</b>"))
         (when (seq first-vals)
           (str "<pre class=\"result\">" (esc (str/join " " (map #(if (= type "boolean") (if (pos? %) "true" "false") (fmt-num (if (#{"float" "double"} type) % (long %)))) first-vals)))
                (when (> (count (first parts)) 10) " …") "</pre>"))
         (when (and min (>= n 10) (< min max)) (spec-html (histogram parts min max)))
         "</div>")))

;; networks

(defn- net? [v] (and (some? v) (= "chive.net.Net" (.getName (class v)))))

(defn- net-html [v]
  (let [{:keys [t-ms dt-ms seed groups projections synapses bytes]} ((requiring-resolve 'chive.net/summary) v)]
    (str "<div class=\"net\"><b>network</b> at t = " (fmt-num (double t-ms)) " ms, dt = " (fmt-num (double dt-ms)) " ms, seed " seed
         ", " (count groups) " groups, " synapses " synapses, " (format "%.1f MB" (/ bytes 1e6))
         (table-html (for [[k g] groups] {:group k :model (:model g) :neurons (:n g)}))
         (when (seq projections)
           (table-html (for [[k p] projections] {:projection k :from (:from p) :to (:to p) :target (:target p) :synapses (:synapses p)})))
         "</div>")))

(defn- rows? [v] (and (sequential? v) (seq v) (every? map? (take 50 v))))

(def built-in
  "The viewers chive ships, in the order they are tried."
  [{:name :chive/with-viewer :doc "(with-viewer name v): v shown by the named viewer"
    :pred #(and (map? %) (contains? % ::viewer))
    :render (fn [{name ::viewer v ::value}]
              (if-let [vw (some #(when (= name (:name %)) %) @registry)]
                ((:render vw) v)
                (throw (ex-info (str "no viewer named " name "; the viewers are " (viewer-names)) {:viewer name}))))}
   {:name :chive/markdown :doc "(md s): Markdown" :pred #(and (map? %) (contains? % ::markdown))
    :render #(str "<div class=\"prose\">" (markdown->html (::markdown %)) "</div>")}
   {:name :chive/plot :doc "Vega-Lite specs (chive.plot)" :pred plot/spec? :render spec-html}
   {:name :chive/plots :doc "vectors of Vega-Lite specs, side by side"
    :pred #(and (vector? %) (seq %) (every? plot/spec? %))
    :render #(str "<div class=\"row\">" (str/join (map spec-html %)) "</div>")}
   {:name :chive/image :doc "java.awt.image.BufferedImage, as PNG" :pred #(instance? java.awt.image.BufferedImage %) :render image-html}
   {:name :chive/error :doc "exceptions: message, ex-data, causes, stack" :pred #(instance? Throwable %)
    :render #(error-html % {:detail true})}
   {:name :chive/network :doc "chive.net networks: clock, groups, projections" :pred net? :render net-html}
   {:name :chive/array :doc "primitive arrays and arrays of them: shape, range, mean, NaN, histogram" :pred #(some? (array-type %)) :render array-html}
   {:name :chive/table :doc "sequences of maps, as a table" :pred rows? :render table-html}
   {:name :chive/map :doc "maps, as key/value tables" :pred map? :render #(map-html % 0)}
   {:name :chive/var :doc "vars" :pred var? :render #(str "<pre class=\"result var\">" (esc (str %)) "</pre>")}
   {:name :chive/string :doc "strings" :pred string? :render #(str "<pre class=\"result\">" (esc (truncate % 4000)) "</pre>")}
   {:name :chive/nil :doc "nil shows nothing" :pred nil? :render (constantly "")}
   {:name :chive/default :doc "anything else, printed" :pred (constantly true)
    :render #(str "<pre class=\"result\">" (esc (truncate (binding [*print-length* 20 *print-level* 4] (pr-str %)) 2000)) "</pre>")}])

(defn reset-viewers!
  "Back to the built-in viewers only."
  []
  (mapv :name (reset! registry built-in)))

(when (empty? @registry) (reset-viewers!))

(defn html
  "The HTML for value `v`, by the first viewer in the registry whose :pred
  accepts it. A viewer that throws is shown as an error naming it."
  ([v] (html v 0))
  ([v depth]
   (let [vw (viewer-for v)]
     (try
       (if (and (= :chive/map (:name vw)) (pos? depth))
         (map-html v depth)
         (str ((:render vw) v)))
       (catch Throwable t
         (when (instance? InterruptedException t) (throw t))
         (str "<div class=\"error\">viewer " (esc (:name vw)) " failed on a " (esc (.getName (class v))) ":</div>" (error-html t)))))))

;; ---------------------------------------------------------------- page parts shared by notebooks and the live view

(def js-libs
  "[file-name classpath-resource] of the scripts pages load."
  [["vega.min.js" "META-INF/resources/webjars/vega/5.32.0/vega.min.js"]
   ["vega-lite.min.js" "META-INF/resources/webjars/vega-lite/5.23.0/vega-lite.min.js"]
   ["vega-embed.min.js" "META-INF/resources/webjars/vega-embed/6.29.0/vega-embed.min.js"]])

(defn lib-resource [path]
  (or (io/resource path) (throw (ex-info (str path " is not on the classpath (org.webjars vega, vega-lite, vega-embed)") {:path path}))))

(def css
  "body{font:16px/1.55 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:900px;margin:2em auto;padding:0 1em;color:#222}
pre{background:#f6f6f4;padding:.6em .8em;overflow-x:auto;font-size:13px;border-radius:4px}
pre.code{border-left:3px solid #c8d8c0}pre.result{background:#fff;border:1px solid #eee}pre.out{background:#fafaf0;color:#555}
.error{background:#fff0f0;border:1px solid #e0a0a0;padding:.6em .8em;border-radius:4px;font-size:14px}
table.result{border-collapse:collapse;font-size:13px;margin:.5em 0}table.result td,table.result th{border:1px solid #ddd;padding:2px 6px;vertical-align:top}
table.map th{text-align:left;background:#f8f8f6;font-weight:500}
.prose table{border-collapse:collapse;margin:.5em 0}.prose td,.prose th{border:1px solid #ddd;padding:2px 8px}
.prose code{background:#f3f3f0;padding:0 .2em;border-radius:3px;font-size:90%}
.note{color:#888;font-size:12px;margin:0}.not-run{color:#8a6d00;background:#fffbe6;border:1px solid #e6d9a0;padding:.4em .8em;border-radius:4px;font-size:14px}.row{display:flex;flex-wrap:wrap;gap:1em}.vega{margin:.5em 0}
.array,.net{font-size:14px;margin:.3em 0}
section.item{border-top:1px solid #e4e4e0;padding:.4em 0 .6em}.meta{color:#888;font-size:12px}#status{font-size:12px;color:#888}
h1,h2,h3{font-weight:600}")

(def embed-js
  "Defines chiveEmbed(root): draws every Vega-Lite spec under root; then embeds the page's own."
  "window.__chiveViews=[];window.__chiveErrors=[];
function chiveEmbed(root){var specs=root.querySelectorAll('script.vega-spec');var ps=[];
specs.forEach(function(s){var el=s.previousElementSibling;
ps.push(vegaEmbed(el,JSON.parse(s.textContent),{actions:false,renderer:'svg'}).then(function(r){window.__chiveViews.push(r.view);})
.catch(function(e){window.__chiveErrors.push(String(e));console.error('vega-embed: '+e);}));});
return Promise.all(ps);}
window.__chiveDone=false;chiveEmbed(document).then(function(){window.__chiveDone=true;});")
