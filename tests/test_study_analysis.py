"""The study's statistics: the paired Wilcoxon test with zeros and ties, the GEE with
participants as clusters, Holm's correction, and what the analysis leaves out."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm, rankdata, wilcoxon

from advgrasp.study import analysis


def pratt_normal_p(diff: np.ndarray) -> float:
    """Two-sided p of the signed-rank test written out by hand: every difference is ranked,
    zeros included (Pratt), tied ones at their mean rank; under the null each non-zero rank is
    positive or negative with probability 1/2, so the positive rank sum has mean sum(r) / 2 and
    variance sum(r^2) / 4 over the non-zero differences (this covers zeros and ties)."""
    ranks = rankdata(np.abs(diff))
    nonzero = ranks[diff != 0]
    mean, var = nonzero.sum() / 2, (nonzero**2).sum() / 4
    return float(2 * norm.sf(abs(ranks[diff > 0].sum() - mean) / np.sqrt(var)))


def test_wilcoxon_with_zero_differences_and_ties():
    # Rates of 4 trials: most participants tie, three show no difference at all.
    a = np.array([0.5, 0.5, 0.75, 0.75, 1.0, 0.5, 0.25, 0.75, 1.0, 0.5])
    b = np.array([0.5, 0.25, 0.5, 0.75, 0.75, 0.5, 0.5, 0.25, 0.5, 0.25])
    result = analysis.paired_wilcoxon(a, b)
    assert (result["n"], result["zeros"], result["ties"]) == (10, 3, 7)
    assert result["method"] == "approx"
    assert result["p"] == pytest.approx(pratt_normal_p(a - b), rel=1e-9)
    assert result["p"] == pytest.approx(0.0513, abs=1e-4)
    # The choice matters: dropping the zeros (scipy's default) ranks 7 differences, not 10.
    dropped = wilcoxon(a - b, zero_method="wilcox", method="approx").pvalue
    assert dropped == pytest.approx(0.0532, abs=1e-4)


def test_wilcoxon_every_difference_zero_runs_no_test():
    rates = np.array([0.25, 0.5, 0.5, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy would warn and divide by zero here
        result = analysis.paired_wilcoxon(rates, rates.copy())
    assert result["p"] == 1.0 and result["method"] == "none" and result["zeros"] == 4
    assert "every paired difference is zero" in result["note"]


def test_wilcoxon_without_ties_is_exact():
    a = np.array([0.9, 0.8, 0.75, 0.6, 0.55, 0.3])
    b = np.array([0.1, 0.2, 0.3, 0.35, 0.5, 0.4])
    result = analysis.paired_wilcoxon(a, b)
    assert result["method"] == "exact" and result["zeros"] == 0 and result["ties"] == 0
    # W- = 2 (the one negative difference has rank 2): 3 of the 64 equally likely sign
    # patterns give a sum of negative ranks of 2 or less, as many give 19 or more.
    assert result["p"] == pytest.approx(2 * 3 / 2**6)


def test_holm():
    assert analysis.holm([0.01, 0.04, 0.03, float("nan")])[:3] == pytest.approx(
        [0.03, 0.06, 0.06])
    assert np.isnan(analysis.holm([0.5, float("nan")])[1])


def _trials(rates: dict[str, list[float]], trials: int, rng) -> pd.DataFrame:
    rows = []
    for condition, per_person in rates.items():
        for person, p in enumerate(per_person):
            outcomes = rng.random(trials) < p
            for i, success in enumerate(outcomes):
                rows.append({"participant": f"P{person}", "condition": condition,
                             "trial_index": i, "r_r": float(success),
                             "robust_success": float(success)})
    return pd.DataFrame(rows)


def test_gee_finds_a_real_difference_and_not_a_null_one():
    rng = np.random.default_rng(0)
    people = rng.uniform(-0.1, 0.1, size=12)
    data = analysis.AnalysisData(_trials({"low": list(0.3 + people),
                                          "same": list(0.3 + people),
                                          "high": list(0.8 + people)}, 20, rng),
                                 conditions=["low", "same", "high"])
    result = analysis.gee_pairwise(data)
    pairs = {(r["a"], r["b"]): r for r in result["pairs"]}
    assert result["fitted"] and set(pairs) == {("low", "same"), ("low", "high"),
                                               ("same", "high")}
    assert pairs[("low", "high")]["p_holm"] < 1e-6
    assert pairs[("low", "high")]["log_odds_ratio"] < -1.5
    assert pairs[("low", "same")]["p_holm"] > 0.05
    assert all(r["p_holm"] >= r["p"] for r in result["pairs"])
    wilcox = {(r["a"], r["b"]): r for r in analysis.wilcoxon_pairwise(data)}
    assert wilcox[("low", "high")]["p_holm"] < 0.01 and wilcox[("low", "high")]["n"] == 12


def test_gee_needs_two_participants():
    rng = np.random.default_rng(1)
    data = analysis.AnalysisData(_trials({"a": [0.5], "b": [0.5]}, 10, rng),
                                 conditions=["a", "b"])
    result = analysis.gee_pairwise(data)
    assert not result["fitted"] and "two participants" in result["note"]
