"""Perturbations: pushes an adversary applies to the held object.

A perturbation is a force in the world frame, applied at the object's centre of mass for a
duration; PyBullet clears external forces after every step, so the world re-applies it on every
physics sub-step. Directions are named as seen from the top-down camera:

    right = +x, left = -x, forward = +y (up in the image), backward = -y, up = +z, down = -z
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from envs.errors import ConfigError

DIRECTIONS: dict[str, tuple[float, float, float]] = {
    "up": (0.0, 0.0, 1.0),
    "down": (0.0, 0.0, -1.0),
    "left": (-1.0, 0.0, 0.0),
    "right": (1.0, 0.0, 0.0),
    "forward": (0.0, 1.0, 0.0),
    "backward": (0.0, -1.0, 0.0),
}


@dataclass(frozen=True)
class Perturbation:
    """A push on the held object.

    Attributes:
        direction: one of `DIRECTIONS`.
        magnitude_n: force in newtons.
        duration_s: how long the force acts, in seconds.
    """

    direction: str
    magnitude_n: float
    duration_s: float

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ConfigError(
                f"unknown perturbation direction {self.direction!r}: use one of "
                f"{sorted(DIRECTIONS)}")
        if not np.isfinite(self.magnitude_n) or self.magnitude_n < 0:
            raise ConfigError(f"perturbation magnitude {self.magnitude_n} N must be >= 0")
        if not np.isfinite(self.duration_s) or self.duration_s <= 0:
            raise ConfigError(f"perturbation duration {self.duration_s} s must be > 0")

    @property
    def force(self) -> np.ndarray:
        """The force vector in newtons, world frame."""
        return np.asarray(DIRECTIONS[self.direction]) * self.magnitude_n

    def as_dict(self) -> dict:
        return {"direction": self.direction, "magnitude_n": self.magnitude_n,
                "duration_s": self.duration_s}


@dataclass(frozen=True)
class PerturbationSet:
    """The perturbations an adversary may choose from: every direction at every magnitude.

    The defaults are the six directions of Duan et al. (2019) at two strengths, calibrated on
    geometric-baseline grasps of random_urdfs training objects so that a random choice drops
    30-60 % of held objects and the oracle under 90 % (`benchmarks/calibrate_perturbations.py`:
    37.8 % and 75.1 % over 225 held grasps).
    """

    directions: tuple[str, ...] = ("up", "down", "left", "right", "forward", "backward")
    magnitudes_n: tuple[float, ...] = (32.0, 36.0)
    duration_s: float = 0.2

    def __post_init__(self):
        if not self.directions or not self.magnitudes_n:
            raise ConfigError("a perturbation set needs at least one direction and one magnitude")
        for d in self.directions:
            Perturbation(d, 1.0, self.duration_s)
        for m in self.magnitudes_n:
            Perturbation(self.directions[0], m, self.duration_s)

    @property
    def all(self) -> list[Perturbation]:
        """Every allowed perturbation; its index is the learned adversary's output index."""
        return [Perturbation(d, m, self.duration_s)
                for d in self.directions for m in self.magnitudes_n]

    def __len__(self) -> int:
        return len(self.directions) * len(self.magnitudes_n)

    def index(self, perturbation: Perturbation) -> int:
        return self.all.index(perturbation)
