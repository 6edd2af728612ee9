"""Where a session's robot starts: a trainer config and the checkpoint or policy it loads."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from advgrasp.agents import GraspPolicy
from advgrasp.config import TrainConfig
from advgrasp.human.errors import SessionError
from advgrasp.train import CHECKPOINT

SESSION_OVERRIDES = {"progress": False, "torch_threads": 1, "device": "cpu", "eval_scenes": 0}
"""Training options a session always uses: one torch thread, so learning never starves the
window's thread."""


def starting_point(path: str | Path | None) -> tuple[TrainConfig, int, Path | None]:
    """The trainer config, attempt count and file a session starts from.

    Args:
        path: a run folder holding checkpoint.pt, a checkpoint file, a file named policy.pt
            (weights only: fresh optimisers and buffers), or None (an untrained robot, seeded).
    """
    if path is None:
        return TrainConfig(**SESSION_OVERRIDES), 0, None
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT if (path / CHECKPOINT).is_file() else path / "policy.pt"
    if not path.is_file():
        raise SessionError(f"starting checkpoint {path} not found: pass a run folder that "
                           "`advgrasp train` wrote (it holds checkpoint.pt or policy.pt), or "
                           "no checkpoint")
    if path.name != "policy.pt":
        from gan_core.checkpoint import read_checkpoint

        _, extra = read_checkpoint(path, ["grasper", "adversary"])
        return (replace(TrainConfig(**extra["config"]), **SESSION_OVERRIDES),
                int(extra["attempt"]), path)
    policy = GraspPolicy.load(path)
    return (TrainConfig(image_size=policy.image_size, width=policy.width, grasp_net=policy.kind,
                        **SESSION_OVERRIDES), 0, path)


def write_atomic(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, path)
