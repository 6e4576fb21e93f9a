(ns chive.view-test
  "The viewers (chive.viewer: one open registry, shared by notebooks and the
  live view) and the live view (chive.view) in headless Chromium: values
  arrive without a reload, a reconnecting page gets what it missed, later
  pages get the history, other hosts, origins and token-less requests are
  refused. dev/user.clj's tour is evaluated form by form. (The same through
  a real nREPL client: chive.repl-test.)"
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.java.io :as io]
            [clojure.string :as str]
            [chive.cdp :as cdp]
            [chive.notebook :as nb]
            [chive.plot :as plot]
            [chive.view :as view]
            [chive.viewer :as viewer]
            [chive.versions-test :refer [project-root]])
  (:import (java.io PushbackReader)))

(deftest viewers-are-an-open-registry
  (testing "built-ins pick by value"
    (is (= :chive/plot (:name (viewer/viewer-for (plot/raster {:indices (int-array [0]) :times-ms (double-array [1.0])})))))
    (is (= :chive/table (:name (viewer/viewer-for [{:a 1} {:a 2}]))))
    (is (= :chive/map (:name (viewer/viewer-for {:a 1}))))
    (is (= :chive/array (:name (viewer/viewer-for (float-array 3)))))
    (is (= :chive/array (:name (viewer/viewer-for (into-array [(double-array 2) (double-array 2)])))))
    (is (= :chive/error (:name (viewer/viewer-for (ex-info "boom" {:x 1})))))
    (is (= :chive/markdown (:name (viewer/viewer-for (viewer/md "# hi")))))
    (is (= :chive/default (:name (viewer/viewer-for 42))))
    (is (= :chive/nil (:name (viewer/viewer-for nil))) "every viewer before it takes nil safely")
    (is (= "" (viewer/html nil))))
  (testing "what the built-ins show"
    (let [h (viewer/html (float-array [1 2 3 Float/NaN 5 6 7 8 9 10 11]))]
      (is (str/includes? h "shape [11]"))
      (is (str/includes? h "min 1.000, max 11.00"))
      (is (str/includes? h "1 NaN"))
      (is (str/includes? h "vega-spec") "a histogram for 10 or more values"))
    (is (str/includes? (viewer/html (into-array [(int-array 3) (int-array 3)])) "shape [2 3]"))
    (let [h (viewer/html (ex-info "weights blew up" {:layer 2}))]
      (is (str/includes? h "weights blew up"))
      (is (str/includes? h ":layer 2") "the error's data"))
    (is (str/includes? (viewer/html (viewer/md "**bold**")) "<strong>bold</strong>"))
    (let [h (viewer/html {:rate-hz 3.25 :raster (plot/raster {:indices (int-array [0]) :times-ms (double-array [1.0])})})]
      (is (str/includes? h ":rate-hz"))
      (is (str/includes? h "vega-spec") "a plot inside a map is drawn"))
    (is (str/includes? (viewer/html "<script>") "&lt;script&gt;") "strings are escaped"))
  (testing "a user's viewer goes first, replaces by name, is used by notebooks too, and can be removed"
    (try
      (viewer/add-viewer! {:name :test/percent :pred #(and (map? %) (contains? % :percent)) :render #(str "<b class=\"pct\">" (:percent %) " %</b>")})
      (is (= :test/percent (first (viewer/viewer-names))))
      (is (= "<b class=\"pct\">97.5 %</b>" (viewer/html {:percent 97.5})))
      (viewer/add-viewer! {:name :test/percent :pred #(and (map? %) (contains? % :percent)) :render #(str "<i>" (:percent %) "</i>")})
      (is (= 1 (count (filter #{:test/percent} (viewer/viewer-names)))) "replaced in place")
      (is (str/includes? (:html (second (:blocks (nb/evaluate (nb/parse "(ns vt.one)\n\n{:percent 12}\n") {:use-cache false})))) "<i>12</i>")
          "the notebook uses the same registry")
      (is (= "<i>5</i>" (viewer/html (viewer/with-viewer :test/percent {:percent 5}))))
      (finally (viewer/remove-viewer! :test/percent)))
    (is (not-any? #{:test/percent} (viewer/viewer-names))))
  (testing "bad viewers and failing viewers are named"
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":pred must be a function, got 3" (viewer/add-viewer! {:name :x/y :pred 3 :render str})))
    (is (thrown-with-msg? clojure.lang.ExceptionInfo #":name must be a keyword" (viewer/add-viewer! {:name "x" :pred any? :render str})))
    (is (str/includes? (viewer/html (viewer/with-viewer :no/such 1)) "no viewer named :no/such"))
    (try
      (viewer/add-viewer! {:name :test/broken :pred #(= % ::broken) :render (fn [_] (throw (ex-info "renderer bug" {})))})
      (let [h (viewer/html ::broken)]
        (is (str/includes? h "viewer :test/broken failed"))
        (is (str/includes? h "renderer bug")))
      (finally (viewer/remove-viewer! :test/broken)))))

(defn- chromium-or-skip []
  (or (cdp/chromium-path)
      (do (is (not (System/getenv "CHIVE_REQUIRE_CHROMIUM")) "CHIVE_REQUIRE_CHROMIUM is set but Chromium is not installed")
          (println "chive.view-test: Chromium not installed; browser checks skipped")
          nil)))

(def ^:private raster (plot/raster {:indices (int-array [0 1 2 1]) :times-ms (double-array [1.0 2.0 3.0 4.5])}))

(defn- get-status [port path headers]
  (let [b (reduce (fn [^java.net.http.HttpRequest$Builder b [k v]] (.header b k v))
                  (java.net.http.HttpRequest/newBuilder (java.net.URI. (str "http://127.0.0.1:" port path))) headers)]
    (.statusCode (.send (java.net.http.HttpClient/newHttpClient) (.build b) (java.net.http.HttpResponse$BodyHandlers/discarding)))))

(deftest the-live-view-updates-open-pages-without-a-reload
  (view/stop!)
  (let [{:keys [url port]} (view/start! {:history 5})
        token (second (re-find #"token=([0-9a-f]+)" url))]
    (try
      (is (str/starts-with? url "http://127.0.0.1:"))
      (is (= (view/start!) {:url url :port port}) "start! again returns the running view")
      (testing "other hosts' pages, other origins and token-less requests are refused"
        (is (= 403 (get-status port "/" {})))
        (is (= 403 (get-status port "/events" {})))
        (is (= 403 (get-status port (str "/?token=" token) {"Origin" "http://evil.example"})))
        (is (= 200 (get-status port (str "/?token=" token) {}))))
      (when (chromium-or-skip)
        (let [browser (cdp/start)]
          (try
            (let [p (cdp/enable! (cdp/open-page browser))]
              (cdp/navigate! p url)
              (is (cdp/wait-for p "document.getElementById('status').textContent === 'live'" 20000) "the page connected")
              (cdp/eval-js p "window.__marker = 'same page'")
              (testing "a plot arrives and is drawn"
                (is (identical? raster (view/show! raster)) "show! returns its argument")
                (is (cdp/wait-for p "window.__chiveItems >= 1" 20000))
                (is (pos? (cdp/eval-js p "document.querySelectorAll('section.item svg g[class*=\"mark-\"] line, section.item svg g[class*=\"mark-\"] path').length"))
                    "the raster's ticks are in the page"))
              (testing "several watchers: a second client on the event stream gets the same values"
                (let [lines (java.util.concurrent.LinkedBlockingQueue.)
                      req (.build (doto (java.net.http.HttpRequest/newBuilder (java.net.URI. (str "http://127.0.0.1:" port "/events")))
                                    (.header "Cookie" (str "chive-view-" port "=" token))
                                    (.header "Last-Event-ID" "1")))
                      resp (.sendAsync (java.net.http.HttpClient/newHttpClient) req
                                       (java.net.http.HttpResponse$BodyHandlers/fromLineSubscriber
                                        (reify java.util.concurrent.Flow$Subscriber
                                          (onSubscribe [_ s] (.request s Long/MAX_VALUE))
                                          (onNext [_ l] (.add lines l))
                                          (onError [_ _])
                                          (onComplete [_]))))]
                  (Thread/sleep 300)
                  (view/show! {:second-watcher 42})
                  (let [deadline (+ (System/currentTimeMillis) 10000)
                        got (loop [acc []]
                              (let [l (.poll lines 200 java.util.concurrent.TimeUnit/MILLISECONDS)
                                    acc (if l (conj acc l) acc)]
                                (if (or (some #(str/includes? % "second-watcher") acc) (> (System/currentTimeMillis) deadline)) acc (recur acc))))]
                    (is (some #(str/includes? % "second-watcher") got) "the second client received the value")
                    (is (not-any? #(re-find #"^id: 1$" %) got) "a client that saw item 1 is not sent it again"))
                  (.cancel resp true))
                (is (cdp/wait-for p "window.__chiveItems >= 2" 20000) "the page got it too"))
              (testing "tap> arrives as a second item, a map rendered as a table"
                (tap> {:a 1 :rate-hz 2.5})
                (is (cdp/wait-for p "window.__chiveItems >= 3" 20000))
                (is (= 3 (cdp/eval-js p "document.querySelectorAll('section.item').length")))
                (is (= ":a" (cdp/eval-js p "document.querySelector('section.item table.map th').textContent")) "newest first")
                (is (str/includes? (cdp/eval-js p "document.querySelector('section.item .meta').textContent") "tap>")))
              (is (= "same page" (cdp/eval-js p "window.__marker")) "no reload happened")
              (testing "a page that loses its stream reconnects and gets what it missed"
                ((var-get #'view/drop-clients!))
                (view/show! (viewer/md "sent while **disconnected**"))
                (is (cdp/wait-for p "window.__chiveItems >= 4" 20000))
                (is (= 1 (cdp/eval-js p "document.querySelectorAll('section.item strong').length")))
                (is (= 4 (cdp/eval-js p "document.querySelectorAll('section.item').length")) "nothing doubled")
                (is (= "same page" (cdp/eval-js p "window.__marker"))))
              (testing "errors show their data"
                (view/show! (ex-info "no such group :exc2" {:valid [:exc :inh]}))
                (is (cdp/wait-for p "window.__chiveItems >= 5" 20000))
                (is (str/includes? (cdp/eval-js p "document.querySelector('section.item .error').textContent") ":valid [:exc :inh]")))
              (testing "a page opened later gets the history, at most :history items"
                (dotimes [k 3] (view/show! k))
                (cdp/navigate! p url)
                (is (cdp/wait-for p "document.querySelectorAll('section.item').length === 5" 20000))
                (is (cdp/wait-for p "window.__chiveItems >= 5" 20000)))
              (testing "clear! empties open pages"
                (view/clear!)
                (is (cdp/wait-for p "document.querySelectorAll('section.item').length === 0" 20000)))
              (is (empty? (cdp/console-errors p)) (str (cdp/console-errors p))))
            (finally (cdp/stop browser)))))
      (finally (view/stop!))))
  (is (not (view/running?)))
  (tap> :after-stop)
  (Thread/sleep 200)
  (is (not (view/running?)) "a stopped view takes no taps (and tap> does not start it)"))

(defn- tour-forms []
  (with-open [r (PushbackReader. (io/reader (io/file (project-root) "dev" "user.clj")))]
    (let [forms (doall (take-while #(not= % ::eof) (repeatedly #(read {:eof ::eof} r))))]
      [(first forms) (mapcat rest (filter #(and (seq? %) (= 'comment (first %))) forms))])))

(deftest the-tour-in-dev-user-runs-form-by-form
  (let [[ns-form body] (tour-forms)]
    (is (< 15 (count body)) "the tour has its steps")
    (binding [*ns* *ns*]
      (try
        (binding [*out* (java.io.StringWriter.)]
          (eval ns-form)
          (doseq [f body]
            (is (some? (try (eval f) true (catch Throwable t (is false (str "tour form failed: " (pr-str f) ": " t)) nil))))))
        (is (= :chive/network (:name (viewer/viewer-for (eval 'user/n)))))
        (is (< 0.9 (:accuracy (eval '(chive.learn/evaluate user/m (second user/parts))))) "the tour's Randman network learned")
        (finally (view/stop!))))))
