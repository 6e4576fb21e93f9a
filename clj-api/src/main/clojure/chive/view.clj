(ns chive.view
  "A live view for the REPL: values you send appear at once in a browser
  page, drawn by the notebooks' viewers (chive.viewer).

    (require '[chive.view :as view])
    (view/show! (chive.plot/raster (chive.net/spikes n :exc-spikes)))
    (tap> {:rate-hz 3.2})          ; tap> goes there too while the view runs

  `bin/chive repl` starts it and prints its URL beside the nREPL port;
  otherwise the first `show!` starts it (or call `start!`). The page is
  served on 127.0.0.1 and updates over server-sent events: no reload, several
  browsers can watch, and a browser that loses the connection gets what it
  missed when it reconnects. The server keeps the last :history values (50)
  for pages opened later. Every request needs the server's token (in the
  printed URL, then a SameSite=Strict cookie); other hosts (DNS rebinding)
  and other origins are refused.

  Plots (Vega-Lite), tables of maps, maps, arrays (summarised), networks,
  errors with their data, Markdown (chive.viewer/md) and images are shown by
  chive.viewer's registry: add your own viewer there and it is used here
  and in notebooks."
  (:require [cheshire.core :as json]
            [chive.impl.http :as http]
            [chive.viewer :as viewer]
            [clojure.java.io :as io]
            [clojure.string :as str])
  (:import [java.io IOException OutputStream]
           [java.net InetSocketAddress]
           [java.time LocalTime]
           [java.time.format DateTimeFormatter]
           [java.util.concurrent Executors]
           [com.sun.net.httpserver HttpServer HttpHandler HttpExchange]))

(set! *warn-on-reflection* true)

(defonce ^:private state (atom nil))

(def ^:private page-js
  "(function(){var items=document.getElementById('items'),status=document.getElementById('status');
window.__chiveItems=0;
function add(it){if(document.querySelector('section.item[data-id=\"'+it.id+'\"]'))return;
var s=document.createElement('section');s.className='item';s.setAttribute('data-id',it.id);
s.innerHTML='<div class=\"meta\"></div><div class=\"body\"></div>';
s.firstChild.textContent='#'+it.id+'  '+it.label+'  '+it.time;s.lastChild.innerHTML=it.html;
items.insertBefore(s,items.firstChild);
while(items.children.length>window.__chiveMax)items.removeChild(items.lastChild);
chiveEmbed(s).then(function(){window.__chiveItems++;});}
var es=new EventSource('events');
es.addEventListener('item',function(e){add(JSON.parse(e.data));});
es.addEventListener('clear',function(){items.innerHTML='';});
es.onopen=function(){status.textContent='live';};
es.onerror=function(){status.textContent='reconnecting…';};})();")

(defn- page [history-max]
  (str "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>chive view</title>"
       "<link rel=\"icon\" href=\"data:,\"><style>" viewer/css "</style>"
       (str/join (for [[f] viewer/js-libs] (str "<script src=\"/" f "\"></script>")))
       "</head><body><h1>chive view <span id=\"status\">connecting…</span></h1>"
       "<p class=\"note\">Values from <code>(chive.view/show! x)</code> and <code>tap&gt;</code>, newest first.</p>"
       "<div id=\"items\"></div><script>" viewer/embed-js "window.__chiveMax=" history-max ";</script>"
       "<script>" page-js "</script></body></html>"))

(defn- sse-frame ^bytes [{:keys [id] :as item}]
  (http/utf8 (str "id: " id "\nevent: item\ndata: " (json/generate-string (select-keys item [:id :html :label :time])) "\n\n")))

(defn- send! [^OutputStream o ^bytes b]
  (locking o (.write o b) (.flush o)))

(defn- broadcast! [st ^bytes frame]
  (doseq [o (:clients @st)]
    (try (send! o frame)
         (catch IOException _ (swap! st update :clients disj o)))))

(defn running?
  "True while the view's server runs."
  []
  (some? @state))

(defn url
  "The page's URL (with its token), or nil when the view is not running."
  []
  (:url @@state))

(declare show!)

