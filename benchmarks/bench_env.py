"""Benchmark the grasping simulator: grasp attempts per second, time per phase, and the limit.

Measures, at one top-down image size:

1. Attempts per second in one process with the world driven directly (reset, observe, geometric
   grasp, grasp, adversary, push), with the random and with the oracle adversary; lift and drop
   rates are printed as a sanity check.
2. Attempts per second of the Gymnasium env with random discrete actions: one env in this
   process, then a `gymnasium.vector.AsyncVectorEnv` of several workers (total and per core).
3. Time and physics steps per attempt in each phase of `GraspWorld`.
4. The limit: one top-down render plus (physics steps per attempt x the cost of one physics
   step measured alone); attempts/s limit = 1 / that, and achieved / limit.
5. The issue's target: at least 20 attempts per second per core with the random adversary at
   the default image size (PASS/FAIL), beside a fixed reference figure for PyBullet's
   KukaDiverseObjectEnv (not measured here).

Prints a table and, as its last line, one JSON object with every figure (`--json` also writes
it to a file).

    python benchmarks/bench_env.py --attempts 200 --image-size 64 --json bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import gymnasium
import numpy as np
from gymnasium.vector import AsyncVectorEnv, AutoresetMode

try:
    import envs
except ModuleNotFoundError:  # the project is not installed in this venv: use the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import envs

ENV_ID = "advgrasp/AdversarialGrasp-v0"
PHASES = ("reset", "render", "grasp", "lift", "held_image", "perturb")
TARGET_PER_CORE = 20.0
"""The issue's target: grasp attempts per second per core, random adversary, default image."""
KUKA_REFERENCE_EPISODES_PER_S = 0.7
"""PyBullet's KukaDiverseObjectEnv with random actions on this machine (fixed, not measured
here: pybullet_envs needs the old `gym`)."""


def make_world(image_size: int) -> envs.GraspWorld:
    """A world at the default configuration except the image size and an RGB-D observation.

    RGB-D costs the same single render as RGB (PyBullet returns colour and depth together) and
    lets the geometric grasp read its height map from the observation instead of a second render.

    Args:
        image_size: side of the top-down image in pixels.

    Returns:
        The world; the caller closes it.
    """
    return envs.GraspWorld(envs.WorldConfig(image_size=image_size, obs_mode="rgbd"))


def make_adversary(kind: str, world: envs.GraspWorld, seed: int) -> envs.Adversary:
    """The 'random' or 'oracle' adversary for `world`, seeded.

    Args:
        kind: 'random' or 'oracle'.
        world: the world whose held object it pushes.
        seed: seed of the random adversary's generator.

    Returns:
        The adversary.
    """
    if kind == "random":
        adversary = envs.RandomAdversary(world.config.perturbations)
    elif kind == "oracle":
        adversary = envs.OracleAdversary(world)
    else:
        raise ValueError(f"unknown adversary {kind!r}")
    adversary.reset(np.random.default_rng(seed))
    return adversary


def attempt(world: envs.GraspWorld, adversary: envs.Adversary,
            seed: int) -> tuple[bool, bool, bool]:
    """One grasp attempt driven through the world: reset, observe, grasp, push.

    Args:
        world: the world.
        adversary: picks the push when the grasp lifts the object.
        seed: seed of the reset (object and pose).

    Returns:
        (lifted, dropped, fallback): fallback is True when the geometric grasp saw nothing and
        the hand grasped at the workspace centre instead.
    """
    world.reset(seed=seed)
    observation = world.observe()
    height = observation[:, :, 3].astype(np.float64) / 255.0 * world.config.depth_range_m
    grasp = envs.geometric_grasp(height, world.camera)
    fallback = grasp is None
    if fallback:
        grasp = (*world.camera.center, 0.0)
    outcome = world.grasp(*grasp)
    dropped = False
    if outcome.lifted:
        push = adversary.act(outcome.held_state)
        if push is not None:
            dropped = world.perturb(push).dropped
    return outcome.lifted, dropped, fallback


