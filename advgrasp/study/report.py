"""`advgrasp study report`: the analysis written to a folder as Markdown, JSON and PNG plots."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from advgrasp.study import analysis
from advgrasp.study.store import StudyStore


def _pct(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{100 * value:.1f} %"


def _p(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.3f}"


def write_report(store: StudyStore, out_dir: str | Path, outcome: str = "r_r") -> dict:
    """Analyse the study and write report.md, summary.json and the plots into `out_dir`.

    Args:
        store: the open study.
        out_dir: the report folder (created).
        outcome: the per-trial outcome the tests compare: "r_r" (grasp success) or
            "robust_success" (R_R (1 - R_H)).

    Returns:
        The summary written to summary.json.
    """
    from advgrasp.study.errors import StudyDataError

    data = analysis.load(store)
    if data.trials.empty:
        left = data.left_out
        if left["withdrawn_trials"] or left["excluded_trials"] or (
                store.participants() and all(p["withdrawn_at"] for p in store.participants())):
            raise StudyDataError(f"study {store.path}: no participants left to analyse (every "
                                 "participant withdrawn or every scored trial excluded); add "
                                 "participants and run sessions, then report again")
        raise StudyDataError(f"study {store.path}: no trials logged yet; run sessions with "
                             "`advgrasp play` or `advgrasp study simulate`, then report")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"study": store.study_config()["name"], "outcome": outcome,
               "left_out": data.left_out,
               "participants_analysed": int(data.trials["participant"].nunique())
               if len(data.trials) else 0,
               "rates": analysis.rates(data),
               "gee": analysis.gee_pairwise(data, outcome) if len(data.trials) else
               {"fitted": False, "note": "no trials", "pairs": []},
               "wilcoxon": analysis.wilcoxon_pairwise(data, outcome),
               "questionnaire": analysis.questionnaire_summary(store, data),
               "questionnaire_scale": store.study_config()["questionnaire"]["scale"],
               "held_out": analysis.heldout_summary(store, data)}
    plots = _plots(data, summary, out, outcome)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    (out / "report.md").write_text("\n".join(_markdown(summary, plots)) + "\n")
    summary["plots"] = plots
    return summary


def _markdown(s: dict, plots: list[str]) -> list[str]:
    left = s["left_out"]
    lines = [f"# Study report: {s['study']}", "",
             f"Participants analysed: {s['participants_analysed']}. Left out: "
             f"{left['practice_trials']} practice trials; "
             f"{len(left['withdrawn_participants'])} withdrawn participants "
             f"({', '.join(left['withdrawn_participants']) or 'none'}) with "
             f"{left['withdrawn_trials']} scored trials; {left['excluded_trials']} excluded "
             "trials" + (f" (reasons: {'; '.join(left['exclusion_reasons'])})"
                         if left["exclusion_reasons"] else "") + ".", "",
             "## Success per condition (95 % Wilson intervals)", "",
             "| condition | participants | trials | grasp success | kept the object | "
             "drop when pushed | median reaction time |", "|---|---|---|---|---|---|---|"]
    for r in s["rates"]:
        lines.append(
            f"| {r['condition']} | {r['participants']} | {r['trials']} | {_pct(r['r_r'])} "
            f"({_pct(r['r_r_ci'][0])}-{_pct(r['r_r_ci'][1])}) | {_pct(r['robust_success'])} "
            f"({_pct(r['robust_success_ci'][0])}-{_pct(r['robust_success_ci'][1])}) | "
            f"{_pct(r['drop_given_pushed'])} | "
            + ("n/a" if not math.isfinite(r["reaction_time_median_s"])
               else f"{r['reaction_time_median_s']:.2f} s") + " |")
    lines += ["", f"## Tests between conditions on {analysis.OUTCOMES[s['outcome']]}", "",
              "Logistic GEE on per-trial outcomes, participants as clusters (exchangeable "
              "correlation); Wald z-test per pair; Holm-adjusted p." +
              (f" Note: {s['gee']['note']}." if s["gee"]["note"] else ""), "",
              "| pair | log odds ratio | z | p | p (Holm) |", "|---|---|---|---|---|"]
    for r in s["gee"]["pairs"]:
        lines.append(f"| {r['a']} vs {r['b']} | {r['log_odds_ratio']:.3f} | {r['z']:.2f} | "
                     f"{_p(r['p'])} | {_p(r['p_holm'])} |")
    lines += ["", "Wilcoxon signed-rank test on paired per-participant rates (zero differences "
              "kept in the ranking, Pratt; normal approximation with tie correction when zeros "
              "or ties occur); Holm-adjusted p.", "",
              "| pair | pairs | mean a | mean b | zeros | tied | W | method | p | p (Holm) |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in s["wilcoxon"]:
        lines.append(f"| {r['a']} vs {r['b']} | {r['n']} | {_pct(r['mean_a'])} | "
                     f"{_pct(r['mean_b'])} | {r['zeros']} | {r['ties']} | "
                     f"{_p(r['statistic'])} | {r['method']} | {_p(r['p'])} | "
                     f"{_p(r['p_holm'])} |")
    if s["held_out"]:
        lines += ["", "## The resulting robots on held-out scenes", "",
                  "Mean over the robots each condition produced; every robot meets the same "
                  "held-out scenes.", "",
                  "| condition | object set | robots | scenes | grasp success | kept vs random "
                  "| kept vs oracle |", "|---|---|---|---|---|---|---|"]
        for r in s["held_out"]:
            lines.append(f"| {r['condition']} | {r['object_set']} | {r['robots']} | "
                         f"{r['scenes']} | {_pct(r['grasp_success'])} | "
                         f"{_pct(r['robust_random'])} | {_pct(r['robust_oracle'])} |")
    if s["questionnaire"]:
        lines += ["", "## Questionnaire", "", "| condition | item | n | median | IQR | mean |",
                  "|---|---|---|---|---|---|"]
        for r in s["questionnaire"]:
            item = r["item"] + (" (reverse-keyed)" if r["reverse"] else "")
            lines.append(f"| {r['condition']} | {item} | {r['n']} | {r['median']:g} | "
                         f"{r['q1']:g}-{r['q3']:g} | {r['mean']:.2f} |")
    lines += ["", "## Plots", ""] + [f"![{Path(p).stem}]({p})" for p in plots]
    return lines


def _plots(data, summary: dict, out: Path, outcome: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    written = []
    rates = [r for r in summary["rates"] if r["trials"]]
    if rates:
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        x = np.arange(len(rates))
        for offset, key, label in ((-0.2, "r_r", "grasp success"),
                                   (0.2, "robust_success", "kept the object")):
            values = [r[key] for r in rates]
            low = [v - r[f"{key}_ci"][0] for v, r in zip(values, rates, strict=True)]
            high = [r[f"{key}_ci"][1] - v for v, r in zip(values, rates, strict=True)]
            ax.bar(x + offset, values, 0.4, yerr=[low, high], capsize=3, label=label)
        ax.set_xticks(x, [r["condition"] for r in rates])
        ax.set_ylim(0, 1)
        ax.set_ylabel("rate over scored trials (95 % CI)")
        ax.legend(loc="upper right", fontsize=8)
        written.append(_save(fig, out / "success_by_condition.png"))
    curves = analysis.learning_curves(data, outcome)
    if curves:
        names = [c for c in data.conditions if c in curves]
        fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.0), sharey=True,
                                 squeeze=False)
        for ax, name in zip(axes[0], names, strict=True):
            for code, (trial, running) in sorted(curves[name].items()):
                ax.plot(trial, running, lw=1, alpha=0.7, label=code)
            ax.set_title(name)
            ax.set_xlabel("scored trial")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(-0.05, 1.05)
        axes[0][0].set_ylabel(f"{analysis.OUTCOMES[outcome]}\n(running mean of 5)")
        if sum(len(v) for v in curves.values()) <= 3 * 12:
            axes[0][-1].legend(fontsize=7, loc="lower right")
        written.append(_save(fig, out / "learning_curves.png"))
    if summary["held_out"]:
        sets = sorted({r["object_set"] for r in summary["held_out"]})
        fig, axes = plt.subplots(1, len(sets), figsize=(4.2 * len(sets), 3.2), sharey=True,
                                 squeeze=False)
        for ax, set_name in zip(axes[0], sets, strict=True):
            rows = [r for r in summary["held_out"] if r["object_set"] == set_name]
            x = np.arange(len(rows))
            for offset, key, label in ((-0.27, "grasp_success", "grasp success"),
                                       (0, "robust_random", "kept vs random"),
                                       (0.27, "robust_oracle", "kept vs oracle")):
                ax.bar(x + offset, [r[key] for r in rows], 0.27, label=label)
            ax.set_xticks(x, [r["condition"] for r in rows])
            ax.set_title(f"held-out {set_name} ({rows[0]['scenes']} scenes per robot)")
            ax.set_ylim(0, 1.2)
            ax.set_yticks(np.linspace(0, 1, 6))
        axes[0][0].legend(fontsize=7, ncol=3, loc="upper left")
        written.append(_save(fig, out / "held_out.png"))
    if summary["questionnaire"]:
        items = list(dict.fromkeys(r["item"] for r in summary["questionnaire"]))
        groups = list(dict.fromkeys(r["condition"] for r in summary["questionnaire"]))
        fig, ax = plt.subplots(figsize=(6.4, 0.5 + 0.5 * len(items)))
        width = 0.8 / len(groups)
        for g, condition in enumerate(groups):
            rows = {r["item"]: r for r in summary["questionnaire"] if r["condition"] == condition}
            y = np.arange(len(items)) + g * width
            ax.barh(y, [rows[i]["mean"] if i in rows else 0 for i in items], width,
                    label=condition)
        ax.set_yticks(np.arange(len(items)) + 0.4 - width / 2, items)
        scale = summary["questionnaire_scale"]
        ax.set_xlim(scale["min"], scale["max"])
        ax.set_xlabel(f"mean answer ({scale['min']}-{scale['max']}; bars start at "
                      f"{scale['min']})")
        ax.legend(fontsize=7)
        written.append(_save(fig, out / "questionnaire.png"))
    return written


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path.name
