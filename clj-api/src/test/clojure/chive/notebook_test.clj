(ns chive.notebook-test
  "Notebooks: parsing, the dependency-keyed cache, errors in place, plots;
  every notebook in notebooks/ rendered and opened in headless Chromium
  (views drawn, no console errors, screenshots under target/); serve's live
  update of an open page."
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [chive.cdp :as cdp]
            [chive.notebook :as nb]
            [chive.plot :as plot])
  (:import (java.io File)))

(defn- tmp-dir [] (doto (File/createTempFile "chive-nb" "") .delete .mkdirs))

(def src
  ";; # Title\n;;\n;; Prose *here*.\n\n(ns nbtest.one)\n\n(def a (do (swap! @(requiring-resolve 'chive.notebook-test/runs) conj :a) 1))\n\n;; more prose\n(def b (do (swap! @(requiring-resolve 'chive.notebook-test/runs) conj :b) (+ a 1)))\n\n(do (swap! @(requiring-resolve 'chive.notebook-test/runs) conj :c) 42)\n")

(def runs (atom []))

(deftest parses-prose-and-forms
  (let [blocks (nb/parse src)]
    (is (= [:prose :code :code :prose :code :code] (map :type blocks)))
    (is (= "# Title\n\nProse *here*." (:text (first blocks))))
    (is (= "(ns nbtest.one)" (:text (second blocks))))
    (is (= 5 (:line (second blocks))))
    (is (str/starts-with? (:text (nth blocks 4)) "(def b"))
    (is (str/includes? (nb/markdown->html "| a | b |\n|---|---|\n| 1 | 2 |") "<table>") "GitHub tables")))

