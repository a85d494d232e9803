"""Early trending: the chance that a paper announced this morning will be picked up by the community.

The label is "featured on Hugging Face Daily Papers" (or, when the operator sets
`EARLY_LABEL_UPVOTES`, featured with at least that many upvotes). A model is a logistic
regression over the paper's vector and a few named inputs, calibrated so that "30 %" means
about 30 %, and stored with its training window, feature list and evaluation.

Leak-free by construction: a model trained at cutoff C learns only labels known before C and
scores only papers announced on or after C; a paper's inputs (its authors' history, its
topics' momentum) are computed from what was known before its own announcement day.

Pure modules: `labels` (who counts as featured, and from when), `features` (the inputs),
`model` (fit, calibrate, predict, explain, serialise), `metrics`, `replay` (the rolling
time-split evaluation), `reasons` (inputs in words). I/O: `queries` (SQL), `topic_signal`
(what the topic model says about a paper), `service` (train, score; never commits).
"""
