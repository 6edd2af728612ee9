import numpy as np
import pytest

from envs import GraspWorld, WorldConfig


@pytest.fixture(scope="module")
def assets_world():
    world = GraspWorld(WorldConfig(object_set="assets", split="all"))
    yield world
    world.close()


# A centred grasp at a sensible angle for each object of ours, in the object's own frame:
# (dx, dy) from the link origin in metres, and the closing angle relative to the object's yaw.
SENSIBLE_GRASPS = {
    "box": (0.0, 0.0, 0.0),          # across the 5 cm side
    "can": (0.0, 0.0, 0.0),
    "bottle": (0.0, 0.0, 0.0),
    "mug": (0.0, 0.0, np.pi / 2),    # across the body, away from the handle
    "t_shape": (0.0, -0.015, 0.0),   # across the 3 cm stem
}


def sensible_grasp(world, name):
    """World (x, y, theta) of the sensible grasp of the object now on the tray."""
    dx, dy, angle = SENSIBLE_GRASPS[name]
    origin, yaw = world.object_frame()
    c, s = np.cos(yaw), np.sin(yaw)
    return origin[0] + c * dx - s * dy, origin[1] + s * dx + c * dy, yaw + angle


KILLED_GAN_RUN = """
import os, signal
import torch
from gan_core.run import train
from gan_core.training import TwoPlayerTrainer
from gan_core.variants import GanConfig

original = TwoPlayerTrainer.round

def killed(self, loss_fns):
    if self.step == 4:
        os.kill(os.getpid(), signal.SIGKILL)  # no handler runs, nothing is flushed
    return original(self, loss_fns)

TwoPlayerTrainer.round = killed
torch.set_num_threads({threads})  # float sums depend on the thread count
train(GanConfig(**{config!r}), {out!r})
"""


def straight_and_resumed_runs(tmp_path, make_config):
    """Train a GAN run straight through, and again in a child process killed with SIGKILL at
    round 4 (one round past a checkpoint at 3) and resumed here; returns the two final
    checkpoint paths."""
    import dataclasses
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import torch

    from gan_core.run import train

    straight = train(make_config(), tmp_path / "straight")
    code = KILLED_GAN_RUN.format(config=dataclasses.asdict(make_config()),
                                 out=str(tmp_path / "resumed"),
                                 threads=torch.get_num_threads())
    killed = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[1],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    saved = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=False)
    assert saved["state"]["step"] == 3  # the resume below starts from the last checkpoint
    return straight, train(make_config(), tmp_path / "resumed")


def cli_fails(argv: list, capsys, message: str = "") -> str:
    """The CLI exits 2 with one `advgrasp: error:` line holding `message`; returns the line."""
    from advgrasp.cli import main

    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("advgrasp: error:") and "\n" not in err and "Traceback" not in err, err
    assert message in err, err
    return err