(deftest cache-reruns-a-form-when-its-text-or-a-dependency-changes
  (reset! runs [])
  (let [r1 (nb/evaluate (nb/parse src) {})]
    (is (= [:a :b :c] @runs))
    (is (= 4 (:ran r1)))
    (testing "editing prose re-runs nothing"
      (reset! runs [])
      (let [r (nb/evaluate (nb/parse (str/replace src "more prose" "other words")) {})]
        (is (= [] @runs))
        (is (= 0 (:ran r)))
        (is (str/includes? (:html (nth (:blocks r) 5)) "42") "cached results are still shown")))
    (testing "changing a re-runs a and b (which reads a), not the independent form"
      (reset! runs [])
      (nb/evaluate (nb/parse (str/replace src ":a) 1))" ":a) 10))")) {})
      (is (= [:a :b] @runs))
      (is (= 11 @(resolve 'nbtest.one/b))))
    (testing "the size setting is part of the key"
      (reset! runs [])
      (nb/evaluate (nb/parse src) {:full true})
      (is (= [:a :b :c] @runs)))))

(deftest identical-forms-in-two-notebooks-run-in-their-own-namespaces
  (let [nb1 "(ns nbtest.x1)\n(def shared-name 5)\n(def only-here (inc shared-name))\n"
        nb2 "(ns nbtest.x2)\n(def shared-name 5)\n(def only-here (* 2 shared-name))\n"]
    (nb/evaluate (nb/parse nb1) {})
    (nb/evaluate (nb/parse nb2) {})
    (is (= 6 @(resolve 'nbtest.x1/only-here)))
    (is (= 10 @(resolve 'nbtest.x2/only-here)) "the second notebook's forms ran in its namespace, not the first's")
    (is (= 5 @(resolve 'nbtest.x2/shared-name)))))

(deftest a-throwing-form-shows-its-error-in-place
  (let [r (nb/evaluate (nb/parse "(ns nbtest.two)\n(/ 1 0)\n(throw (ex-info \"bad thing\" {:value 7}))\n(+ 40 2)\n") {:use-cache false})
        htmls (map :html (:blocks r))]
    (is (str/includes? (nth htmls 1) "ArithmeticException"))
    (is (str/includes? (nth htmls 2) "bad thing"))
    (is (str/includes? (nth htmls 2) ":value 7"))
    (is (str/includes? (nth htmls 3) "42") "forms after the errors still run")))

(def ^:private trust-src
  (str "(ns nbtest.trust)\n"
       "(def base (do (swap! @(requiring-resolve 'chive.notebook-test/runs) conj :base) 20))\n"
       "(def twice (* 2 base))\n"
       "(def ^:show shown (+ twice 1))\n"
       "(str \"value \" shown \" and \" base)\n"
       "(+ 1000 1)\n"))

(deftest a-failed-form-stops-its-dependents-and-a-syntax-error-shows-its-position
  (reset! runs [])
  (let [htmls #(mapv :html (:blocks %))
        good (nb/evaluate (nb/parse trust-src) {})]
    (is (= 0 (:failed good)))
    (is (= "" (nth (htmls good) 1)) "a def shows nothing")
    (is (= "" (nth (htmls good) 2)))
    (is (str/includes? (nth (htmls good) 3) "41") "a def with ^:show shows its value")
    (is (str/includes? (nth (htmls good) 4) "value 41 and 20"))
    (is (str/includes? (nth (htmls good) 5) "1001"))
    (testing "form 2 throws: forms 3-5 that depend on it say so instead of showing their old (cached) values; form 6 runs"
      (let [r (nb/evaluate (nb/parse (str/replace trust-src ":base) 20)" ":base) (throw (ex-info \"no data\" {:file \"x.npy\"})))")) {})
            h (htmls r)]
        (is (= 1 (:failed r)))
        (is (str/includes? (nth h 1) "no data"))
        (doseq [i [2 3 4]]
          (is (str/includes? (nth h i) "not run: depends on failed form 2 (line 2)") (str "form " (inc i) ": " (nth h i)))
          (is (not (str/includes? (nth h i) "41")) (str "form " (inc i) " shows no stale value")))
        (is (str/includes? (nth h 5) "1001") "an independent form still shows its value")
        (is (str/includes? (nth h 5) "cached result") "and is marked as cached")))
    (testing "a syntax error renders with its line and column; the forms above it still render"
      (let [r (nb/evaluate (nb/parse (str/replace trust-src "(+ 1000 1)" "(+ 1000 1]")) {})
            h (htmls r)]
        (is (= 1 (:failed r)))
        (is (re-find #"Syntax error</b> at line 6, column \d+" (last h)) (last h))
        (is (str/includes? (nth h 4) "value 41 and 20"))))
    (testing "fixed: everything renders again"
      (reset! runs [])
      (let [r (nb/evaluate (nb/parse (str/replace trust-src "20))" "20 ))")) {})
            h (htmls r)]
        (is (= 0 (:failed r)))
        (is (= [:base] @runs) "the changed form ran again")
        (is (str/includes? (nth h 3) "41"))
        (is (str/includes? (nth h 4) "value 41 and 20"))))))

(deftest plots-are-vega-lite-data
  (let [small {:indices (int-array [0 1 2]) :times-ms (double-array [1 2 3])}
        n 50000
        big {:indices (int-array (map #(mod % 1000) (range n))) :times-ms (double-array (map #(* 0.01 %) (range n)))}]
    (is (plot/spec? (plot/raster small)))
    (is (= "tick" (get-in (plot/raster small) [:mark :type])))
    (is (= "rect" (:mark (plot/raster big))) "large recordings are binned")
    (is (str/includes? (get-in (plot/raster big) [:title :subtitle]) "binned"))
    (is (str/includes? (get-in (plot/traces {:times-ms (range 10000) :series {"v" (range 10000)}}) [:title :subtitle]) "every 3-th"))
    (let [w (float-array (* 784 4) 0.5)]
      (is (= (* 784 4) (count (get-in (plot/receptive-fields w 4) [:data :values])))))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #"9 weights for 784 inputs"
                          (plot/receptive-fields (float-array 9) 1)))
    (is (str/starts-with? (plot/to-json (plot/curves [{:epoch 1 :loss 2.0}] [:loss])) "{"))
    (testing "heatmap: seeds averaged per cell, axes and colour titled with quantity and unit"
      (let [rows [{:g 3.0 :eta 1.0 :seed 1 :rate-hz 10.0} {:g 3.0 :eta 1.0 :seed 2 :rate-hz 20.0}
                  {:g 4.0 :eta 1.0 :seed 1 :rate-hz 5.0} {:g 4.0 :eta 1.0 :seed 2 :rate-hz 7.0}
                  {:g 4.0 :eta 2.0 :seed 1 :rate-hz ##NaN}]
            h (plot/heatmap rows {:x :g :y :eta :value :rate-hz :x-title "g" :y-title "η" :value-title "rate (Hz)"})]
        (is (plot/spec? h))
        (is (= [{:x 3.0 :y 1.0 :v 15.0 :n 2} {:x 4.0 :y 1.0 :v 6.0 :n 2}] (map #(dissoc % :light) (get-in h [:data :values])))
            "cells are means over their rows; a NaN value is left out")
        (is (= ["g" "η"] [(get-in h [:encoding :x :title]) (get-in h [:encoding :y :title])]))
        (is (= "rate (Hz)" (get-in h [:layer 0 :encoding :color :title])))
        (is (str/includes? (get-in h [:title :subtitle]) "2 run(s) per cell"))
        (is (thrown-with-msg? clojure.lang.ExceptionInfo #"no row has numbers at \[:g :eta :cv\]"
                              (plot/heatmap rows {:x :g :y :eta :value :cv})))
        (is (= 2 (count (:vconcat (plot/column [h h])))))
        (is (thrown-with-msg? clojure.lang.ExceptionInfo #"column: needs one or more Vega-Lite specs" (plot/column [{:a 1}])))))))

(defn- chromium-or-skip []
  (or (cdp/chromium-path)
      (do (is (not (System/getenv "CHIVE_REQUIRE_CHROMIUM")) "CHIVE_REQUIRE_CHROMIUM is set but Chromium is not installed")
          (println "chive.notebook-test: Chromium not installed (bin/chive setup installs it); browser checks skipped")
          nil)))

(def view-check
  "JSON.stringify({done: window.__chiveDone, views: window.__chiveViews.length,
    containers: document.querySelectorAll('.vega').length,
    marks: Array.from(document.querySelectorAll('.vega')).map(function(el){
      return el.querySelectorAll('svg g[class*=\"mark-\"] path, svg g[class*=\"mark-\"] line, svg g[class*=\"mark-\"] rect').length;}),
    errors: window.__chiveErrors, errorBlocks: document.querySelectorAll('.error').length})")

(defn- serve-static [^File root]
  (let [server (com.sun.net.httpserver.HttpServer/create (java.net.InetSocketAddress. "127.0.0.1" 0) 0)]
    (.createContext server "/"
                    (reify com.sun.net.httpserver.HttpHandler
                      (handle [_ ex]
                        (let [f (io/file root (subs (.getPath (.getRequestURI ex)) 1))
                              f (if (.isDirectory f) (io/file f "index.html") f)]
                          (if (.isFile f)
                            (let [bytes (java.nio.file.Files/readAllBytes (.toPath f))]
                              (.add (.getResponseHeaders ex) "Content-Type"
                                    (cond (str/ends-with? (.getName f) ".js") "application/javascript" :else "text/html; charset=utf-8"))
                              (.sendResponseHeaders ex 200 (alength bytes))
                              (with-open [o (.getResponseBody ex)] (.write o bytes)))
                            (do (.sendResponseHeaders ex 404 -1) (.close ex)))))))
    (.start server)
    server))

(defn- untitled-axes
  "Paths to x/y encodings in `spec` (layers, facets, concatenations
  included) that plot a field but have no axis title and are not hidden."
  ([spec] (untitled-axes spec []))
  ([spec path]
   (concat
    (for [ch [:x :y]
          :let [e (get-in spec [:encoding ch])]
          :when (and (:field e) (not (contains? e :axis)) (not (string? (:title e))))]
      (conj path :encoding ch))
    (for [ch [:x :y]
          :let [e (get-in spec [:encoding ch])]
          :when (and (:field e) (map? (:axis e)) (not (string? (:title e))) (not (string? (get-in e [:axis :title]))))]
      (conj path :encoding ch))
    (mapcat (fn [k] (when (sequential? (get spec k)) (mapcat #(untitled-axes %1 (conj path k %2)) (get spec k) (range))))
            [:layer :vconcat :hconcat])
    (when (map? (:spec spec)) (untitled-axes (:spec spec) (conj path :spec))))))

(defn- titles [spec]
  (set (filter string? (map :title (filter map? (tree-seq coll? seq spec))))))

(deftest every-plot-type-titles-its-axes-with-quantities-and-units
  (let [spikes {:indices (int-array [0 3 1 2]) :times-ms (double-array [1.0 2.0 3.0 4.0])}
        big {:indices (int-array (map #(mod % 1000) (range 30000))) :times-ms (double-array (map #(* 0.01 %) (range 30000)))}
        tr {:var :v :unit :mV :neurons [0 4] :times-ms (double-array [0 1 2]) :values [(float-array [1 2]) (float-array [2 3]) (float-array [3 4])]}
        history [{:epoch 1 :train-acc 0.5 :test-acc 0.6 :train-loss 1.2} {:epoch 2 :train-acc 0.7 :test-acc 0.75 :train-loss 0.8}]
        specs {:raster (plot/raster spikes) :raster-binned (plot/raster big)
               :traces (plot/traces tr) :rates (plot/rates {:times-ms (double-array [0 1 2 3]) :rates-hz (double-array [1 2 3 4])})
               :matrix (plot/matrix (float-array 6) 2 3) :feature-maps (plot/feature-maps (float-array 8) [2 2 2])
               :curves-acc (plot/curves history [:train-acc :test-acc]) :curves-loss (plot/curves history [:train-loss])
               :stdp (plot/stdp-window [-10 10] [0.01 -0.01] {:w-unit "mV" :theory {:a-plus 0.01 :a-minus 0.0105 :tau-plus-ms 16.8 :tau-minus-ms 33.7}})
               :fi (plot/fi-curves {"LIF" [[0.5 0] [1.0 20]]}) :bars (plot/bars {"2" 1 "10" 3 "1" 2 "none" 4})
               :confusion (plot/confusion [0 1 2 2] [0 2 2 -1]) :heatmap (plot/heatmap [{:g 1 :eta 2 :r 3}] {:x :g :y :eta :value :r})}]
    (doseq [[k sp] specs]
      (is (plot/spec? sp) (name k))
      (is (empty? (untitled-axes sp)) (str (name k) ": axes without a title at " (vec (untitled-axes sp))))
      (is (= k (keyword (name k))) "names"))
    (testing "units on physical quantities"
      (is (contains? (titles (:raster specs)) "time (ms)"))
      (is (contains? (titles (:rates specs)) "rate (Hz)"))
      (is (contains? (titles (:traces specs)) "v (mV)") "the trace's unit from the model")
      (is (contains? (titles (:stdp specs)) "Δw (mV)"))
      (is (contains? (titles (:stdp specs)) "t_pre - t_post (ms)"))
      (is (contains? (titles (:fi specs)) "input current (nA)"))
      (is (contains? (titles (:curves-acc specs)) "accuracy (fraction correct)")))
    (testing "legends name what is plotted"
      (is (= #{"neuron 0" "neuron 4"} (set (map :series (get-in (:traces specs) [:data :values])))) "not \"v 0/v 1\"")
      (is (= "recorded" (get-in (:traces specs) [:encoding :color :title])))
      (is (= #{"training accuracy" "test accuracy"} (set (map :series (get-in (:curves-acc specs) [:data :values])))))
      (is (= "Loss per epoch" (get-in (:curves-loss specs) [:title :text])) "per-epoch curves are titled per epoch"))
    (testing "indices get whole-number ticks"
      (is (= "d" (get-in (:raster specs) [:encoding :y :axis :format])))
      (is (= "d" (get-in (:raster-binned specs) [:encoding :y :axis :format])))
      (is (= "d" (get-in (:curves-acc specs) [:encoding :x :axis :format]))))
    (testing "classes in class order; the confusion matrix counts"
      (is (= ["1" "2" "10" "none"] (map :k (get-in (:bars specs) [:data :values]))))
      (let [c (:confusion specs)]
        (is (= ["0" "1" "2"] (get-in c [:encoding :y :sort])))
        (is (= ["0" "1" "2" "none"] (get-in c [:encoding :x :sort])) "no answer is its own column")
        (is (= 1 (:count (first (filter #(and (= "2" (:truth %)) (= "none" (:predicted %))) (get-in c [:data :values]))))))
        (is (= "text" (get-in c [:layer 1 :mark :type])) "each cell shows its count")
        (is (str/includes? (get-in c [:title :subtitle]) "50.0 % correct"))))
    (testing "the STDP window draws its theoretical curve"
      (is (some #(= "theory (exponential window)" (:what %)) (get-in (:stdp specs) [:data :values])))
      (let [th (filter #(= "theory (exponential window)" (:what %)) (get-in (:stdp specs) [:data :values]))
            at (fn [l] (:dw (apply min-key #(Math/abs (- (:lag %) l)) th)))]
        (is (< (Math/abs (- (at -10.0) (* 0.01 (Math/exp (/ -10.0 16.8))))) 2e-4))
        (is (< (Math/abs (- (at 10.0) (- (* 0.0105 (Math/exp (/ -10.0 33.7)))))) 2e-4))))))

(deftest every-notebook-renders-and-draws-in-chromium
  (let [files (nb/notebook-files (io/file (System/getProperty "chive.project.root" ".") "notebooks"))
        out (io/file (System/getProperty "chive.project.root" ".") "target" "notebooks")
        results (nb/render! files out {})]
    (is (>= (count files) 5) "the notebooks of the issue exist")
    (doseq [r results] (is (zero? (:errors r)) (str (:name r) ": a form threw")))
    (testing "every plot in every notebook titles its axes"
      (doseq [r results
              [_ js] (re-seq #"<script type=\"application/json\" class=\"vega-spec\">(.*?)</script>" (slurp (io/file out (:name r) "index.html")))
              :let [sp (cheshire.core/parse-string (str/replace js "<\\/" "</") true)]]
        (is (empty? (untitled-axes sp)) (str (:name r) ": " (get-in sp [:title :text] (:title sp)) ": axes without a title " (vec (untitled-axes sp))))))
    (when (chromium-or-skip)
      (let [server (serve-static out)
            port (.getPort (.getAddress server))
            browser (cdp/start)]
        (try
          (let [p (cdp/enable! (cdp/open-page browser))]
            (doseq [r results]
              (cdp/navigate! p (str "http://127.0.0.1:" port "/" (:name r) "/index.html"))
              (cdp/wait-for p "window.__chiveDone" 60000)
              (let [c (cheshire.core/parse-string (cdp/eval-js p view-check) true)]
                (is (:done c) (str (:name r) ": every Vega view settled"))
                (is (pos? (:containers c)) (str (:name r) ": has plots"))
                (is (= (:containers c) (:views c)) (str (:name r) ": every plot became a Vega view " c))
                (is (every? pos? (:marks c)) (str (:name r) ": every view drew marks " (:marks c)))
                (is (empty? (:errors c)) (str (:name r) ": vega-embed errors " (:errors c)))
                (is (zero? (:errorBlocks c))))
              (is (empty? (cdp/console-errors p)) (str (:name r) ": console errors " (cdp/console-errors p)))
              (cdp/screenshot! p (io/file out ".." "notebook-screenshots" (str (:name r) ".png")))))
          (finally (cdp/stop browser) (.stop server 0)))))))

(deftest serve-pushes-edits-to-the-open-page
  (let [dir (tmp-dir)
        f (io/file dir "live.clj")]
    (spit f ";; # Live\n\n(ns nbtest.live (:require [chive.plot :as plot]))\n\n(plot/curves [{:epoch 1 :y 1.0} {:epoch 2 :y 0.5}] [:y])\n")
    (let [srv (nb/serve! {:dir dir :port 0})]
      (try
        (is (str/includes? (slurp (str "http://127.0.0.1:" (:port srv) "/live/?token=" (:token srv))) "Live"))
        (is (str/includes? (slurp (:url srv)) "live"))
        (when (chromium-or-skip)
          (let [browser (cdp/start)]
            (try
              (let [p (cdp/enable! (cdp/open-page browser))]
                (cdp/navigate! p (str "http://127.0.0.1:" (:port srv) "/live/?token=" (:token srv)))
                (is (cdp/wait-for p "window.__chiveDone" 30000))
                (Thread/sleep 300)
                (spit f (str (slurp f) "\n;; Added while the page was open.\n\n(str \"EDITED-\" (* 6 7))\n\n(throw (ex-info \"boom in place\" {}))\n\n(+ 1 1000)\n"))
                (is (cdp/wait-for p "window.__chiveUpdates >= 1" 30000) "the page received the update (server-sent event)")
                (let [html (cdp/eval-js p "document.getElementById('notebook').innerHTML")]
                  (is (str/includes? html "EDITED-42"))
                  (is (str/includes? html "boom in place") "the error shows in place")
                  (is (str/includes? html "1001") "forms after the error still render"))
                (is (cdp/wait-for p "window.__chiveDone" 30000))
                (is (= 1 (cdp/eval-js p "window.__chiveViews.length - 1")) "the plot was drawn again after the update")
                (is (empty? (cdp/console-errors p)) (str (cdp/console-errors p))))
              (finally (cdp/stop browser)))))
        (finally ((:stop srv)))))))

(def counter (atom 0))

(defn- request
  "Status and body of a GET to the server at `port` with extra `headers`."
  [port path headers]
  (let [c (java.net.http.HttpClient/newHttpClient)
        b (reduce (fn [^java.net.http.HttpRequest$Builder b [k v]] (.header b k v))
                  (java.net.http.HttpRequest/newBuilder (java.net.URI. (str "http://127.0.0.1:" port path)))
                  (dissoc headers "Host"))
        r (.send c (.build b) (java.net.http.HttpResponse$BodyHandlers/ofString))]
    [(.statusCode r) (.body r)]))

(defn- raw-request
  "Status line of a GET sent over a plain socket, so that any Host header can be sent."
  [port path host extra]
  (with-open [s (java.net.Socket. "127.0.0.1" (int port))]
    (let [o (.getOutputStream s)]
      (.write o (.getBytes (str "GET " path " HTTP/1.1\r\nHost: " host "\r\n" extra "Connection: close\r\n\r\n")))
      (.flush o)
      (first (line-seq (io/reader (.getInputStream s)))))))

(deftest serve-refuses-foreign-hosts-origins-and-requests-without-the-token
  (let [dir (tmp-dir)
        f (io/file dir "secret.clj")]
    (spit f ";; # Secret\n\n(swap! @(requiring-resolve 'chive.notebook-test/counter) inc)\n")
    (reset! counter 0)
    (let [srv (nb/serve! {:dir dir :port 0})
          port (:port srv)
          tok (:token srv)]
      (try
        (testing "no token: refused, nothing evaluated (a cross-site GET cannot start a notebook)"
          (let [[code body] (request port "/secret/" {})]
            (is (= 403 code))
            (is (str/includes? body "token")))
          (is (= 403 (first (request port "/" {}))) "not even the list")
          (is (= 403 (first (request port "/secret/?token=wrong0123456789abcdef" {}))))
          (is (= 0 @counter) "the notebook was not evaluated"))
        (testing "a foreign Host (DNS rebinding) is refused, even with the token"
          (is (str/includes? (raw-request port (str "/secret/?token=" tok) (str "evil.example:" port) "") " 421 "))
          (is (str/includes? (raw-request port (str "/secret/?token=" tok) "127.0.0.1:1" "") " 421 ") "another port")
          (is (= 0 @counter)))
        (testing "a foreign Origin is refused, even with the token"
          (is (= 403 (first (request port (str "/secret/?token=" tok) {"Origin" "http://evil.example"}))))
          (is (= 0 @counter)))
        (testing "the token in the URL works and sets a SameSite=Strict cookie; the cookie alone works"
          (let [c (java.net.http.HttpClient/newHttpClient)
                r (.send c (.build (java.net.http.HttpRequest/newBuilder (java.net.URI. (str "http://127.0.0.1:" port "/secret/?token=" tok))))
                         (java.net.http.HttpResponse$BodyHandlers/ofString))
                cookie (first (str/split (.orElse (.firstValue (.headers r) "set-cookie") "") #";"))]
            (is (= 200 (.statusCode r)))
            (is (= 1 @counter) "evaluated once, for the owner")
            (is (str/includes? (.orElse (.firstValue (.headers r) "set-cookie") "") "SameSite=Strict"))
            (is (= 200 (first (request port "/secret/fragment" {"Cookie" cookie}))))
            (is (= 200 (first (request port "/secret/fragment" {"Cookie" cookie "Origin" (str "http://127.0.0.1:" port)})))
                "same-origin requests of the page")
            (is (str/includes? (raw-request port "/" (str "localhost:" port) (str "Cookie: " cookie "\r\n")) " 200 ")
                "localhost is this server too")))
        (finally ((:stop srv)))))))
