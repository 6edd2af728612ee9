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


def straight_and_resumed_runs(monkeypatch, tmp_path, make_config):
    """Train a GAN run straight through, and again crashed at round 4 (one round past a
    checkpoint at 3) and resumed; returns the two final checkpoint paths."""
    from gan_core.run import train
    from gan_core.training import TwoPlayerTrainer

    straight = train(make_config(), tmp_path / "straight")
    original = TwoPlayerTrainer.round

    def crashing(self, loss_fns):
        if self.step == 4:
            raise KeyboardInterrupt("killed")
        return original(self, loss_fns)

    monkeypatch.setattr(TwoPlayerTrainer, "round", crashing)
    with pytest.raises(KeyboardInterrupt):
        train(make_config(), tmp_path / "resumed")
    monkeypatch.setattr(TwoPlayerTrainer, "round", original)
    return straight, train(make_config(), tmp_path / "resumed")
