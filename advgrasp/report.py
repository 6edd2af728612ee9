"""metrics.json, report.md and PNG plots for a run folder (or the demo's pair of runs)."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402


def read_curve(run_dir: Path) -> dict[str, np.ndarray]:
    """attempt, running grasp success and running drop rate from a run's metrics.csv."""
    path = Path(run_dir) / "metrics.csv"
    rows = {"attempt": [], "success_200": [], "drop_200": []}
    if not path.exists():
        return _monitor_curve(Path(run_dir) / "monitor.monitor.csv")
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row.get("success_200") not in (None, ""):
                for key in rows:
                    rows[key].append(float(row[key]))
                if row.get("phase") == "1":  # no adversary acts in phase one: no drop rate
                    rows["drop_200"][-1] = float("nan")
    return {k: np.array(v) for k, v in rows.items()}


def _monitor_curve(path: Path, window: int = 200) -> dict[str, np.ndarray]:
    """The same running rates from a stable-baselines3 Monitor file (one row per attempt)."""
    if not path.exists():
        return {"attempt": np.array([]), "success_200": np.array([]), "drop_200": np.array([])}
    with open(path, newline="") as f:
        next(f)  # the Monitor's JSON header line
        rows = list(csv.DictReader(f))
    lifted = np.array([float(r["R_R"]) for r in rows])
    dropped = np.array([float(r["R_H"]) for r in rows])
    success, drop = [], []
    for i in range(len(rows)):
        recent = slice(max(0, i + 1 - window), i + 1)
        success.append(lifted[recent].mean())
        drop.append(dropped[recent].sum() / max(lifted[recent].sum(), 1))
    return {"attempt": np.arange(1, len(rows) + 1), "success_200": np.array(success),
            "drop_200": np.array(drop)}


