(ns chive.notebook
  "Clerk-style notebooks. A notebook is a plain Clojure namespace (in
  notebooks/): runs of `;;` comment lines are Markdown prose, every other
  top-level form is evaluated in order and its value shown below it:
  by the viewers of chive.viewer (shared with the live view, chive.view,
  and open to your own: chive.viewer/add-viewer!): Vega-Lite specs
  (chive.plot: drawn by Vega-Embed), tables of maps, maps, arrays
  summarised, networks, images, errors, Markdown, printed data. A def shows nothing unless its name has ^:show. A form that throws
  shows its error in place; every later form that uses a name it defines
  (directly or through names defined from it) shows \"not run: depends on
  failed form N\" instead of a stale value; the others still render. A
  syntax error shows its line and column. Cached results say so.

  `render!` writes a self-contained folder (index.html plus Vega, Vega-Lite
  and Vega-Embed copied from the webjars on the classpath: no CDN, works
  offline). `serve!` serves notebooks on 127.0.0.1, re-renders one when its
  file is saved and pushes the new page to open browsers (server-sent
  events). Results are cached by a key made of the form's text, the keys of
  the forms above it that define the vars it reads, and the size setting:
  editing prose, or a form nothing depends on, does not re-run a long
  training.

  Size: notebooks call (chive.notebook/full?) to pick small defaults (CI, the
  default) or the sizes the prose describes (`bin/chive notebook build --full`)."
  (:require [chive.impl.cli :as cli]
            [chive.viewer :as viewer]
            [chive.impl.http :as http]
            [clojure.java.io :as io]
            [clojure.string :as str])
  (:import [java.io File PushbackReader StringReader Reader StringWriter PrintWriter]
           [java.net InetSocketAddress]
           [java.nio.charset StandardCharsets]
           [java.util.concurrent ConcurrentHashMap Executors]
           [com.sun.net.httpserver HttpServer HttpHandler HttpExchange]))

(set! *warn-on-reflection* true)

(def ^:dynamic *full* "True when rendering at the sizes the prose describes." false)
(defn full? "True for `--full` renders; notebooks choose their sizes with it." [] *full*)

;; ---------------------------------------------------------------- parsing

