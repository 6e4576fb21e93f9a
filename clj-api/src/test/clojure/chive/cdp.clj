(ns chive.cdp
  "A small Chrome DevTools Protocol client for tests: starts Debian's Chromium
  headless, opens pages, evaluates JavaScript, collects console errors and
  exceptions, takes screenshots. java.net.http's WebSocket, no other library."
  (:require [cheshire.core :as json]
            [clojure.java.io :as io]
            [clojure.string :as str])
  (:import [java.net URI ServerSocket]
           [java.net.http HttpClient HttpRequest HttpResponse$BodyHandlers WebSocket WebSocket$Listener]
           [java.util.concurrent CompletableFuture TimeUnit ConcurrentHashMap]))

(defn chromium-path []
  (first (filter #(.canExecute (io/file %)) ["/usr/bin/chromium" "/usr/bin/chromium-browser" "/usr/bin/google-chrome"])))

(defn- free-port [] (with-open [s (ServerSocket. 0)] (.getLocalPort s)))

(defn- http-get [url]
  (.body (.send (HttpClient/newHttpClient) (.build (HttpRequest/newBuilder (URI. url))) (HttpResponse$BodyHandlers/ofString))))

(defn start
  "Launches Chromium headless; returns a browser map for `open-page`/`stop`."
  []
  (let [exe (or (chromium-path) (throw (ex-info "Chromium is not installed (apt-get install chromium; bin/chive setup does it)" {})))
        port (free-port)
        profile (doto (java.io.File/createTempFile "chive-chromium" "") .delete .mkdirs)
        proc (.start (doto (ProcessBuilder. [exe "--headless=new" "--no-sandbox" "--disable-gpu" "--disable-dev-shm-usage"
                                             "--no-first-run" "--hide-scrollbars" "--window-size=1100,900"
                                             (str "--remote-debugging-port=" port) "--remote-allow-origins=*"
                                             (str "--user-data-dir=" profile) "about:blank"])
                       (.redirectErrorStream true)
                       (.redirectOutput (io/file profile "chromium.log"))))]
    (loop [k 0]
      (let [ok (try (http-get (str "http://127.0.0.1:" port "/json/version")) (catch Exception _ nil))]
        (cond ok {:port port :proc proc :profile profile}
              (> k 100) (do (.destroyForcibly proc)
                            (throw (ex-info (str "Chromium did not open its DevTools port: " (slurp (io/file profile "chromium.log"))) {})))
              :else (do (Thread/sleep 100) (recur (inc k))))))))

(defn stop [{:keys [^Process proc]}]
  (.destroy proc)
  (when-not (.waitFor proc 5 TimeUnit/SECONDS) (.destroyForcibly proc)))

(defn open-page
  "Connects to the browser's first page target. Returns a page map."
  [{:keys [port]}]
  (let [targets (json/parse-string (http-get (str "http://127.0.0.1:" port "/json/list")) true)
        page (or (first (filter #(= "page" (:type %)) targets)) (throw (ex-info "no page target" {:targets targets})))
        pending (ConcurrentHashMap.)
        events (atom [])
        buf (StringBuilder.)
        ids (atom 0)
        listener (reify WebSocket$Listener
                   (onText [_ ws data last]
                     (.append buf data)
                     (when last
                       (let [msg (json/parse-string (str buf) true)]
                         (.setLength buf 0)
                         (if-let [id (:id msg)]
                           (when-let [^CompletableFuture f (.remove pending (long id))] (.complete f msg))
                           (swap! events conj msg))))
                     (.request ws 1)
                     nil))
        ws (.join (.buildAsync (.newWebSocketBuilder (HttpClient/newHttpClient)) (URI. (:webSocketDebuggerUrl page)) listener))]
    {:ws ws :pending pending :events events :ids ids}))

(defn call
  "Sends a CDP command and waits for its result (throws on a protocol error)."
  ([p method] (call p method {}))
  ([{:keys [^WebSocket ws ^ConcurrentHashMap pending ids]} method params]
   (let [id (swap! ids inc)
         f (CompletableFuture.)]
     (.put pending id f)
     (.join (.sendText ws (json/generate-string {:id id :method method :params params}) true))
     (let [r (.get f 60 TimeUnit/SECONDS)]
       (when (:error r) (throw (ex-info (str method ": " (:message (:error r))) r)))
       (:result r)))))

(defn eval-js
  "Evaluates a JavaScript expression in the page; returns its value (by value)."
  [p expr]
  (let [r (call p "Runtime.evaluate" {:expression expr :returnByValue true :awaitPromise true})]
    (when-let [e (:exceptionDetails r)] (throw (ex-info (str "JS exception: " (pr-str e)) {:expr expr})))
    (get-in r [:result :value])))

(defn wait-for
  "Polls JS `expr` until truthy or `timeout-ms` passes; returns the last value."
  [p expr timeout-ms]
  (let [deadline (+ (System/currentTimeMillis) timeout-ms)]
    (loop []
      (let [v (eval-js p expr)]
        (if (or v (> (System/currentTimeMillis) deadline)) v (do (Thread/sleep 100) (recur)))))))

(defn enable! [p]
  (call p "Runtime.enable") (call p "Log.enable") (call p "Page.enable")
  p)

(defn navigate! [p url]
  (reset! (:events p) [])
  (call p "Page.navigate" {:url url})
  (wait-for p "document.readyState === 'complete'" 30000))

(defn console-errors
  "Console errors, uncaught exceptions and error log entries seen since the last navigation."
  [p]
  (vec (for [e @(:events p)
             :let [m (:method e) prm (:params e)]
             :when (or (and (= m "Runtime.consoleAPICalled") (#{"error" "assert"} (:type prm)))
                       (= m "Runtime.exceptionThrown")
                       (and (= m "Log.entryAdded") (= "error" (get-in prm [:entry :level]))))]
         (case m
           "Runtime.consoleAPICalled" (str "console." (:type prm) ": " (str/join " " (map #(or (:value %) (:description %)) (:args prm))))
           "Runtime.exceptionThrown" (str "exception: " (get-in prm [:exceptionDetails :exception :description] (get-in prm [:exceptionDetails :text])))
           (str "log: " (get-in prm [:entry :text]) " " (get-in prm [:entry :url]))))))

(defn screenshot!
  "Writes a PNG of the whole page to `file`."
  [p file]
  (let [r (call p "Page.captureScreenshot" {:format "png" :captureBeyondViewport true})]
    (io/make-parents file)
    (with-open [o (io/output-stream file)] (.write o (.decode (java.util.Base64/getDecoder) ^String (:data r))))
    file))