(defn start!
  "Starts the view's server (once: when it runs, returns it as it is).
  Options: :port (default 0, any free one), :bind (default \"127.0.0.1\";
  another address lets others who learn the token see your values),
  :history (values kept for newly opened pages, default 50), :token (default
  a fresh random one), :tap (default true: tap> values are shown).
  Returns {:url :port}."
  ([] (start! {}))
  ([{:keys [port bind history token tap] :or {port 0 bind "127.0.0.1" history 50 tap true}}]
   (locking state
     (if-let [st @state]
       (select-keys @st [:url :port])
       (let [_ (when-not (and (integer? port) (<= 0 port 65535))
                 (throw (ex-info (str "view: :port must be an integer in 0..65535, got " (pr-str port)) {:port port})))
             _ (when-not (and (integer? history) (pos? history))
                 (throw (ex-info (str "view: :history must be a positive integer, got " (pr-str history)) {:history history})))
             token (or token (http/random-token))
             _ (http/check-token! "view" token)
             server (HttpServer/create (InetSocketAddress. ^String bind (int port)) 0)
             p (.getPort (.getAddress server))
             st (atom {:items [] :next-id 1 :clients #{} :history history
                       :auth (http/auth bind p token (str "chive-view-" p))
                       :url (str "http://" (http/url-host bind) ":" p "/?token=" token) :port p :server server})
             tap-fn (fn [v] (try (show! v :label "tap>") (catch Throwable _ nil)))]
         (.createContext server "/"
                         (reify HttpHandler
                           (handle [_ ex]
                             (try
                               (if-let [[code msg] (http/guard ex (:auth @st))]
                                 (http/respond ex code "text/plain; charset=utf-8" (http/utf8 (str msg "\n")))
                                 (do
                                   (when (http/query-param ex "token")
                                     (.add (.getResponseHeaders ex) "Set-Cookie"
                                           (str (:cookie (:auth @st)) "=" token "; Path=/; HttpOnly; SameSite=Strict")))
                                   (let [path (.getPath (.getRequestURI ex))
                                         lib (some (fn [[f r]] (when (= path (str "/" f)) r)) viewer/js-libs)]
                                     (cond
                                       lib (http/respond ex 200 "application/javascript" (with-open [in (io/input-stream (viewer/lib-resource lib))] (.readAllBytes in)))
                                       (= path "/") (http/respond ex 200 "text/html; charset=utf-8" (http/utf8 (page history)))
                                       (= path "/events")
                                       (let [last-id (or (some-> (.getFirst (.getRequestHeaders ex) "Last-Event-ID") str/trim parse-long) 0)]
                                         (.add (.getResponseHeaders ex) "Content-Type" "text/event-stream")
                                         (.add (.getResponseHeaders ex) "Cache-Control" "no-store")
                                         (.sendResponseHeaders ex 200 0)
                                         (let [o (.getResponseBody ex)]
                                           ;; Replays what this page has not seen, then joins the broadcast;
                                           ;; under the stream's lock, so that nothing sent meanwhile is lost or doubled.
                                           (locking o
                                             (send! o (http/utf8 "retry: 1000\n: connected\n\n"))
                                             (let [items (locking st (swap! st update :clients conj o) (:items @st))]
                                               (doseq [it items :when (> (:id it) last-id)] (send! o (sse-frame it)))))))
                                       :else (http/respond ex 404 "text/plain" (http/utf8 "not found"))))))
                               (catch Throwable t
                                 (try (http/respond ex 500 "text/plain" (http/utf8 (str t))) (catch Throwable _ nil)))))))
         (.setExecutor server (Executors/newCachedThreadPool
                               (reify java.util.concurrent.ThreadFactory
                                 (newThread [_ r] (doto (Thread. r "chive-view") (.setDaemon true))))))
         (.start server)
         (when tap (add-tap tap-fn))
         (swap! st assoc :tap-fn (when tap tap-fn))
         (reset! state st)
         (when-not (.isLoopbackAddress (java.net.InetAddress/getByName bind))
           (binding [*out* *err*]
             (println "WARNING: the chive view listens on" bind "- anyone who reaches this port and learns the token sees the values you show")))
         (select-keys @st [:url :port]))))))

(defn stop!
  "Stops the view's server, closes open pages' streams and stops taking tap> values."
  []
  (locking state
    (when-let [st @state]
      (when-let [f (:tap-fn @st)] (remove-tap f))
      (doseq [^OutputStream o (:clients @st)] (try (.close o) (catch IOException _ nil)))
      (.stop ^HttpServer (:server @st) 0)
      (reset! state nil)))
  nil)

(defn show!
  "Shows `x` in the live view (starting it, and printing its URL, if it is
  not running) and returns `x`, so it can sit in a pipeline. :label names
  the item (default \"show!\")."
  [x & {:keys [label] :or {label "show!"}}]
  (when-not @state
    (let [{:keys [url]} (start!)]
      (println "chive view:" url)))
  (let [st @state
        html (viewer/html x)
        item (locking st
               (let [id (:next-id @st)
                     it {:id id :html html :label (str label) :time (.format (LocalTime/now) (DateTimeFormatter/ofPattern "HH:mm:ss"))}]
                 (swap! st (fn [s] (-> s (update :next-id inc)
                                       (update :items #(let [v (conj % it)] (if (> (count v) (:history s)) (subvec v (- (count v) (:history s))) v))))))
                 it))]
    (broadcast! st (sse-frame item))
    x))

(defn- drop-clients!
  "Closes every open page's stream (as a network drop would); the pages
  reconnect and get what they missed. For tests."
  []
  (when-let [st @state]
    (doseq [^OutputStream o (:clients @st)] (try (locking o (.close o)) (catch IOException _ nil)))
    (swap! st assoc :clients #{})))

(defn clear!
  "Empties the view (history and open pages)."
  []
  (when-let [st @state]
    (locking st (swap! st assoc :items []))
    (broadcast! st (http/utf8 "event: clear\ndata: \n\n")))
  nil)
