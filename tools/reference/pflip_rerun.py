"""Reruns the reference's flip model (PFlipPlusModel) on a golden dataset, outside its
pipeline: trained on the prescoring phase's inputs (ratings after the post-selection
similarity filter, the recorded prescoring rater table), predicting the notes its final phase
predicts. Writes noteId, PFLIP_PROBA and LABEL.

It measures how far the reference agrees with itself (its held-out tenth is random) and, with
MODE=hash, trains on the same rows as bridgenotes (its fixed hash split), which isolates the
features and the solver.

Setup (once):
  python3 -m venv /tmp/pyenv && /tmp/pyenv/bin/pip install numpy==1.26.4 pandas==2.2.2 \
      pyarrow==16.1.0 scipy==1.11.4 scikit-learn==1.3.2 joblib
  mkdir -p /tmp/cn && git -C <mirror of twitter/communitynotes> archive HEAD scoring/src | tar -x -C /tmp/cn
  mkdir -p /tmp/gold/DATASET && for f in notes ratings noteStatusHistory userEnrollment; do
      zcat ../shared/golden/DATASET/input/$f-00000.tsv.gz > /tmp/gold/DATASET/$f.tsv; done

Usage: /tmp/pyenv/bin/python tools/reference/pflip_rerun.py DATASET hash|random OUT.tsv
"""
import sys, logging
sys.path.insert(0, "/tmp/cn/scoring/src")
logging.disable(logging.CRITICAL)
import numpy as np, pandas as pd
from scoring import constants as c, process_data
from scoring import pflip_plus_model as pm
from scoring.post_selection_similarity import apply_post_selection_similarity
ds, mode, out = sys.argv[1], sys.argv[2], sys.argv[3]
c.epochMillis = 1795132800000
d = f"{__file__.rsplit('/tools/', 1)[0]}/../shared/golden/{ds}"
notes, ratings, nsh, enroll = process_data.read_from_tsv(
  f"/tmp/gold/{ds}/notes.tsv", f"/tmp/gold/{ds}/ratings.tsv",
  f"/tmp/gold/{ds}/noteStatusHistory.tsv", f"/tmp/gold/{ds}/userEnrollment.tsv", headers=True)
notes, ratings, nsh = process_data.preprocess_data(notes, ratings, nsh)
rater = pd.read_csv(f"{d}/reference-output/prescoring/prescoring_rater_model_output.tsv.gz", sep="\t",
                    dtype={c.raterParticipantIdKey: str})
pss = rater[rater[c.scorerNameKey].isna()][[c.raterParticipantIdKey, c.postSelectionValueKey, c.quasiCliqueValueKey]]
for df in (ratings, notes, nsh):
  for col in (c.raterParticipantIdKey, c.noteAuthorParticipantIdKey):
    if col in df: df[col] = df[col].astype(str)
M = (1 << 64) - 1
def h(note, tag):
  z = (note & M) ^ ((tag * 0x9E3779B97F4A7C15) & M)
  z = (z + 0x9E3779B97F4A7C15) & M
  z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
  z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
  return z ^ (z >> 31)
if mode == "hash":
  def split(df, train_size):
    keys = [h(int(n), 1 if m == "MIN" else 2) for n, m in zip(df[c.noteIdKey], df["SCORING_CUTOFF_MODE"])]
    order = np.argsort(np.array(keys, dtype=np.uint64), kind="stable")
    k = int(np.floor(len(df) * train_size))
    return df.iloc[order[:k]], df.iloc[order[k:]]
  pm.train_test_split = split
trainRatings = apply_post_selection_similarity(notes, ratings.copy(), pss)
model = pm.PFlipPlusModel()
model.fit(notes.copy(), trainRatings, nsh.copy(), rater.copy())
# Final phase: targets and their posts.
recent = c.epochMillis - 24 * 3600 * 1000
first = pd.to_numeric(nsh[c.timestampMillisOfNoteFirstNonNMRLabelKey], errors="coerce")
latest = pd.to_numeric(nsh[c.timestampMillisOfNoteMostRecentNonNMRLabelKey], errors="coerce")
mask = (nsh[c.timestampMillisOfNmrDueToMinStableCrhTimeKey] > 0) | (
  (nsh[c.currentLabelKey] == c.currentlyRatedHelpful) & (first.ge(recent) | latest.ge(recent)))
ids = nsh[mask][[c.noteIdKey]]
tweets = notes[[c.noteIdKey, c.tweetIdKey]].merge(ids)[[c.tweetIdKey]].drop_duplicates()
adj = notes[[c.noteIdKey, c.tweetIdKey]].merge(tweets)[[c.noteIdKey]]
pn, pr, ph = process_data.preprocess_data(notes.merge(adj), ratings.merge(adj), nsh.merge(adj))
pr = apply_post_selection_similarity(pn, pr, rater[[c.raterParticipantIdKey, c.postSelectionValueKey, c.quasiCliqueValueKey]].dropna())
pred = model.predict(pn, pr, ph, rater.copy())
pred[[c.noteIdKey, pm.PFLIP_PROBA, pm.LABEL]].to_csv(out, sep="\t", index=False)
print("threshold", model._predictionThreshold, "nonzero", int((model._pipeline[-1].coef_ != 0).sum()), "intercept", model._pipeline[-1].intercept_)
