"""Evaluation on held-out objects: grasp and robust success against each adversary.

Every policy grasps the same held-out scenes (same seeds, same objects and poses). After a lift,
each adversary pushes from the same saved held state, so the adversaries are compared on the
very same grasps. Figures come with 95 % Wilson intervals.

    grasp success  = R_R                       over all attempts
    robust success = R_R * (1 - R_H)           over all attempts, per adversary
    drop | lifted  = R_H                       over lifted attempts, per adversary
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

from advgrasp.agents import GraspPolicy, LearnedAdversary
from advgrasp.policy import candidate_mask
from envs.adversary import OracleAdversary, RandomAdversary
from envs.baseline import geometric_grasp
from envs.world import GraspWorld, WorldConfig

Chooser = Callable[[GraspWorld, np.ndarray, np.random.Generator], tuple[float, float, float]]
EVAL_SEED = 7_000_000
"""Held-out scenes use seeds from here on, far from the seeds training draws."""


def wilson(k: int, n: int, z: float = 1.96) -> list[float]:
    """95 % Wilson score interval of k successes in n trials."""
    if n == 0:
        return [0.0, 1.0]
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [float(max(0.0, centre - half)), float(min(1.0, centre + half))]


def policy_chooser(policy: GraspPolicy, fine: bool = True) -> Chooser:
    def choose(world, observation, rng):
        return policy.predict(observation, fine=fine)
    return choose


def uniform_random(world, observation, rng):
    """A grasp anywhere in the workspace at any angle."""
    half = world.config.workspace_side_m / 2
    return float(rng.uniform(-half, half)), float(rng.uniform(-half, half)), \
        float(rng.uniform(0, np.pi))


def random_on_object(world, observation, rng):
    """A grasp at a random grid cell that shows the object, at a random angle."""
    mask = candidate_mask(observation[:, :, 3], world.config.depth_range_m)
    rows, cols = np.nonzero(mask)
    i = rng.integers(rows.size)
    x, y = world.camera.pixel_to_world(rows[i] * 4 + 1.5, cols[i] * 4 + 1.5)
    return float(x), float(y), float(rng.uniform(0, np.pi))


def geometric(world, observation, rng):
    """Centroid of the object, closing across its minor axis (`envs.baseline`)."""
    return geometric_grasp(world.render_top_down()[1], world.camera) or (0.0, 0.0, 0.0)


BASELINES: dict[str, Chooser] = {"uniform random": uniform_random,
                                 "random on object": random_on_object, "geometric": geometric}


def evaluate(choosers: dict[str, Chooser], object_sets: tuple[str, ...] = ("random_urdfs",
             "assets"), scenes: int = 150, learned: LearnedAdversary | None = None,
             image_size: int = 64, seed: int = EVAL_SEED, keep_images: int = 16) -> dict:
    """Grasp every held-out scene with every chooser and push with every adversary.

    Args:
        choosers: name -> function(world, rgbd observation, rng) -> (x, y, theta).
        object_sets: held-out objects: the test split of each set.
        scenes: scenes per object set.
        learned: a trained adversary to include beside random and oracle.
        keep_images: how many observations (with the chosen grasp) to keep per chooser.

    Returns:
        A JSON-ready dict: results[set][chooser] with counts, rates and intervals, a per-object
        table, and example observations.
    """
    results: dict = {}
    examples: dict = defaultdict(list)
    for set_name in object_sets:
        world = GraspWorld(WorldConfig(object_set=set_name, split="test", obs_mode="rgbd",
                                       image_size=image_size))
        adversaries = {"random": RandomAdversary(world.config.perturbations),
                       "oracle": OracleAdversary(world)}
        if learned is not None:
            learned.epsilon = 0.0
            adversaries["learned"] = learned
        results[set_name] = {}
        for name, choose in choosers.items():
            tally = _Tally(list(adversaries))
            rng = np.random.default_rng(seed)
            for scene in range(scenes):
                world.reset(seed=seed + scene)
                observation = world.observe()
                x, y, theta = choose(world, observation, rng)
                outcome = world.grasp(x, y, theta)
                dropped = {}
                if outcome.lifted:
                    dropped = _push_each(world, adversaries, outcome.held_state, rng)
                tally.add(outcome.object_name, outcome.lifted, outcome.reason, dropped)
                if set_name == object_sets[0] and len(examples[name]) < keep_images:
                    examples[name].append({"image": observation[:, :, :3], "grasp": (x, y, theta),
                                           "lifted": outcome.lifted})
            results[set_name][name] = tally.summary()
        world.close()
    return {"results": results, "examples": examples, "scenes": scenes,
            "object_sets": list(object_sets), "seed": seed}


def _push_each(world, adversaries, held_state, rng) -> dict[str, bool]:
    """Each adversary pushes from the same held state; the state is restored after each."""
    dropped = {}
    for name, adversary in adversaries.items():
        adversary.reset(rng)
        dropped[name] = world.trial_push(adversary.act(held_state)).dropped
    return dropped


class _Tally:
    def __init__(self, adversaries: list[str]):
        self.adversaries = adversaries
        self.n = self.lifted = 0
        self.reasons: dict[str, int] = defaultdict(int)
        self.dropped: dict[str, int] = defaultdict(int)
        self.objects: dict[str, dict] = defaultdict(lambda: defaultdict(int))

    def add(self, obj: str, lifted: bool, reason: str | None, dropped: dict[str, bool]) -> None:
        self.n += 1
        self.lifted += lifted
        row = self.objects[obj]
        row["attempts"] += 1
        row["lifted"] += lifted
        if reason:
            self.reasons[reason] += 1
        for name, d in dropped.items():
            self.dropped[name] += d
            row[f"kept_{name}"] += not d

    def summary(self) -> dict:
        out = {"attempts": self.n, "lifted": self.lifted,
               "grasp_success": self.lifted / max(self.n, 1),
               "grasp_success_ci": wilson(self.lifted, self.n),
               "failures": {"missed": self.reasons["missed"],
                            "slipped": self.reasons["slipped"]},
               "adversaries": {}}
        for name in self.adversaries:
            kept = self.lifted - self.dropped[name]
            out["adversaries"][name] = {
                "pushed_out": self.dropped[name],
                "robust_success": kept / max(self.n, 1), "robust_success_ci": wilson(kept, self.n),
                "drop_given_lifted": self.dropped[name] / max(self.lifted, 1),
                "drop_given_lifted_ci": wilson(self.dropped[name], self.lifted)}
        out["objects"] = {k: dict(v) for k, v in sorted(self.objects.items())}
        return out
