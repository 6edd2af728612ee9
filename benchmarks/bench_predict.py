"""Benchmark choosing a grasp: milliseconds per `GraspPolicy.predict` in each scoring mode.

For each grasp network kind (or the policy of a run folder), on held-out random_urdfs scenes:

1. the grid in one view (`predict(obs, symmetric=False, fine=False)`, as training acts);
2. the grid in 8 views (`fine=False`), the reference the others are compared with;
3. the grid in 8 views, then the fine search to pixel resolution (`predict(obs)`, the default).

Prints a table and, as its last line, one JSON object with every figure. This measures cost
only; what the fine search buys is in README.md ("Fine search").

    python benchmarks/bench_predict.py --scenes 20
    python benchmarks/bench_predict.py --run runs/full
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

try:
    import advgrasp
except ModuleNotFoundError:  # the project is not installed in this venv: use the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import advgrasp  # noqa: F401
from advgrasp.agents import GraspPolicy
from envs.config import WorldConfig
from envs.world import GraspWorld

MODES = {"grid, 1 view": {"symmetric": False, "fine": False},
         "grid, 8 views": {"symmetric": True, "fine": False},
         "grid, 8 views + fine search": {"symmetric": True, "fine": True}}
REFERENCE = "grid, 8 views"


def observations(scenes: int) -> list:
    world = GraspWorld(WorldConfig(object_set="random_urdfs", split="test", obs_mode="rgbd"))
    try:
        images = []
        for seed in range(scenes):
            world.reset(seed=seed)
            images.append(world.observe())
        return images
    finally:
        world.close()


def time_modes(policy: GraspPolicy, images: list) -> dict[str, float]:
    """Mean milliseconds per predict in each mode (after one warm-up call)."""
    figures = {}
    for name, options in MODES.items():
        policy.predict(images[0], **options)
        start = time.perf_counter()
        for image in images:
            policy.predict(image, **options)
        figures[name] = 1000 * (time.perf_counter() - start) / len(images)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=20, help="held-out scenes (default 20)")
    parser.add_argument("--run", help="a run folder whose policy.pt to time (default: untrained "
                        "networks of both kinds at width 32)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    args = parser.parse_args(argv)
    if args.scenes < 1:
        parser.error(f"--scenes {args.scenes} must be at least 1")
    torch.set_num_threads(args.threads)
    images = observations(args.scenes)
    policies = ({"run": GraspPolicy.load(args.run)} if args.run else
                {kind: GraspPolicy(net=kind) for kind in ("angles", "rotating")})
    results = {}
    print(f"{'network':10} " + " ".join(f"{m:>28}" for m in MODES) + "   (ms per predict)")
    for label, policy in policies.items():
        figures = time_modes(policy, images)
        results[f"{label} ({policy.kind})"] = figures
        print(f"{policy.kind:10} " + " ".join(
            f"{v:>20.1f} ({v / figures[REFERENCE]:4.1f}x)" for v in figures.values()))
    print(f"(x: against '{REFERENCE}', measured in the same run; {args.scenes} scenes, "
          f"{args.threads} threads)")
    print(json.dumps({"scenes": args.scenes, "threads": args.threads, "ms_per_predict": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
