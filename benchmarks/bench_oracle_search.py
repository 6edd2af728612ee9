"""Training's oracle search against the evaluation's oracle, on the same held grasps.

Training with `--adversary oracle` needs only the oracle's verdict: does some allowed push drop
the held object? The evaluation's oracle (`envs.adversary.OracleAdversary`, the reference)
tries all 12 pushes after every lift; `advgrasp.agents.OracleSearch` tries them in the learned
adversary's order and stops at the first that drops. This script grasps held-out scenes with a
policy (the geometric baseline, or a run's `policy.pt`), asks both for their verdict from the
same held state, and prints the pushes tried and the milliseconds per lift of each, and whether
the verdicts agree. With a run folder the run's own learned adversary (`adversary.pt`) ranks
the pushes; without one an untrained adversary does.

    python benchmarks/bench_oracle_search.py --scenes 100 [--run runs/full]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from advgrasp.agents import GraspPolicy, LearnedAdversary, OracleSearch
from advgrasp.cli import load_learned_adversary
from advgrasp.evaluate import geometric, policy_chooser
from envs.adversary import OracleAdversary
from envs.world import GraspWorld, WorldConfig

SCENE_SEED = 7_000_000  # the evaluation's held-out scenes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=100)
    parser.add_argument("--run", type=Path, default=None,
                        help="run folder: its policy grasps and its adversary ranks the pushes")
    parser.add_argument("--torch-threads", type=int, default=2)
    args = parser.parse_args()
    if args.scenes < 1:
        parser.error(f"--scenes {args.scenes}: use at least 1")
    learned = None
    if args.run is not None:
        if not (args.run / "adversary.pt").is_file():
            parser.error(f"--run {args.run} has no adversary.pt: pass the folder of a finished "
                         "training run (advgrasp train --run-dir ...)")
        learned = load_learned_adversary(args.run)
        if learned is None:
            parser.error(f"--run {args.run} trained against an adversary under which its "
                         "learned adversary never learned: pass a run trained with "
                         "--adversary learned or oracle")
    torch.set_num_threads(args.torch_threads)
    world = GraspWorld(WorldConfig(split="test", obs_mode="rgbd"))
    pushes = world.config.perturbations.all
    learned = learned or LearnedAdversary(pushes, world.config.held_image_size)
    choose = geometric
    if args.run is not None:
        choose = policy_chooser(GraspPolicy.load(args.run))
    search, oracle = OracleSearch(world, learned), OracleAdversary(world)
    seconds = {"oracle": 0.0, "search": 0.0}
    tries, agree, dropped = [], 0, 0
    for scene in range(args.scenes):
        world.reset(seed=SCENE_SEED + scene)
        outcome = world.grasp(*choose(world, world.observe(), None))
        if not outcome.lifted:
            continue
        start = time.perf_counter()
        oracle.act(outcome.held_state)
        seconds["oracle"] += time.perf_counter() - start
        start = time.perf_counter()
        _, r_h, made = search.search(outcome.held_state)
        seconds["search"] += time.perf_counter() - start
        verdict = any(t[1] for t in oracle.last_trials)
        agree += verdict == bool(r_h)
        dropped += verdict
        tries.append(len(made))
    world.close()
    lifts = len(tries)
    if not lifts:
        raise SystemExit("no grasp lifted its object: nothing to compare")
    figures = {"lifts": lifts, "dropped_by_oracle": dropped, "verdicts_agree": agree,
               "oracle_pushes_per_lift": len(pushes),
               "search_pushes_per_lift": float(np.mean(tries)),
               "oracle_ms_per_lift": 1000 * seconds["oracle"] / lifts,
               "search_ms_per_lift": 1000 * seconds["search"] / lifts}
    grasper, ranker = ((f"the policy of {args.run}", f"the adversary of {args.run}")
                       if args.run else ("geometric grasps", "an untrained adversary"))
    print(f"{lifts} lifts of {args.scenes} held-out scenes ({grasper}); {dropped} dropped by "
          f"the oracle; pushes ranked by {ranker}")
    print(f"oracle (reference, all pushes): {len(pushes):5.1f} pushes, "
          f"{figures['oracle_ms_per_lift']:6.1f} ms per lift")
    print(f"oracle search (first drop):     {figures['search_pushes_per_lift']:5.1f} pushes, "
          f"{figures['search_ms_per_lift']:6.1f} ms per lift "
          f"({figures['oracle_ms_per_lift'] / figures['search_ms_per_lift']:.1f}x faster)")
    print(f"verdicts agree on {agree} of {lifts} lifts")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
