"""The training configuration: one dataclass whose field docs become `advgrasp train --help`."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
from dataclasses import dataclass, fields

from envs.errors import ConfigError

ADVERSARIES = ("none", "random", "oracle", "learned")
TRAINS_LEARNED = ("learned", "oracle")
"""Phase-two adversaries under which the learned adversary trains (the oracle's search tries
pushes in its order and teaches it with every try)."""
GRASP_NET_KINDS = ("angles", "rotating")


@dataclass
class TrainConfig:
    """Everything a training run depends on."""

    attempts: int = 3000
    """Grasp attempts in all, both phases."""
    pretrain_attempts: int = 1200
    """Attempts of phase one, trained on R_R alone (self-supervised), before the adversary acts;
    as it starts, phase one's lifts leave the replay buffer (their target ignored the push)."""
    adversary: str = "learned"
    """Adversary of phase two: none, random, oracle or learned (trained jointly). With oracle,
    R_H is 1 when any allowed push drops the held object; the pushes are tried in the learned
    adversary's order until one does, and each try trains that adversary."""
    alpha: float = 1.0
    """Weight of the adversary's win, within [0, 1]: target r = R_R - alpha * R_H."""
    seed: int = 0
    """Seeds scenes, exploration, network initialisation and sampling."""
    object_set: str = "random_urdfs"
    """Training objects: random_urdfs, assets or a folder of URDFs (train split)."""
    image_size: int = 64
    """Top-down RGB-D image side in pixels (a multiple of 4; the grid is image_size / 4)."""
    width: int = 32
    """Channels of the grasp network's first layer."""
    grasp_net: str = "angles"
    """Grasp network: angles (18 outputs per cell, one per angle) or rotating (the image turned
    18 ways under one network that scores grasps closing along its rows; slower to act)."""
    lr: float = 1e-3
    """RMSProp learning rate of the grasp network."""
    adversary_lr: float = 1e-3
    """RMSProp learning rate of the learned adversary."""
    batch_size: int = 32
    """Samples per update of each network."""
    update_every: int = 4
    """Attempts between learning rounds (one update of each player per round)."""
    warmup_attempts: int = 64
    """Attempts before the first learning round."""
    buffer_capacity: int = 20000
    """Replay buffer size in attempts (about 16 kB each at 64 px); the learned adversary's
    buffer has as many rows, one per push tried, so with probes or the oracle's search it
    spans fewer attempts."""
    top_k_start: int = 12
    """Exploration: the grasp is drawn uniformly among the top-k scored pairs; k anneals..."""
    top_k_end: int = 1
    """...to this value over the run."""
    epsilon_start: float = 0.3
    """Chance of a uniformly random on-object grasp at the start; anneals linearly..."""
    epsilon_end: float = 0.02
    """...to this value at the end of the run."""
    adversary_epsilon: float = 0.5
    """Chance that the learned adversary pushes at random instead of greedily while training,
    with adversary learned (at the demo budget 0.2, 0.5 and 0.8 gave 8 %, 11 % and 6 % robust
    success against the oracle on 100 held-out scenes: README.md)."""
    adversary_probes: int = 0
    """With adversary learned: extra pushes, drawn at random, that the simulation tries (and
    undoes) from each held state to label the learned adversary's other outputs; the grasper's
    reward still comes from the adversary's own push."""
    checkpoint_every: int = 500
    """Attempts between checkpoints (and a last one at the end)."""
    eval_scenes: int = 150
    """Held-out scenes per object set in the evaluation after training (0: none)."""
    device: str = "auto"
    """auto (CUDA when present), cpu or cuda."""
    torch_threads: int = 2
    """torch CPU threads (simulation and learning take turns in one process, so learning can
    use every core)."""
    progress: bool = True
    """Show a progress bar."""
    ray_workers: int = 0
    """Rollout actors on Ray, one world each (0: attempts run in this process). Each wave
    plays ray_workers * update_every attempts with the same weights."""
    ray_address: str = "local"
    """Ray cluster to use with ray_workers: local starts a private instance on this machine;
    auto or host:port joins a running cluster."""

    def validate(self) -> None:
        if self.adversary not in ADVERSARIES:
            raise ConfigError(f"adversary {self.adversary!r}: use one of {ADVERSARIES}")
        if self.grasp_net not in GRASP_NET_KINDS:
            raise ConfigError(f"grasp_net {self.grasp_net!r}: use one of {GRASP_NET_KINDS}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ConfigError(f"alpha {self.alpha} must be within [0, 1]")
        if self.image_size % 4 or self.image_size < 48:
            raise ConfigError(f"image_size {self.image_size} must be a multiple of 4, >= 48")
        if self.attempts < 1:
            raise ConfigError(f"attempts {self.attempts} must be at least 1")
        if not 0 <= self.pretrain_attempts <= self.attempts:
            raise ConfigError(f"pretrain_attempts {self.pretrain_attempts} must be within "
                              f"[0, attempts = {self.attempts}]")
        for name in ("attempts", "batch_size", "update_every", "buffer_capacity", "width",
                     "checkpoint_every", "top_k_start", "top_k_end", "torch_threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} {getattr(self, name)} must be at least 1")
        choices = (self.image_size // 4) ** 2 * 18
        for name in ("top_k_start", "top_k_end"):
            if getattr(self, name) > choices:
                raise ConfigError(f"{name} {getattr(self, name)} exceeds the {choices} grasp "
                                  f"choices of a {self.image_size} px image; use at most that")
        for name in ("warmup_attempts", "eval_scenes", "ray_workers", "adversary_probes"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} {getattr(self, name)} must be at least 0")
        for name in ("epsilon_start", "epsilon_end", "adversary_epsilon"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} {getattr(self, name)} is a probability: use a "
                                  "value within [0, 1]")
        for name in ("lr", "adversary_lr"):
            value = getattr(self, name)
            if not (value > 0 and value < float("inf")):
                raise ConfigError(f"{name} {value} must be a positive learning rate, "
                                  "such as 1e-3")


RESUMABLE_CHANGES = ("attempts", "eval_scenes", "checkpoint_every", "device", "torch_threads",
                     "progress", "ray_address")
"""Fields that may differ when a run is resumed; any other change is refused."""

PRESETS: dict[str, dict] = {
    "demo": {},
    "full": {"attempts": 40000, "pretrain_attempts": 12000, "buffer_capacity": 40000,
             "eval_scenes": 300, "grasp_net": "rotating", "checkpoint_every": 2000},
    "tiny": {"attempts": 40, "pretrain_attempts": 20, "warmup_attempts": 8, "batch_size": 8,
             "eval_scenes": 6, "checkpoint_every": 20, "progress": False},
}
"""Named starting points; fields given on the command line override them."""


def field_docs(cls) -> dict[str, str]:
    """The string literal under each dataclass field, read from the source."""
    tree = ast.parse(inspect.getsource(cls))
    body, docs = tree.body[0].body, {}
    for node, following in zip(body, body[1:] + [None], strict=True):
        if (isinstance(node, ast.AnnAssign) and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs


def add_config_arguments(parser: argparse.ArgumentParser, cls=TrainConfig) -> None:
    """One `--field-name` option per dataclass field, with the field's doc as help."""
    docs = {k: v.replace("%", "%%") for k, v in field_docs(cls).items()}  # argparse formats help
    for f in fields(cls):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                                help=f"{docs.get(f.name, '')} (default {f.default})")
        else:
            kind = {"int": int, "float": float, "str": str}.get(str(f.type), str)
            parser.add_argument(flag, type=kind, default=None,
                                help=f"{docs.get(f.name, '')} (default {f.default})")


def config_from_args(args: argparse.Namespace, preset: str = "demo", cls=TrainConfig):
    """A config from a preset overridden by the options given."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}: use one of {sorted(PRESETS)}")
    values = dict(PRESETS[preset])
    for f in fields(cls):
        given = getattr(args, f.name, None)
        if given is not None:
            values[f.name] = given
    config = cls(**values)
    config.validate()
    return config


def to_dict(config) -> dict:
    return dataclasses.asdict(config)
