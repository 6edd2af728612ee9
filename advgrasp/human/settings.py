"""`SessionSettings`: what one human-adversary session plays, stored with the session."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from advgrasp.human.errors import SessionError
from envs.perturbation import Perturbation

ASSET_OBJECTS = ("box", "can", "bottle", "mug", "t_shape")


@dataclass
class SessionSettings:
    """Settings of one session (one participant, one condition).

    Attributes:
        objects: object names cycled over the trials (names in `object_set`).
        object_set: the object set the names come from: assets, random_urdfs or a folder.
        trials: scored trials, after the practice trials.
        practice_trials: trials logged as practice (excluded from analysis, no learning).
        time_limit_s: seconds a person has to choose a push; then "no perturbation" is logged.
        checkpoint: starting checkpoint: a run folder holding checkpoint.pt, or the file; None
            starts from an untrained robot.
        seed: seeds the scenes when `seeds` is empty: scene i depends only on (seed, i), so
            conditions with the same seed see the same objects and poses.
        updates_per_trial: learning rounds of the robot after every scored trial.
        seeds: world seed of each scored trial (the study's matched seeds); empty: from `seed`.
        practice_seeds: world seed of each practice trial; empty: from `seed`.
    """

    objects: tuple[str, ...] = ASSET_OBJECTS
    object_set: str = "assets"
    trials: int = 10
    practice_trials: int = 2
    time_limit_s: float = 10.0
    checkpoint: str | None = None
    seed: int = 0
    updates_per_trial: int = 4
    seeds: tuple[int, ...] = ()
    practice_seeds: tuple[int, ...] = ()

    def validate(self) -> None:
        if not self.objects:
            raise SessionError("a session needs at least one object: pass --objects box,mug")
        if self.trials < 1:
            raise SessionError(f"trials {self.trials} must be at least 1")
        if self.practice_trials < 0:
            raise SessionError(f"practice_trials {self.practice_trials} must be at least 0")
        if not (0 < self.time_limit_s < float("inf")):
            raise SessionError(f"time_limit_s {self.time_limit_s} must be a positive number "
                               "of seconds, such as 10")
        if self.updates_per_trial < 0:
            raise SessionError(f"updates_per_trial {self.updates_per_trial} must be >= 0")
        for name, count in (("seeds", self.trials), ("practice_seeds", self.practice_trials)):
            given = len(getattr(self, name))
            if given and given < count:
                raise SessionError(f"{name} holds {given} seeds for {count} trials: give one "
                                   "per trial, or none")

    @property
    def total_trials(self) -> int:
        return self.practice_trials + self.trials

    def trial_at(self, position: int) -> tuple[bool, int]:
        """(practice, index) of the trial at `position` in the session (practice first);
        practice and scored trials are each numbered from 0."""
        practice = position < self.practice_trials
        return practice, position if practice else position - self.practice_trials

    def scene(self, practice: bool, index: int) -> tuple[str, int]:
        """Object name and world seed of a practice or scored trial."""
        given = self.practice_seeds if practice else self.seeds
        if given:
            seed = int(given[index])
        else:
            entropy = [self.seed, index, int(practice)]
            seed = int(np.random.SeedSequence(entropy).generate_state(1)[0] >> 1)
        return self.objects[index % len(self.objects)], seed

    def as_dict(self) -> dict:
        values = asdict(self)
        for name in ("objects", "seeds", "practice_seeds"):
            values[name] = list(values[name])
        return values

    @classmethod
    def from_study(cls, settings: dict, **overrides) -> SessionSettings:
        """Settings from `StudyStore.session_settings` (other keys there are ignored)."""
        values = {"objects": tuple(settings["objects"]),
                  "object_set": settings.get("object_set", "assets"),
                  "trials": settings["trials"], "practice_trials": settings["practice_trials"],
                  "time_limit_s": settings["time_limit_s"],
                  "checkpoint": settings.get("starting_checkpoint") or None,
                  "seeds": tuple(settings.get("seeds", ())),
                  "practice_seeds": tuple(settings.get("practice_seeds", ()))}
        for name in ("updates_per_trial", "seed"):
            if name in settings:
                values[name] = settings[name]
        values.update(overrides)
        result = cls(**values)
        result.validate()
        return result

    @classmethod
    def from_dict(cls, values: dict) -> SessionSettings:
        """Settings from a dict (as stored); unknown keys are refused by name."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SessionError(f"unknown session settings {unknown}: use only {sorted(known)}")
        values = dict(values)
        for name in ("objects", "seeds", "practice_seeds"):
            if name in values:
                given = values[name]
                values[name] = tuple(given.split(",") if isinstance(given, str) else given)
        settings = cls(**values)
        settings.validate()
        return settings


def perturbation_name(push: Perturbation | None) -> str | None:
    """The logged name of a push, such as 'left_32N' (direction and newtons), or None."""
    return None if push is None else f"{push.direction}_{push.magnitude_n:g}N"


def perturbation_from_name(name: str | None, allowed: list[Perturbation]) -> Perturbation | None:
    """The allowed perturbation a logged name stands for (None stays None)."""
    if name is None:
        return None
    for push in allowed:
        if perturbation_name(push) == name:
            return push
    raise SessionError(f"perturbation {name!r} is not in the allowed set "
                       f"{[perturbation_name(p) for p in allowed]}")