def bench_world(world: envs.GraspWorld, kind: str, attempts: int, seed: int,
                warmup: int) -> dict:
    """Attempts per second with the world driven directly, and time and steps per phase.

    Args:
        world: the world (reused; its phase counters are cleared before the timed loop).
        kind: adversary, 'random' or 'oracle'.
        attempts: timed attempts.
        seed: first reset seed; attempt i uses seed + i.
        warmup: untimed attempts first (seeds below `seed`).

    Returns:
        Figures of the run: attempts_per_s, lift and drop rates, per-phase ms and steps.
    """
    adversary = make_adversary(kind, world, seed)
    for i in range(warmup):
        attempt(world, adversary, seed - warmup + i)
    world.phase_seconds.clear()
    world.phase_steps.clear()
    steps_before = world.sim.steps_taken
    lifted = dropped = fallbacks = 0
    start = time.perf_counter()
    for i in range(attempts):
        got, lost, fallback = attempt(world, adversary, seed + i)
        lifted, dropped, fallbacks = lifted + got, dropped + lost, fallbacks + fallback
    elapsed = time.perf_counter() - start
    steps = world.sim.steps_taken - steps_before
    phase_ms = {p: 1e3 * world.phase_seconds.get(p, 0.0) / attempts for p in PHASES}
    phase_ms["other"] = 1e3 * elapsed / attempts - sum(phase_ms.values())
    return {
        "adversary": kind,
        "attempts": attempts,
        "seconds": elapsed,
        "attempts_per_s": attempts / elapsed,
        "ms_per_attempt": 1e3 * elapsed / attempts,
        "lift_rate": lifted / attempts,
        "drop_rate_of_lifted": dropped / lifted if lifted else None,
        "geometric_grasp_fallbacks": fallbacks,
        "phase_ms_per_attempt": phase_ms,
        "phase_steps_per_attempt": {p: world.phase_steps.get(p, 0) / attempts for p in PHASES},
        "steps_per_attempt": steps / attempts,
    }


