"""Adversaries: who picks the push applied to a held object.

Protocol: `reset(rng)` hands the adversary the environment's random generator (so a seeded
`env.reset` also fixes the adversary) and `act(held_state) -> Perturbation | None` picks a push
for what the grasp outcome exposes (`GraspOutcome.held_state`: the side-view image after the
lift, the grasp pose and the object's name). None means no push. Learned and human adversaries
live in `advgrasp`; these are the ones the simulator needs itself.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from envs.errors import ConfigError
from envs.perturbation import Perturbation, PerturbationSet


@runtime_checkable
class Adversary(Protocol):
    def reset(self, rng: np.random.Generator) -> None: ...

    def act(self, held_state: dict) -> Perturbation | None: ...


class NoAdversary:
    """Never pushes: training on R_R alone."""

    def reset(self, rng: np.random.Generator) -> None:
        pass

    def act(self, held_state: dict) -> Perturbation | None:
        return None


class RandomAdversary:
    """Picks uniformly among the allowed perturbations."""

    def __init__(self, perturbations: PerturbationSet):
        self.choices = perturbations.all
        self.rng = np.random.default_rng()

    def reset(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def act(self, held_state: dict) -> Perturbation | None:
        return self.choices[self.rng.integers(len(self.choices))]


class OracleAdversary:
    """Tries every allowed push from a saved state and returns one that drops the object.

    An upper bound for evaluation: it sees the future. Among the pushes that drop the object it
    returns the weakest (then the first in the set's order); when none does, the one that moved
    the object furthest. The world is restored to the held state afterwards, so the chosen push
    is then applied for real by the caller.

    Args:
        world: the `GraspWorld` whose held object is pushed.
    """

    def __init__(self, world):
        self.world = world
        self.choices = world.config.perturbations.all
        self.last_trials: list[tuple[Perturbation, bool, float]] = []

    def reset(self, rng: np.random.Generator) -> None:
        pass

    def act(self, held_state: dict) -> Perturbation | None:
        trials = []
        for push in self.choices:
            outcome = self.world.trial_push(push)
            moved = float(np.linalg.norm(outcome.displacement_m))
            trials.append((push, outcome.dropped, moved))
        self.last_trials = trials
        dropping = [t for t in trials if t[1]]
        if dropping:
            return min(dropping, key=lambda t: t[0].magnitude_n)[0]
        return max(trials, key=lambda t: t[2])[0]


def make_adversary(kind, world) -> Adversary:
    """An adversary from a name ('none', 'random', 'oracle') or an object that has `act`."""
    if not isinstance(kind, str):
        if not hasattr(kind, "act") or not hasattr(kind, "reset"):
            raise ConfigError(f"adversary {kind!r} has no act(held_state) and reset(rng) methods")
        return kind
    if kind == "none":
        return NoAdversary()
    if kind == "random":
        return RandomAdversary(world.config.perturbations)
    if kind == "oracle":
        return OracleAdversary(world)
    raise ConfigError(f"unknown adversary {kind!r}: use 'none', 'random', 'oracle' or an object "
                      "with act(held_state) and reset(rng)")