(defn parse
  "Splits notebook source into blocks: {:type :prose :text markdown} and
  {:type :code :text source :form form :line n}. Forms are read in the user
  namespace (auto-resolved ::keywords resolve there)."
  [^String src]
  (let [r (clojure.lang.LineNumberingPushbackReader. (StringReader. src))
        line-starts (vec (cons 0 (keep-indexed (fn [i c] (when (= c \newline) (inc i))) src)))
        pos (fn [] (+ (line-starts (dec (.getLineNumber r))) (dec (.getColumnNumber r))))
        flush-prose (fn [blocks prose] (cond-> blocks (seq prose) (conj {:type :prose :text (str/join "\n" prose)})))]
    (loop [blocks [] prose []]
      (let [c (.read r)]
        (cond
          (neg? c) (flush-prose blocks prose)
          (= c (int \newline))
          ;; a blank line ends a prose block
          (let [c2 (.read r)]
            (when (>= c2 0) (.unread r c2))
            (if (and (seq prose) (= c2 (int \newline)))
              (recur (flush-prose blocks prose) [])
              (recur blocks prose)))
          (Character/isWhitespace (char c)) (recur blocks prose)
          (= c (int \;))
          (let [sb (StringBuilder.)]
            (loop [] (let [d (.read r)] (when (and (>= d 0) (not= d (int \newline))) (.append sb (char d)) (recur))))
            (recur blocks (conj prose (str/replace (str sb) #"^;+ ?" ""))))
          :else
          (let [_ (.unread r c)
                line (.getLineNumber r)
                col (.getColumnNumber r)
                start (pos)
                [form err] (try [(read {:read-cond :allow :eof ::eof} r) nil]
                                (catch Exception e [nil e]))]
            (if err
              ;; The rest of the file cannot be read reliably: one block
              ;; holding it, with the reader's message and position.
              (let [root (loop [t err] (if-let [c (.getCause ^Throwable t)] (recur c) t))
                    d (merge (ex-data err) (ex-data root))
                    eline (or (:clojure.error/line d) (.getLineNumber r))
                    ecol (or (:clojure.error/column d) (.getColumnNumber r))]
                (conj (flush-prose blocks prose)
                      {:type :code :text (subs src start) :form nil :line line
                       :syntax-error {:message (.getMessage ^Throwable root) :line eline :column ecol
                                      :form-line line :form-column col}}))
              (let [text (subs src start (min (count src) (pos)))]
                (recur (conj (flush-prose blocks prose) {:type :code :text text :form form :line line}) [])))))))))

;; ---------------------------------------------------------------- dependencies and cache keys

(def ^:private def-ops '#{def defn defn- defonce defmacro defmulti defrecord deftype defprotocol defstruct})

(defn- defined-name [form]
  (when (and (seq? form) (contains? def-ops (first form)) (symbol? (second form)))
    (second form)))

(defn- shown-def?
  "A def form whose value the page shows: its name carries ^:show (or
  ^{:chive.notebook/show true}). Other defs show nothing."
  [form]
  (let [m (meta (defined-name form))]
    (boolean (or (:show m) (::show m)))))

(defn- symbols-in [form]
  (set (filter symbol? (tree-seq coll? seq form))))

(defn- sha [^String s]
  (let [d (.digest (java.security.MessageDigest/getInstance "SHA-256") (.getBytes s StandardCharsets/UTF_8))]
    (apply str (map #(format "%02x" %) (take 12 d)))))

(defn cache-keys
  "For each code block, a key from the namespace it runs in, its text, the
  keys of the latest blocks above it defining symbols it uses, and the size
  setting."
  [blocks full]
  (loop [[b & more] blocks defs {} ns-name "user" out []]
    (if-not b
      out
      (if (= :code (:type b))
        (let [f (:form b)
              ns-name (if (and (seq? f) (= 'ns (first f)) (symbol? (second f))) (str (second f)) ns-name)
              deps (keep defs (symbols-in f))
              k (sha (str ns-name "|" (:text b) "|" (str/join "," (sort deps)) "|" full))
              nm (defined-name f)]
          (recur more (cond-> defs nm (assoc nm k)) ns-name (conj out k)))
        (recur more defs ns-name (conj out nil))))))

;; ---------------------------------------------------------------- showing values

(def ^:private esc viewer/esc)
(def markdown->html "CommonMark to HTML (chive.viewer/markdown->html)." viewer/markdown->html)
(def ^:private truncate viewer/truncate)
(defn- show "HTML for a value: chive.viewer's registry, shared with the live view." [v] (viewer/html v))
(defn- show-error [t] (viewer/error-html t))

;; ---------------------------------------------------------------- evaluation

(defonce ^{:doc "Results by cache key: {:html ...}, shared by renders in this JVM."} cache (ConcurrentHashMap.))

(defn- eval-block [form ns-sym]
  (binding [*ns* (or (find-ns ns-sym) *ns*)]
    (let [out (StringWriter.)
          v (binding [*out* out] (eval form))]
      [v (str out) (ns-name *ns*)])))

(defn- not-run-html [n line]
  (str "<div class=\"not-run\">not run: depends on failed form " n " (line " line ")</div>"))

(defn- syntax-error-html [{:keys [message line column form-line]}]
  (str "<div class=\"error syntax\"><b>Syntax error</b> at line " line ", column " column
       (when (not= line form-line) (str " (in the form starting at line " form-line ")"))
       ": " (esc message) "<p class=\"note\">nothing below this point was read</p></div>"))

(defn evaluate
  "Evaluates a parsed notebook. Returns blocks with :html added; code blocks
  whose cache key is unchanged reuse their earlier result (marked :cached,
  and so in the page). A form that throws shows its error (errors are not
  cached: the form runs again next time); every later form that uses a name
  defined by a failed form, directly or through names defined from it, is
  not run and says so (its cached result is not shown: it may be stale). A
  def form shows nothing unless its name has ^:show. A syntax error shows
  its line and column. :ran counts the forms actually evaluated; :failed
  the forms that threw or could not be read."
  [blocks {:keys [full use-cache] :or {use-cache true}}]
  (let [ks (cache-keys blocks full)]
    (binding [*full* (boolean full)]
      (loop [[[b k] & more] (map vector blocks ks) ns-sym 'user out [] ran 0 n 0 bad {} failed 0]
        (cond
          (not b) {:blocks out :ran ran :failed failed}
          (= :prose (:type b)) (recur more ns-sym (conj out (assoc b :html (markdown->html (:text b)))) ran n bad failed)
          (:syntax-error b) (recur more ns-sym (conj out (assoc b :html (syntax-error-html (:syntax-error b)) :failed true)) ran (inc n) bad (inc failed))
          :else
          (let [n (inc n)
                f (:form b)
                nm (defined-name f)
                cause (some bad (symbols-in f))
                forget (fn [bad] (if nm (dissoc bad nm) bad))]
            (if cause
              (recur more ns-sym (conj out (assoc b :html (not-run-html (:n cause) (:line cause)) :not-run true))
                     ran n (if nm (assoc bad nm cause) bad) failed)
              (let [hit (and use-cache (.get ^ConcurrentHashMap cache k))]
                (if hit
                  (recur more (:ns hit) (conj out (assoc b :html (str (:html hit) "<p class=\"note cached\">cached result</p>") :cached true))
                         ran n (forget bad) failed)
                  (let [t0 (System/nanoTime)
                        [html ns2 err] (try
                                         (let [[v printed ns2] (eval-block f ns-sym)]
                                           [(str (when (seq printed) (str "<pre class=\"out\">" (esc (truncate printed 4000)) "</pre>"))
                                                 (cond (not (var? v)) (show v)
                                                       (shown-def? f) (show @v)
                                                       :else ""))
                                            ns2 false])
                                         (catch Throwable t
                                           (when (instance? InterruptedException t) (throw t))
                                           [(show-error t) ns-sym true]))
                        secs (/ (- (System/nanoTime) t0) 1e9)
                        html (str html (when (> secs 1.0) (format "<p class=\"note\">%.1f s</p>" secs)))]
                    (if err
                      (recur more ns2 (conj out (assoc b :html html :failed true)) (inc ran) n
                             (if nm (assoc bad nm {:n n :line (:line b)}) bad) (inc failed))
                      (do (.put ^ConcurrentHashMap cache k {:html html :ns ns2})
                          (recur more ns2 (conj out (assoc b :html html)) (inc ran) n (forget bad) failed)))))))))))))

;; ---------------------------------------------------------------- HTML

(def ^:private js-libs viewer/js-libs)
(def ^:private lib-resource viewer/lib-resource)
(def ^:private css viewer/css)
(def ^:private embed-js viewer/embed-js)

(def ^:private live-js
  "(function(){var es=new EventSource('events');es.addEventListener('update',function(){
fetch('fragment').then(function(r){return r.text();}).then(function(h){var nb=document.getElementById('notebook');
nb.innerHTML=h;window.__chiveDone=false;chiveEmbed(nb).then(function(){window.__chiveDone=true;window.__chiveUpdates=(window.__chiveUpdates||0)+1;});});});})();")

(defn fragment
  "The notebook body HTML (prose, code, results)."
  [blocks]
  (str/join "\n"
            (for [b blocks]
              (if (= :prose (:type b))
                (str "<div class=\"prose\">" (:html b) "</div>")
                (str "<pre class=\"code\">" (esc (:text b)) "</pre>\n" (:html b))))))

(defn page
  "A whole HTML page; `lib-prefix` is where the Vega scripts are (relative URL)."
  [title blocks {:keys [lib-prefix live] :or {lib-prefix ""}}]
  (str "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" (esc title) "</title>"
       "<link rel=\"icon\" href=\"data:,\"><style>" css "</style>"
       (str/join (for [[f] js-libs] (str "<script src=\"" lib-prefix f "\"></script>")))
       "</head><body><div id=\"notebook\">" (fragment blocks) "</div><script>" embed-js "</script>"
       (when live (str "<script>" live-js "</script>"))
       "</body></html>"))

(defn- title-of [^File f] (str/replace (.getName f) #"\.clj$" ""))

(defn render-file
  "Parses and evaluates notebook file `f`; returns {:name :blocks :ran :seconds}."
  [f opts]
  (let [f (io/file f)
        t0 (System/nanoTime)
        {:keys [blocks ran]} (evaluate (parse (slurp f)) opts)]
    {:name (title-of f) :file (str f) :blocks blocks :ran ran :seconds (/ (- (System/nanoTime) t0) 1e9)
     :errors (count (filter :failed blocks))}))

(defn- copy-libs! [^File dir]
  (doseq [[f path] js-libs]
    (with-open [in (io/input-stream (lib-resource path))] (io/copy in (io/file dir f)))))

(defn render!
  "Renders notebook files into `out` (one folder per notebook: index.html and
  the Vega scripts; plus an index.html listing them). Options: :full.
  Returns the per-notebook results."
  [files out opts]
  (let [out (io/file out)]
    (.mkdirs out)
    (let [results (doall
                   (for [f files]
                     (let [r (render-file f opts)
                           dir (doto (io/file out (:name r)) .mkdirs)]
                       (copy-libs! dir)
                       (spit (io/file dir "index.html") (page (:name r) (:blocks r) {}))
                       (binding [*out* *err*]
                         (println (format "notebook %s: %d forms run, %d errors, %.1f s -> %s" (:name r) (:ran r) (:errors r)
                                          (:seconds r) (io/file dir "index.html"))))
                       r)))]
      (spit (io/file out "index.html")
            (str "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>chive notebooks</title><link rel=\"icon\" href=\"data:,\">"
                 "<style>" css "</style></head><body><h1>chive notebooks</h1><ul>"
                 (str/join (for [r results] (str "<li><a href=\"" (:name r) "/index.html\">" (esc (:name r)) "</a></li>")))
                 "</ul></body></html>"))
      results)))

(defn notebook-files
  "The .clj files of a folder (default notebooks/), sorted."
  ([] (notebook-files "notebooks"))
  ([dir] (sort-by str (filter #(str/ends-with? (.getName ^File %) ".clj") (.listFiles (io/file dir))))))

;; ---------------------------------------------------------------- serving

(def ^:private respond http/respond)
(defn- utf8 ^bytes [s] (http/utf8 s))
(def ^:private random-token http/random-token)
(def ^:private query-param http/query-param)
(def ^:private guard http/guard)

(defn serve!
  "Serves the notebooks of `dir` on 127.0.0.1:`port` (0: any free port;
  :bind to choose another address). Each notebook is rendered on first visit
  and again whenever its file changes; open pages receive an `update` event
  (server-sent events) and fetch the new content.

  Every request needs the server's token (:token, default a fresh random
  one): open the printed URL `.../?token=...` once and the page keeps it in
  a SameSite=Strict cookie. Requests whose Host is not this server (DNS
  rebinding) or whose Origin is another site are refused. What is served:
  the notebooks' source, rendered results and the Vega scripts; visiting a
  notebook evaluates it. Returns {:port :token :url :stop (fn)}."
  [{:keys [dir port bind full token] :or {dir "notebooks" port 7777 bind "127.0.0.1"}}]
  (let [dir (.getCanonicalFile (io/file dir))
        token (or token (random-token))
        _ (http/check-token! "notebook serve" token)
        loopback? (.isLoopbackAddress (java.net.InetAddress/getByName bind))
        auth (atom nil)
        pages (atom {})                       ; name -> {:blocks :mtime}
        clients (atom {})                     ; name -> #{OutputStream}
        lock (Object.)
        nb-file (fn [nm] (let [f (io/file dir (str nm ".clj"))] (when (.isFile f) f)))
        render (fn [nm]
                 (locking lock
                   (let [f (nb-file nm)
                         r (render-file f {:full full})]
                     (swap! pages assoc nm {:blocks (:blocks r) :mtime (.lastModified ^File f)})
                     (binding [*out* *err*] (println (format "rendered %s: %d forms run, %d errors, %.1f s" nm (:ran r) (:errors r) (:seconds r))))
                     r)))
        current (fn [nm] (or (get @pages nm) (do (render nm) (get @pages nm))))
        server (HttpServer/create (InetSocketAddress. ^String bind (int port)) 0)
        push! (fn [nm]
                (doseq [^java.io.OutputStream o (get @clients nm)]
                  (try (.write o (utf8 "event: update\ndata: changed\n\n")) (.flush o)
                       (catch java.io.IOException _ (swap! clients update nm disj o)))))
        watcher (Thread.
                 (fn []
                   (try
                     (with-open [ws (.newWatchService (java.nio.file.FileSystems/getDefault))]
                       (.register (.toPath dir) ws (into-array [java.nio.file.StandardWatchEventKinds/ENTRY_MODIFY
                                                                java.nio.file.StandardWatchEventKinds/ENTRY_CREATE]))
                       (loop []
                         (let [k (.take ws)]
                           (Thread/sleep 50) ; let the editor finish writing
                           (doseq [e (.pollEvents k)]
                             (let [nm (str (.context ^java.nio.file.WatchEvent e))]
                               (when (str/ends-with? nm ".clj")
                                 (let [nm (subs nm 0 (- (count nm) 4))]
                                   (when (and (contains? @pages nm) (nb-file nm)
                                              (not= (.lastModified ^File (nb-file nm)) (:mtime (get @pages nm))))
                                     (try (render nm) (push! nm)
                                          (catch Throwable t (binding [*out* *err*] (println "render failed:" (ex-message t))))))))))
                           (.reset k)
                           (recur))))
                     (catch InterruptedException _ nil)
                     (catch java.nio.file.ClosedWatchServiceException _ nil)))
                 "chive-notebook-watch")]
    (.createContext server "/"
                    (reify HttpHandler
                      (handle [_ ex]
                        (try
                          (if-let [[code msg] (guard ex @auth)]
                            (respond ex code "text/plain; charset=utf-8" (utf8 (str msg "\n")))
                          (do
                          (when (query-param ex "token")
                            ;; The page's own requests (fragments, events) then carry the token as a cookie.
                            (.add (.getResponseHeaders ex) "Set-Cookie"
                                  (str (:cookie @auth) "=" token "; Path=/; HttpOnly; SameSite=Strict")))
                          (let [path (.getPath (.getRequestURI ex))
                                parts (remove empty? (str/split path #"/"))
                                lib (some (fn [[f p]] (when (= (last parts) f) p)) js-libs)]
                            (cond
                              lib (respond ex 200 "application/javascript" (with-open [in (io/input-stream (lib-resource lib))] (.readAllBytes in)))
                              (empty? parts)
                              (respond ex 200 "text/html; charset=utf-8"
                                       (utf8 (str "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\"><style>" css "</style></head><body><h1>chive notebooks</h1><ul>"
                                                  (str/join (for [f (notebook-files dir)] (let [n (title-of f)] (str "<li><a href=\"/" n "/\">" (esc n) "</a></li>"))))
                                                  "</ul></body></html>")))
                              (not (nb-file (first parts))) (respond ex 404 "text/plain" (utf8 (str "no notebook " (first parts))))
                              (= 1 (count parts))
                              (if (str/ends-with? path "/")
                                (respond ex 200 "text/html; charset=utf-8" (utf8 (page (first parts) (:blocks (current (first parts))) {:lib-prefix "/" :live true})))
                                (do (.add (.getResponseHeaders ex) "Location" (str path "/")) (.sendResponseHeaders ex 302 -1) (.close ex)))
                              (= "fragment" (second parts))
                              (respond ex 200 "text/html; charset=utf-8" (utf8 (fragment (:blocks (current (first parts))))))
                              (= "events" (second parts))
                              (let [nm (first parts)]
                                (current nm)
                                (.add (.getResponseHeaders ex) "Content-Type" "text/event-stream")
                                (.add (.getResponseHeaders ex) "Cache-Control" "no-store")
                                (.sendResponseHeaders ex 200 0)
                                (let [o (.getResponseBody ex)]
                                  (.write o (utf8 ": connected\n\n")) (.flush o)
                                  (swap! clients update nm (fnil conj #{}) o)))
                              :else (respond ex 404 "text/plain" (utf8 "not found"))))))
                          (catch Throwable t
                            (try (respond ex 500 "text/plain" (utf8 (str t))) (catch Throwable _ nil)))))))
    (.setExecutor server (Executors/newCachedThreadPool))
    (.start server)
    (.setDaemon watcher true)
    (.start watcher)
    (let [p (.getPort (.getAddress server))
          url (str "http://" (http/url-host bind) ":" p "/?token=" token)]
      (reset! auth (http/auth bind p token (str "chive-notebook-" p)))
      (binding [*out* *err*]
        (println (str "notebooks from " dir " at " url))
        (when-not loopback?
          (println "WARNING: serving on" bind "- anyone who reaches this port and learns the token runs notebook code as you")))
      {:port p :server server :token token :url url
       :stop (fn [] (.interrupt watcher) (.stop server 0))})))