def measure_limit(world: envs.GraspWorld, render_reps: int, step_reps: int, seed: int,
                  scenes: int) -> dict:
    """Cost of one top-down render and of one physics step, each measured alone.

    The object rests on the tray and the hand is parked (as right after `reset`). The cost of a
    step depends a lot on the object (its convex pieces and contacts), so the repetitions are
    spread evenly over `scenes` resets and the mean is reported, with the cheapest and dearest
    scene.

    Args:
        world: the world.
        render_reps: renders timed, in all.
        step_reps: physics steps timed, in all.
        seed: reset seed of the first scene; scene j uses seed + j.
        scenes: scenes the repetitions are spread over.

    Returns:
        render_ms and step_us (means over scenes), step_us_min and step_us_max (per scene).
    """
    renders, steps = max(1, render_reps // scenes), max(1, step_reps // scenes)
    render_s, step_s = [], []
    for j in range(scenes):
        world.reset(seed=seed + j)
        world.render_top_down()
        start = time.perf_counter()
        for _ in range(renders):
            world.render_top_down()
        render_s.append((time.perf_counter() - start) / renders)
        for _ in range(10):
            world.sim.step()
        start = time.perf_counter()
        for _ in range(steps):
            world.sim.step()
        step_s.append((time.perf_counter() - start) / steps)
    return {"render_ms": 1e3 * float(np.mean(render_s)), "step_us": 1e6 * float(np.mean(step_s)),
            "step_us_min": 1e6 * min(step_s), "step_us_max": 1e6 * max(step_s),
            "render_reps": renders * scenes, "step_reps": steps * scenes, "scenes": scenes}


def limit_for(run: dict, costs: dict) -> dict:
    """The attempts/s limit of a run (render + its steps at the lone step cost) and the ratio.

    Args:
        run: a `bench_world` result.
        costs: a `measure_limit` result.

    Returns:
        ms_per_attempt, attempts_per_s, achieved_over_limit, and in_loop_step_us: the time of
        the stepping phases (reset, grasp, lift, perturb) per physics step they took.
    """
    ms = costs["render_ms"] + run["steps_per_attempt"] * costs["step_us"] / 1e3
    stepping = ("reset", "grasp", "lift", "perturb")
    in_loop_ms = sum(run["phase_ms_per_attempt"][p] for p in stepping)
    return {"ms_per_attempt": ms, "attempts_per_s": 1e3 / ms,
            "achieved_over_limit": run["attempts_per_s"] * ms / 1e3,
            "in_loop_step_us": 1e3 * in_loop_ms / max(run["steps_per_attempt"], 1e-9)}


class ScalarInfo(gymnasium.Wrapper):
    """Keeps only the scalar `R_R` and `R_H` of the env's info.

    Gymnasium's vector envs merge infos key by key and fail (AttributeError in
    `VectorEnv._add_info`) when a key is None in one step and a dict in a later one, as the
    env's `info["perturbation"]` is after a miss and after a push. The vector benchmark needs
    only the rewards' parts, so it drops the rest.
    """

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        return observation, reward, terminated, truncated, {k: info[k] for k in ("R_R", "R_H")}


def make_env(image_size: int, scalar_info: bool = False) -> gymnasium.Env:
    """The Gymnasium env with the random adversary and discrete actions.

    Args:
        image_size: side of the top-down image in pixels.
        scalar_info: wrap it in `ScalarInfo` (for vector envs).

    Returns:
        The env.
    """
    env = gymnasium.make(ENV_ID, adversary="random", action_type="discrete",
                         image_size=image_size)
    return ScalarInfo(env) if scalar_info else env


def bench_env_single(attempts: int, image_size: int, seed: int, warmup: int) -> dict:
    """One Gymnasium env in this process, random discrete actions: reset(seed) + step.

    Args:
        attempts: timed attempts.
        image_size: side of the top-down image in pixels.
        seed: first reset seed.
        warmup: untimed attempts first.

    Returns:
        attempts_per_s and the lift and drop rates seen.
    """
    env = make_env(image_size)
    env.action_space.seed(seed)
    for i in range(warmup):
        env.reset(seed=seed - warmup + i)
        env.step(env.action_space.sample())
    lifted = dropped = 0
    start = time.perf_counter()
    for i in range(attempts):
        env.reset(seed=seed + i)
        _, _, _, _, info = env.step(env.action_space.sample())
        lifted, dropped = lifted + int(info["R_R"]), dropped + int(info["R_H"])
    elapsed = time.perf_counter() - start
    env.close()
    return {"attempts": attempts, "seconds": elapsed, "attempts_per_s": attempts / elapsed,
            "lift_rate": lifted / attempts,
            "drop_rate_of_lifted": dropped / lifted if lifted else None}


def bench_vector(attempts: int, image_size: int, seed: int, workers: int) -> dict:
    """`AsyncVectorEnv` of `workers` envs (fork), random actions, autoreset in the same step.

    With `AutoresetMode.SAME_STEP` every `step` is one attempt per env followed by its reset,
    so attempts = steps x workers. The envs are wrapped in `ScalarInfo` (see there why).

    Args:
        attempts: timed attempts in all (rounded up to a multiple of `workers`).
        image_size: side of the top-down image in pixels.
        seed: seed of the first reset and of the action space.
        workers: sub-environments, one process each.

    Returns:
        attempts_per_s in all and per core, the lift rate, and the start-up time.
    """
    cores = os.cpu_count() or 1
    steps = -(-attempts // workers)
    start = time.perf_counter()
    vec = AsyncVectorEnv([lambda: make_env(image_size, scalar_info=True)] * workers,
                         context="fork",
                         autoreset_mode=AutoresetMode.SAME_STEP)
    vec.reset(seed=seed)
    vec.action_space.seed(seed)
    vec.step(vec.action_space.sample())  # warm-up
    startup = time.perf_counter() - start
    lifted = dropped = 0
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, info = vec.step(vec.action_space.sample())
        final = info.get("final_info", {})
        lifted += int(np.sum(final.get("R_R", 0)))
        dropped += int(np.sum(final.get("R_H", 0)))
    elapsed = time.perf_counter() - start
    vec.close()
    done = steps * workers
    return {"workers": workers, "cores": cores, "attempts": done, "seconds": elapsed,
            "attempts_per_s": done / elapsed, "attempts_per_s_per_core": done / elapsed / cores,
            "lift_rate": lifted / done, "drop_rate_of_lifted": dropped / lifted if lifted else None,
            "startup_s": startup}


def rate(value: float | None) -> str:
    """A share as a percentage, or '-' when undefined."""
    return "-" if value is None else f"{100 * value:.1f} %"


def report(results: dict) -> None:
    """Print the compact table of a run.

    Args:
        results: everything `main` measured.
    """
    cfg, world, limit = results["config"], results["world_loop"], results["limit"]
    print(f"\nadvgrasp simulator benchmark: image {cfg['image_size']} px, {cfg['attempts']} "
          f"attempts per run, {cfg['cores']} cores, seed {cfg['seed']}, load average before "
          f"{cfg['load_average_1min_before']:.2f}")
    if cfg["load_average_1min_before"] > 0.8:
        print("WARNING: the machine was busy before the run; figures may be low")
    print("world loop = world.reset(seed), observe() (RGB-D, one render), geometric grasp from "
          "its depth,\n  grasp, adversary act, perturb; one process, one world\n")
    print(f"{'run':<44}{'att/s':>8}{'ms/att':>8}{'lift':>9}{'drop|lift':>11}")
    rows = [(f"world loop, {k} adversary, geometric grasp", world[k]) for k in world]
    rows.append(("gym env x1, random actions, random adv.", results["env_single"]))
    vec = results["vector"]
    rows.append((f"AsyncVectorEnv x{vec['workers']}, random actions (total)", vec))
    for name, r in rows:
        print(f"{name:<44}{r['attempts_per_s']:>8.1f}{1e3 / r['attempts_per_s']:>8.1f}"
              f"{rate(r['lift_rate']):>9}{rate(r['drop_rate_of_lifted']):>11}")
    print(f"{'  per core (/' + str(vec['cores']) + ')':<44}{vec['attempts_per_s_per_core']:>8.1f}"
          f"   (vector start-up {vec['startup_s']:.1f} s, not timed)")

    print(f"\n{'phase, per attempt':<20}" + "".join(f"{k + ' ms':>12}{'steps':>8}" for k in world))
    for phase in (*PHASES, "other"):
        line = f"{phase:<20}"
        for k in world:
            steps = world[k]["phase_steps_per_attempt"].get(phase)
            line += f"{world[k]['phase_ms_per_attempt'][phase]:>12.2f}"
            line += f"{steps:>8.1f}" if steps is not None else f"{'':>8}"
        print(line)
    print(f"{'total':<20}" + "".join(f"{world[k]['ms_per_attempt']:>12.2f}"
                                     f"{world[k]['steps_per_attempt']:>8.1f}" for k in world))

    costs = limit["costs"]
    print(f"\nlimit: top-down render {costs['render_ms']:.3f} ms, physics step "
          f"{costs['step_us']:.1f} us (mean over {costs['scenes']} scenes, per scene "
          f"{costs['step_us_min']:.0f}-{costs['step_us_max']:.0f} us), each timed alone "
          f"({costs['render_reps']} renders, {costs['step_reps']} steps) with the object at rest "
          "and the hand parked")
    for k in world:
        lim = limit[k]
        print(f"  {k:<7} {world[k]['steps_per_attempt']:6.1f} steps/att -> limit "
              f"{lim['ms_per_attempt']:6.2f} ms = {lim['attempts_per_s']:6.1f} att/s; achieved "
              f"{world[k]['attempts_per_s']:5.1f} att/s = {100 * lim['achieved_over_limit']:3.0f} %"
              f" of limit (in-loop {lim['in_loop_step_us']:.0f} us per step)")

    target = results["target"]
    print(f"\ntarget >= {target['per_core']:.0f} attempts/s per core, random adversary, "
          f"image {cfg['image_size']} px (default {cfg['default_image_size']} px):")
    for name, key in (("world loop, 1 process = 1 core", "world_loop_random"),
                      ("AsyncVectorEnv, per core", "vector_per_core")):
        value, ok = target[key]
        print(f"  {name:<32}{value:7.1f}  {'PASS' if ok else 'FAIL'}")
    print(f"  overall {'PASS' if target['pass'] else 'FAIL'}"
          + ("" if target["default_image_size"] else "  (not the default image size)"))
    print(f"reference (fixed, not measured here): PyBullet KukaDiverseObjectEnv, random actions, "
          f"about {KUKA_REFERENCE_EPISODES_PER_S} episodes/s on this machine (pybullet_envs needs "
          "the old gym)")


def main() -> None:
    default_size = envs.WorldConfig().image_size
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=200, help="attempts per timed run")
    parser.add_argument("--image-size", type=int, default=default_size,
                        help=f"top-down image side in pixels (default {default_size})")
    parser.add_argument("--workers", type=int, default=2, help="AsyncVectorEnv workers")
    parser.add_argument("--seed", type=int, default=1000, help="first reset seed")
    parser.add_argument("--warmup", type=int, default=5, help="untimed attempts before each run")
    parser.add_argument("--render-reps", type=int, default=200)
    parser.add_argument("--step-reps", type=int, default=2000)
    parser.add_argument("--limit-scenes", type=int, default=40,
                        help="scenes (objects) the render and step timings are spread over")
    parser.add_argument("--json", type=Path, help="also write the JSON figures to this file")
    args = parser.parse_args()
    if min(args.attempts, args.workers, args.limit_scenes) < 1:
        parser.error("--attempts, --workers and --limit-scenes must be at least 1")

    load_before = os.getloadavg()[0]
    wall = time.perf_counter()
    world = make_world(args.image_size)
    try:
        loops = {k: bench_world(world, k, args.attempts, args.seed, args.warmup)
                 for k in ("random", "oracle")}
        costs = measure_limit(world, args.render_reps, args.step_reps, args.seed,
                              args.limit_scenes)
    finally:
        world.close()
    single = bench_env_single(args.attempts, args.image_size, args.seed, args.warmup)
    vector = bench_vector(args.attempts, args.image_size, args.seed, args.workers)

    world_ok = loops["random"]["attempts_per_s"] >= TARGET_PER_CORE
    vector_ok = vector["attempts_per_s_per_core"] >= TARGET_PER_CORE
    results = {
        "config": {"image_size": args.image_size, "default_image_size": default_size,
                   "attempts": args.attempts, "workers": args.workers, "seed": args.seed,
                   "warmup": args.warmup, "cores": os.cpu_count(),
                   "load_average_1min_before": load_before,
                   "world_loop": "reset, observe (rgbd), geometric grasp, grasp, adversary, "
                                 "perturb"},
        "world_loop": loops,
        "env_single": single,
        "vector": vector,
        "limit": {"costs": costs, **{k: limit_for(loops[k], costs) for k in loops}},
        "target": {"per_core": TARGET_PER_CORE,
                   "world_loop_random": (loops["random"]["attempts_per_s"], world_ok),
                   "vector_per_core": (vector["attempts_per_s_per_core"], vector_ok),
                   "pass": world_ok and vector_ok,
                   "default_image_size": args.image_size == default_size},
        "reference": {"kuka_diverse_object_env_episodes_per_s": KUKA_REFERENCE_EPISODES_PER_S,
                      "measured_here": False},
    }
    results["config"]["wall_s"] = time.perf_counter() - wall
    report(results)
    print(f"benchmark wall time {results['config']['wall_s']:.0f} s")
    line = json.dumps(results)
    if args.json is not None:
        args.json.write_text(line + "\n")
    print(line)


if __name__ == "__main__":
    main()
