(ns chive.impl.http
  "What chive's local web servers (notebooks, the live view) share: answers,
  and the guard that refuses other hosts, other origins and requests
  without the server's token."
  (:require [clojure.string :as str])
  (:import [java.nio.charset StandardCharsets]
           [com.sun.net.httpserver HttpExchange]))

(set! *warn-on-reflection* true)

(defn respond [^HttpExchange ex code ^String ctype ^bytes body]
  (.add (.getResponseHeaders ex) "Content-Type" ctype)
  (.add (.getResponseHeaders ex) "Cache-Control" "no-store")
  (.sendResponseHeaders ex code (alength body))
  (with-open [o (.getResponseBody ex)] (.write o body)))

(defn utf8 ^bytes [^String s] (.getBytes s StandardCharsets/UTF_8))

(defn random-token []
  (let [b (byte-array 24)]
    (.nextBytes (java.security.SecureRandom.) b)
    (apply str (map #(format "%02x" (bit-and 0xFF %)) b))))

(defn split-host
  "[host port-or-nil] of a Host header value (\"127.0.0.1:7777\", \"[::1]:7777\", \"localhost\")."
  [^String h]
  (when h
    (let [h (str/lower-case (str/trim h))]
      (if-let [[_ host port] (re-matches #"(\[[0-9a-f:.]+\]|[^:\[\]]+)(?::(\d+))?" h)]
        [host (some-> port parse-long)]
        [h nil]))))

(defn cookie-token [^HttpExchange ex cookie-name]
  (some (fn [^String line]
          (some (fn [part] (let [[k v] (map str/trim (str/split part #"=" 2))] (when (= k cookie-name) v)))
                (str/split line #";")))
        (.get (.getRequestHeaders ex) "Cookie")))

(defn query-param [^HttpExchange ex k]
  (some (fn [part] (let [[a b] (str/split part #"=" 2)] (when (= a k) (or b ""))))
        (some-> (.getRawQuery (.getRequestURI ex)) (str/split #"&"))))

(defn const-eq? [^String a ^String b]
  (and a b (java.security.MessageDigest/isEqual (.getBytes a StandardCharsets/UTF_8) (.getBytes b StandardCharsets/UTF_8))))

(defn guard
  "nil when request `ex` may be served, else [status message]. Rules:
  the Host header names this server (127.0.0.1, localhost or [::1], or the
  bound address, with our port): a page on another name that resolves here
  (DNS rebinding) is refused; an Origin header, when sent, is this server's
  own; and the request carries the server's token, in the URL (which then
  sets a SameSite=Strict cookie) or in that cookie, so that another site
  cannot make your browser evaluate a notebook or read your values."
  [^HttpExchange ex {:keys [hosts port token cookie]}]
  (let [hdrs (.getRequestHeaders ex)
        [host hport] (split-host (.getFirst hdrs "Host"))
        origin (.getFirst hdrs "Origin")]
    (cond
      (not (and host (or (nil? hosts) (contains? hosts host)) (or (nil? hport) (= hport port))))
      [421 (str "this server answers to " (if hosts (str/join ", " (sort hosts)) "its address") " on port " port
                ", not to Host " (pr-str (.getFirst hdrs "Host")))]
      (and origin (not (let [[scheme rest] (str/split (str/lower-case origin) #"://" 2)
                             [oh op] (split-host rest)]
                         (and (= scheme "http") (or (nil? hosts) (contains? hosts oh)) (= op port)))))
      [403 (str "requests from other origins are refused (Origin " origin ")")]
      (not (or (const-eq? token (query-param ex "token")) (const-eq? token (cookie-token ex cookie))))
      [403 "this server needs its token: open the URL it printed when it started (http://.../?token=...)"])))

(defn auth
  "The guard's settings for a server bound to `bind` on `port`: loopback
  names always, the bound address too when it is not loopback, any Host for
  a wildcard bind."
  [^String bind port token cookie]
  (let [loopback? (.isLoopbackAddress (java.net.InetAddress/getByName bind))
        wildcard? (.isAnyLocalAddress (java.net.InetAddress/getByName bind))]
    {:port port :token token :cookie cookie
     :hosts (when-not wildcard?
              (cond-> #{"127.0.0.1" "localhost" "[::1]"}
                (not loopback?) (conj (str/lower-case (if (str/includes? bind ":") (str "[" bind "]") bind)))))}))

(defn url-host
  "The host to print in a URL for a server bound to `bind`."
  [^String bind]
  (cond (.isAnyLocalAddress (java.net.InetAddress/getByName bind)) "127.0.0.1"
        (str/includes? bind ":") (str "[" bind "]")
        :else bind))

(defn check-token!
  "Throws unless `token` is at least 16 letters, digits, - or _."
  [what token]
  (when-not (and (string? token) (>= (count token) 16) (re-matches #"[A-Za-z0-9_-]+" token))
    (throw (ex-info (str what ": :token must be at least 16 letters, digits, - or _") {}))))
