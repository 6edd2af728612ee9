"""The study's statistics: rates with intervals, cluster-aware and paired tests, summaries.

Which trials count: scored trials (practice left out) of participants who did not withdraw,
minus excluded trials (an exclusion can name a trial, a session or a participant). Every left
out trial is counted in `AnalysisData.left_out`.

Two tests compare every pair of conditions, each family corrected for multiple comparisons
with Holm's step-down method:

- per trial: a logistic GEE (generalised estimating equations) of the outcome on the
  condition, with participants as clusters and an exchangeable working correlation, so that
  one participant's many trials are not taken as independent; pairwise Wald z-tests of the
  condition coefficients.
- per participant: the Wilcoxon signed-rank test on paired success rates (participants who
  played both conditions). Rates of a few trials tie often and often do not differ at all:
  zero differences are kept in the ranking (Pratt 1959), so each participant who showed no
  difference still counts and the ranks of the others are their places among everyone, not
  only among those who differed (scipy's default drops them and tests fewer people); the
  normal approximation, whose variance is computed from the actual ranks and so covers zeros
  and ties, is used whenever zeros or ties occur (the exact distribution assumes neither);
  when every difference is zero no test is run and p = 1 is reported.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from advgrasp.evaluate import wilson
from advgrasp.study.store import StudyStore

OUTCOMES = {"r_r": "grasp success (R_R)", "robust_success": "kept the object, R_R (1 - R_H)"}


@dataclass
class AnalysisData:
    """The trials that count and what was left out.

    Attributes:
        trials: one row per analysed trial (the `tidy_trials` view's columns).
        left_out: counts: practice trials, withdrawn participants and their trials, excluded
            trials (with the reasons given).
        conditions: condition names in the study's order.
    """

    trials: pd.DataFrame
    left_out: dict = field(default_factory=dict)
    conditions: list[str] = field(default_factory=list)


def load(store: StudyStore) -> AnalysisData:
    """Read the study's trials and separate what the analysis leaves out."""
    every = pd.DataFrame(store.rows("SELECT * FROM tidy_trials"))
    conditions = [c["name"] for c in store.conditions()]
    withdrawn = [p["code"] for p in store.participants() if p["withdrawn_at"]]
    reasons = [e["reason"] for e in store.events() if e["kind"] == "exclusion"]
    if every.empty:
        return AnalysisData(every, {"practice_trials": 0, "withdrawn_participants": withdrawn,
                                    "withdrawn_trials": 0, "excluded_trials": 0,
                                    "exclusion_reasons": reasons}, conditions)
    scored = every[every["practice"] == 0]
    kept = scored[(scored["withdrawn"] == 0) & (scored["excluded"] == 0)]
    left_out = {"practice_trials": int((every["practice"] == 1).sum()),
                "withdrawn_participants": withdrawn,
                "withdrawn_trials": int((scored["withdrawn"] == 1).sum()),
                "excluded_trials": int(((scored["withdrawn"] == 0)
                                        & (scored["excluded"] == 1)).sum()),
                "exclusion_reasons": reasons}
    return AnalysisData(kept.reset_index(drop=True), left_out, conditions)


def rates(data: AnalysisData) -> list[dict]:
    """Per condition: trials, participants, grasp and robust success with Wilson 95 % CIs."""
    rows = []
    for name in data.conditions:
        block = data.trials[data.trials["condition"] == name] if len(data.trials) else []
        n = len(block)
        row = {"condition": name, "trials": n,
               "participants": int(block["participant"].nunique()) if n else 0}
        for outcome in OUTCOMES:
            k = int(block[outcome].sum()) if n else 0
            row[outcome] = k / n if n else float("nan")
            row[f"{outcome}_ci"] = wilson(k, n)
        pushed = block[block["perturbation"].notna()] if n else []
        row["drop_given_pushed"] = float(pushed["r_h"].mean()) if len(pushed) else float("nan")
        times = block["reaction_time_s"].dropna() if n else pd.Series(dtype=float)
        row["reaction_time_median_s"] = float(times.median()) if len(times) else float("nan")
        rows.append(row)
    return rows


def learning_curves(data: AnalysisData, outcome: str = "r_r", window: int = 5) -> dict:
    """Per condition and participant: the running mean of the outcome over the last `window`
    scored trials, as {condition: {participant: (trial numbers, means)}}."""
    curves: dict = {}
    for (condition, code), block in data.trials.groupby(["condition", "participant"]):
        values = block.sort_values("trial_index")[outcome].to_numpy(float)
        running = pd.Series(values).rolling(window, min_periods=1).mean().to_numpy()
        curves.setdefault(condition, {})[code] = (np.arange(1, len(values) + 1), running)
    return curves


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (NaN stays NaN)."""
    from statsmodels.stats.multitest import multipletests

    values = np.asarray(p_values, float)
    adjusted = np.full(values.shape, np.nan)
    finite = np.isfinite(values)
    if finite.any():
        adjusted[finite] = multipletests(values[finite], method="holm")[1]
    return adjusted.tolist()


def paired_wilcoxon(a: np.ndarray, b: np.ndarray) -> dict:
    """Wilcoxon signed-rank test of paired rates `a` and `b` (one pair per participant).

    Returns:
        {"n", "zeros", "ties", "statistic", "p", "method", "note"}: ties counts the
        non-zero absolute differences that share their value with another one.
    """
    from scipy.stats import wilcoxon

    diff = np.asarray(a, float) - np.asarray(b, float)
    nonzero = np.abs(diff[diff != 0])
    _, counts = np.unique(np.round(nonzero, 12), return_counts=True)
    out = {"n": int(diff.size), "zeros": int((diff == 0).sum()),
           "ties": int(counts[counts > 1].sum())}
    if diff.size == 0 or not nonzero.size:
        return {**out, "statistic": float("nan"), "p": 1.0, "method": "none",
                "note": "every paired difference is zero: no evidence of a difference"}
    method = "approx" if out["zeros"] or out["ties"] else "exact"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scipy warns that n is small
        result = wilcoxon(diff, zero_method="pratt", method=method)
    return {**out, "statistic": float(result.statistic), "p": float(result.pvalue),
            "method": method, "note": ""}


def gee_pairwise(data: AnalysisData, outcome: str = "r_r") -> dict:
    """Logistic GEE of the outcome on the condition, participants as clusters.

    Returns:
        {"fitted": bool, "note", "pairs": [{"a", "b", "log_odds_ratio", "z", "p", "p_holm"}]}.
    """
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    present = [c for c in data.conditions if c in set(data.trials.get("condition", []))]
    pairs = list(itertools.combinations(present, 2))
    if len(present) < 2 or data.trials["participant"].nunique() < 2:
        return {"fitted": False, "note": "needs two conditions and two participants",
                "pairs": []}
    frame = data.trials[[outcome, "condition", "participant"]].copy()
    frame["condition"] = pd.Categorical(frame["condition"], categories=present)
    frame["y"] = frame[outcome].astype(float)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = smf.gee("y ~ C(condition)", "participant", frame,
                          family=sm.families.Binomial(),
                          cov_struct=sm.cov_struct.Exchangeable()).fit()
            names = list(fit.params.index)
            rows = []
            for a, b in pairs:
                contrast = np.zeros(len(names))
                for name, sign in ((a, 1.0), (b, -1.0)):
                    term = f"C(condition)[T.{name}]"
                    if term in names:
                        contrast[names.index(term)] += sign
                test = fit.t_test(contrast)
                rows.append({"a": a, "b": b, "log_odds_ratio": float(test.effect[0]),
                             "z": float(np.ravel(test.tvalue)[0]),
                             "p": float(np.ravel(test.pvalue)[0])})
    except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as err:
        return {"fitted": False, "note": f"GEE did not fit: {err}", "pairs": []}
    for row, adjusted in zip(rows, holm([r["p"] for r in rows]), strict=True):
        row["p_holm"] = adjusted
    note = "" if all(np.isfinite(r["p"]) for r in rows) else \
        "some contrasts are not estimable (a condition with all or no successes)"
    return {"fitted": True, "note": note, "pairs": rows}


def wilcoxon_pairwise(data: AnalysisData, outcome: str = "r_r") -> list[dict]:
    """Paired Wilcoxon tests of per-participant rates for every pair of conditions (Holm)."""
    if data.trials.empty:
        return []
    per = data.trials.pivot_table(index="participant", columns="condition", values=outcome,
                                  aggfunc="mean")
    rows = []
    for a, b in itertools.combinations([c for c in data.conditions if c in per], 2):
        both = per[[a, b]].dropna()
        rows.append({"a": a, "b": b, "mean_a": float(both[a].mean()),
                     "mean_b": float(both[b].mean()),
                     **paired_wilcoxon(both[a].to_numpy(), both[b].to_numpy())})
    for row, adjusted in zip(rows, holm([r["p"] for r in rows]), strict=True):
        row["p_holm"] = adjusted
    return rows


def questionnaire_summary(store: StudyStore, data: AnalysisData) -> list[dict]:
    """Per condition and item: answers, median, quartiles and mean (withdrawn left out)."""
    answers = pd.DataFrame(store.rows(
        "SELECT a.item_id, a.value, c.name AS condition, p.code AS participant FROM answers a "
        "JOIN sessions s ON s.id = a.session_id JOIN conditions c ON c.id = s.condition_id "
        "JOIN participants p ON p.id = s.participant_id WHERE p.withdrawn_at IS NULL"))
    items = store.study_config()["questionnaire"]["items"]
    rows = []
    for condition in data.conditions:
        for item in items:
            values = (answers[(answers["condition"] == condition)
                              & (answers["item_id"] == item["id"])]["value"]
                      if len(answers) else pd.Series(dtype=float))
            if values.empty:
                continue
            q1, median, q3 = np.percentile(values, [25, 50, 75])
            rows.append({"condition": condition, "item": item["id"],
                         "reverse": item["reverse"], "n": int(values.size),
                         "median": float(median), "q1": float(q1), "q3": float(q3),
                         "mean": float(values.mean())})
    return rows


def heldout_summary(store: StudyStore, data: AnalysisData) -> list[dict]:
    """Per condition and object set: the mean held-out results of the robots it produced."""
    rows = store.rows(
        "SELECT c.name AS condition, e.object_set, e.scenes, e.grasp_success, e.robust_random, "
        "e.robust_oracle FROM evaluations e JOIN sessions s ON s.id = e.session_id JOIN "
        "conditions c ON c.id = s.condition_id JOIN participants p ON p.id = s.participant_id "
        "WHERE p.withdrawn_at IS NULL")
    if not rows:
        return []
    frame = pd.DataFrame(rows)
    out = []
    for (condition, object_set), block in frame.groupby(["condition", "object_set"], sort=False):
        out.append({"condition": condition, "object_set": object_set, "robots": len(block),
                    "scenes": int(block["scenes"].iloc[0]),
                    **{k: float(block[k].mean()) for k in ("grasp_success", "robust_random",
                                                           "robust_oracle")}})
    order = {name: i for i, name in enumerate(data.conditions)}
    return sorted(out, key=lambda r: (order.get(r["condition"], 99), r["object_set"]))
