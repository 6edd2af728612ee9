"""Train and evaluate every image-to-image and multi-stage variant; write the results table.

    .venv/bin/python benchmarks/bench_i2i.py                    # ~25 min on a 2-core CPU
    .venv/bin/python benchmarks/bench_i2i.py --scale 0.1        # a quick look

Each variant trains with `gan_core.run.train` (the shared trainer) on 16 px digits with narrow
networks (width 16), then `gan_core.i2i_evaluation.evaluate_i2i` scores it on the 297 held-out
digits. The benchmark writes `docs/i2i/results.md` (the README table), `docs/i2i/results.json`
and one PNG grid per variant. A run is not started once the wall-clock cap is spent; the table
lists it as skipped. Feature distances are on a locally trained digits classifier: they are not
comparable to published Inception FIDs.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gan_core.i2i_data import digit_split, held_out  # noqa: E402
from gan_core.i2i_evaluation import evaluate_i2i  # noqa: E402
from gan_core.i2i_metrics import save_comparison_grid  # noqa: E402
from gan_core.run import load_run, train  # noqa: E402
from gan_core.variants import GanConfig  # noqa: E402

log = logging.getLogger("bench_i2i")

# (model, data, rounds at scale 1, options): the same 16 px digits, width 16, batch 32.
RUNS = [
    ("gan-cls", "digits-train", 2000, {}),
    ("lapgan", "digits-train", 2400, {}),
    ("stackgan", "digits-train", 3000, {}),
    ("pix2pix", "edges2digits", 1200, {}),
    ("pix2pix", "digits2edges", 500, {}),
    ("cyclegan", "digits2inverted", 400, {}),
    ("dualgan", "digits2inverted", 600, {}),
    ("discogan", "digits2inverted", 600, {}),
]

COLUMNS = [("l1", "L1"), ("psnr_db", "PSNR dB"), ("cycle_a", "cycle A"),
           ("cycle_b", "cycle B"), ("l1_true", "L1 vs true"), ("frechet", "Frechet"),
           ("frechet_floor", "floor"), ("match_auc", "match AUC"),
           ("conditional_accuracy", "cond. acc.")]


def grid(variant, name: str, folder: Path) -> Path:
    """A PNG of 8 held-out examples: inputs, outputs and targets, or samples by stage."""
    path = folder / f"{name}.png"
    test = held_out(variant.config) if variant.kind in ("paired", "unpaired") else None
    if variant.kind == "paired":
        a = test["a"][:8]
        return save_comparison_grid([a, variant.generate(8, {"a": a}).cpu(), test["b"][:8]], path)
    if variant.kind == "unpaired":
        a = test["a"][:8]
        fake_b = variant.generate(8, {"a": a}).cpu()
        return save_comparison_grid([a, fake_b, variant.translate_back(fake_b).cpu(),
                                     test["b"][:8]], path)
    size = variant.config.image_size
    labels = torch.arange(8) % 10
    if variant.name == "lapgan":
        real = digit_split(size, held_out=True)[0][:8]
        rows = [variant.generate(8).cpu()]
        coarse = F.avg_pool2d(real, 2)
        rows += [F.interpolate(coarse, scale_factor=2, mode="bilinear", align_corners=False),
                 variant.refine(variant.stages - 1, coarse.to(variant.device)).cpu(), real]
        return save_comparison_grid(rows, path)
    if variant.name == "stackgan":
        torch.manual_seed(0)
        low = variant.generate(8, labels=labels, stage=1).cpu()
        torch.manual_seed(0)
        high = variant.generate(8, labels=labels).cpu()
        return save_comparison_grid([F.interpolate(low, size=size, mode="nearest"), high], path)
    rows = [variant.generate(8, labels=torch.full((8,), digit)).cpu() for digit in range(10)]
    return save_comparison_grid(rows, path)


def table(results: list[dict]) -> str:
    """The README table (Markdown) of the runs' figures."""
    head = "| model | data | rounds | train s | " + " | ".join(t for _, t in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (4 + len(COLUMNS))]
    for row in results:
        figures = row.get("figures", {})
        cells = [f"{figures[key]:.3f}" if key in figures else "" for key, _ in COLUMNS]
        status = f"{row['seconds']:.0f}" if "seconds" in row else "skipped (cap)"
        lines.append(f"| {row['model']} | {row['data']} | {row['rounds']} | {status} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def checks(results: list[dict]) -> list[str]:
    """The issue's three targets, each with its figures and PASS or FAIL."""
    lines = []
    for row in results:
        f = row.get("figures", {})
        if row["model"] == "stackgan" and f:
            ok = f["frechet"] < f["stage1_frechet"]
            lines.append(f"StackGAN stage II Frechet {f['frechet']:.3f} vs stage I "
                         f"{f['stage1_frechet']:.3f}: {'PASS' if ok else 'FAIL'}")
        if row["model"] == "lapgan" and f:
            for level in range(1, 10):
                if f"level{level}_frechet" not in f:
                    break
                got, plain = f[f"level{level}_frechet"], f[f"level{level}_upsample_frechet"]
                lines.append(f"LAPGAN level {level} Frechet {got:.3f} vs plain upsampling "
                             f"{plain:.3f} (floor {f[f'level{level}_floor']:.3f}): "
                             f"{'PASS' if got < plain else 'FAIL'}")
        if row["model"] == "gan-cls" and f:
            lines.append(f"GAN-CLS held-out right-vs-wrong AUC {f['match_auc']:.3f} (target "
                         f">= 0.9): {'PASS' if f['match_auc'] >= 0.9 else 'FAIL'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every run's rounds")
    parser.add_argument("--cap-minutes", type=float, default=25.0,
                        help="no run starts after this much wall-clock time (default 25)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "i2i"), help="table and grids")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", help="model names to run (default all); the "
                        "other rows of the table are kept from OUT/results.json")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as runs:
        for model, data, rounds, options in RUNS:
            if args.only and model not in args.only:
                continue
            rounds = max(10, int(rounds * args.scale))
            row = {"model": model, "data": data, "rounds": rounds}
            results.append(row)
            if time.perf_counter() - start > 60 * args.cap_minutes:
                continue
            config = GanConfig(model=model, data=data, image_size=16, batch_size=32,
                               iterations=rounds, width=16, z_dim=32, seed=args.seed,
                               device="cpu", checkpoint_every=rounds, log_every=50,
                               options=dict(options))
            begun = time.perf_counter()
            path = train(config, Path(runs) / f"{model}-{data}", resume=False)
            row["seconds"] = time.perf_counter() - begun
            variant = load_run(path)
            row["figures"] = evaluate_i2i(variant, seed=args.seed)
            grid(variant, f"{model}-{data}", out)
            print(f"{model:9s} {data:16s} {rounds:5d} rounds {row['seconds']:6.1f} s "
                  + " ".join(f"{k}={v:.3f}" for k, v in row["figures"].items()), flush=True)
    elapsed = time.perf_counter() - start
    note = ""
    if args.only and (out / "results.json").is_file():
        rerun = {(row["model"], row["data"]) for row in results}
        kept = [row for row in json.loads((out / "results.json").read_text())
                if (row["model"], row["data"]) not in rerun]
        order = {(model, data): i for i, (model, data, _, _) in enumerate(RUNS)}
        results = sorted(kept + results, key=lambda row: order[(row["model"], row["data"])])
        note = f" Rerun on its own: {', '.join(sorted(args.only))}; other rows from before."
    text = (f"{table(results)}\n\n" + "\n".join(f"- {line}" for line in checks(results))
            + f"\n\nWall clock {elapsed / 60:.1f} min (cap {args.cap_minutes:g} min for starting "
            f"runs), torch {torch.__version__}, {torch.get_num_threads()} thread(s), seed "
            f"{args.seed}.{note}\n")
    (out / "results.md").write_text(text)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