def plot_learning_curves(runs: dict[str, Path], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, run_dir in runs.items():
        curve = read_curve(run_dir)
        if curve["attempt"].size:
            ax.plot(curve["attempt"], curve["success_200"], label=f"{label}: grasp success")
            if np.nan_to_num(curve["drop_200"]).any():
                ax.plot(curve["attempt"], curve["drop_200"], "--",
                        label=f"{label}: dropped | lifted")
    ax.set_xlabel("grasp attempts")
    ax.set_ylabel("rate over the last 200 attempts")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_success_by_adversary(results: dict, set_name: str, path: Path) -> Path:
    per_policy = results[set_name]
    names = list(per_policy)
    adversaries = list(next(iter(per_policy.values()))["adversaries"])
    bars = ["grasp success"] + [f"robust vs {a}" for a in adversaries]
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    width = 0.8 / len(bars)
    for j, bar in enumerate(bars):
        values, errors = [], []
        for name in names:
            r = per_policy[name]
            value, ci = ((r["grasp_success"], r["grasp_success_ci"]) if j == 0 else
                         (r["adversaries"][adversaries[j - 1]]["robust_success"],
                          r["adversaries"][adversaries[j - 1]]["robust_success_ci"]))
            values.append(value)
            errors.append([max(0.0, value - ci[0]), max(0.0, ci[1] - value)])
        x = np.arange(len(names)) + (j - (len(bars) - 1) / 2) * width
        ax.bar(x, values, width, yerr=np.array(errors).T, capsize=2, label=bar)
    labels = ["\n".join(textwrap.wrap(name, 18)) for name in names]
    ax.set_xticks(np.arange(len(names)), labels, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel(f"rate on held-out {set_name}")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def grasp_grid(examples: list[dict], workspace_side_m: float, path: Path, scale: int = 3) -> Path:
    """Observed images with the chosen grasp: a line along the closing direction (green if
    lifted, red if not) with the grasp point."""
    tiles = []
    for ex in examples:
        image = Image.fromarray(ex["image"]).resize(
            (ex["image"].shape[1] * scale, ex["image"].shape[0] * scale), Image.NEAREST)
        draw = ImageDraw.Draw(image)
        x, y, theta = ex["grasp"]
        px_per_m = image.width / workspace_side_m
        cx, cy = (x + workspace_side_m / 2) * px_per_m, (workspace_side_m / 2 - y) * px_per_m
        half = 0.04 * px_per_m  # the 8 cm finger opening
        dx, dy = np.cos(theta) * half, -np.sin(theta) * half
        color = (40, 220, 40) if ex["lifted"] else (230, 40, 40)
        draw.line([(cx - dx, cy - dy), (cx + dx, cy + dy)], fill=color, width=2)
        draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], outline=color, width=2)
        tiles.append(image)
    cols = 4
    rows = int(np.ceil(len(tiles) / cols))
    w, h = tiles[0].size
    grid = Image.new("RGB", (cols * w, rows * h), (255, 255, 255))
    for i, tile in enumerate(tiles):
        grid.paste(tile, ((i % cols) * w, (i // cols) * h))
    grid.save(path)
    return path


def _pct(value: float, ci: list[float]) -> str:
    return f"{value:.1%} ({ci[0]:.0%}-{ci[1]:.0%})"


def write_report(out_dir: Path, evaluation: dict, runs: dict[str, Path],
                 workspace_side_m: float = 0.30, title: str = "advgrasp run",
                 notes: list[str] | None = None) -> Path:
    """Write metrics.json, report.md and the plots into `out_dir`; returns report.md."""
    out_dir = Path(out_dir)
    results = evaluation["results"]
    metrics = {k: v for k, v in evaluation.items() if k != "examples"}
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    plot_learning_curves(runs, out_dir / "learning_curves.png")
    lines = [f"# {title}", ""]
    lines += notes or []
    lines += ["", f"Held-out scenes per object set: {evaluation['scenes']} (seeds from "
              f"{evaluation['seed']}). Intervals are 95 % Wilson intervals.", ""]
    for set_name, per_policy in results.items():
        plot_success_by_adversary(results, set_name, out_dir / f"success_{set_name}.png")
        adversaries = list(next(iter(per_policy.values()))["adversaries"])
        lines += [f"## Held-out {set_name}", "",
                  "| policy | grasp success | " + " | ".join(
                      f"robust vs {a}" for a in adversaries) + " | missed | slipped | " +
                  " | ".join(f"pushed out ({a})" for a in adversaries) + " |",
                  "|---" * (4 + 2 * len(adversaries)) + "|"]
        for name, r in per_policy.items():
            robust = [_pct(r["adversaries"][a]["robust_success"],
                           r["adversaries"][a]["robust_success_ci"]) for a in adversaries]
            pushed = [str(r["adversaries"][a]["pushed_out"]) for a in adversaries]
            lines.append(f"| {name} | {_pct(r['grasp_success'], r['grasp_success_ci'])} | "
                         + " | ".join(robust) + f" | {r['failures']['missed']} | "
                         f"{r['failures']['slipped']} | " + " | ".join(pushed) + " |")
        lines += ["", "Drop rate given a lift: " + "; ".join(
            f"{name}: " + (", ".join(f"{a} {r['adversaries'][a]['drop_given_lifted']:.0%}"
                                     for a in adversaries) if r["lifted"] else "n/a (no lift)")
            for name, r in per_policy.items()), "",
            f"![success by adversary](success_{set_name}.png)", ""]
        if set_name == "assets":
            first = next(iter(per_policy))
            objects = per_policy[first]["objects"]
            lines += [f"Per object ({first}):", "",
                      "| object | attempts | lifted | " + " | ".join(
                          f"kept vs {a}" for a in adversaries) + " |",
                      "|---" * (3 + len(adversaries)) + "|"]
            for obj, row in objects.items():
                lines.append(f"| {obj} | {row['attempts']} | {row['lifted']} | " + " | ".join(
                    str(row.get(f"kept_{a}", 0)) for a in adversaries) + " |")
            lines.append("")
    for name, examples in evaluation["examples"].items():
        if examples and name == next(iter(evaluation["examples"])):
            grasp_grid(examples, workspace_side_m, out_dir / "grasps.png")
            lines += [f"Grasps chosen by {name} on held-out scenes (green: lifted):", "",
                      "![grasps](grasps.png)", ""]
    lines += ["![learning curves](learning_curves.png)", ""]
    report = out_dir / "report.md"
    report.write_text("\n".join(lines))
    return report
