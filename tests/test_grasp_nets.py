"""The grasp networks: the training path that scores only the executed cell, and the rotating
network (one scorer for grasps closing along the image's rows, applied to the image turned for
each of the 18 angles)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from advgrasp.agents import GraspPolicy
from advgrasp.config import GRASP_NET_KINDS, TrainConfig
from advgrasp.policy import ANGLES, GRASP_NETS, RotatingGraspNet, to_tensor
from envs.baseline import geometric_grasp
from envs.camera import TopDownCamera
from envs.errors import ConfigError
from gan_core.errors import CheckpointError


def bar_heights(direction_deg: float, camera: TopDownCamera) -> np.ndarray:
    """(64, 64) heights of a 12 x 2 cm bar at the workspace centre whose long side points at
    `direction_deg` in the world (x right, y up)."""
    rows, cols = np.mgrid[:64, :64]
    x, y = camera.pixel_to_world(rows, cols)
    a = np.radians(direction_deg)
    along = x * np.cos(a) + y * np.sin(a)
    across = -x * np.sin(a) + y * np.cos(a)
    return np.where((abs(along) < 0.06) & (abs(across) < 0.01), 0.05, 0.0)


@pytest.mark.parametrize("direction_deg", [0, 30, 75, 120])
def test_turned_image_puts_the_closing_direction_along_rows(direction_deg):
    # The geometric grasp closes across the bar; the image turned for its angle bin must show
    # the bar standing upright (its narrow side along the rows).
    camera = TopDownCamera(side_m=0.30, size_px=64, depth_range_m=0.15)
    heights = bar_heights(direction_deg, camera)
    _, _, theta = geometric_grasp(heights, camera)
    k = int(round(theta / (np.pi / ANGLES))) % ANGLES
    turned = RotatingGraspNet(1, 4)._turned(torch.from_numpy(heights)[None, None].float(),
                                            torch.tensor([k]))[0, 0].numpy()
    rows, cols = np.nonzero(turned > 0.01)
    assert rows.std() > 3 * cols.std(), (direction_deg, rows.std(), cols.std())


@pytest.mark.parametrize("kind", ["angles", "rotating"])
def test_windowed_training_logits_and_gradients_equal_the_full_maps(kind):
    # Every angle at corner, edge and inner cells: the window's zero padding must match the
    # layers' own (and, turned, the corner cells that fall off the turned map score 0).
    torch.manual_seed(0)
    net = GRASP_NETS[kind](4, 8)
    images = torch.rand(2, 4, 64, 64)
    assert net(images).shape == (2, ANGLES, 16, 16)
    cells = [(0, 0), (0, 15), (15, 0), (15, 15), (7, 8), (1, 14), (3, 0)]
    index = [(i, k, r, c) for i in range(2) for k in range(ANGLES) for r, c in cells]
    batch, angles, rows, cols = (torch.tensor(v) for v in zip(*index, strict=True))
    results = []
    for logits in (lambda: net(images)[batch, angles, rows, cols],
                   lambda: net.chosen(images[batch], angles, rows, cols)):
        net.zero_grad()
        values = logits()
        F.binary_cross_entropy_with_logits(values, torch.ones(len(index))).backward()
        results.append((values.detach(), [p.grad.clone() for p in net.parameters()]))
    (full, full_grads), (window, window_grads) = results
    torch.testing.assert_close(window, full)
    for a, b in zip(full_grads, window_grads, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-6)


def test_quarter_turn_of_the_image_moves_the_scores_with_it():
    # A quarter turn counter-clockwise moves cell (r, c) to (G-1-c, r) and angle k to k + 9
    # (as `augment` maps it). For k < 9 the network then sees exactly the same turned image, so
    # the scores follow exactly; for k >= 9, k + 9 wraps round to the image turned half a turn
    # the other way, which the network scores as a different image (training's augmentation
    # teaches it that the two match).
    torch.manual_seed(0)
    net = RotatingGraspNet(4, 8)
    image = np.zeros((64, 64, 4), np.uint8)
    image[18:44, 26:34] = 180
    image[30:34, 10:20] = 90
    with torch.no_grad():
        maps = net(to_tensor(image))[0].numpy()
        turned = net(to_tensor(np.rot90(image, 1, axes=(0, 1)).copy()))[0].numpy()
    for k in range(ANGLES // 2):
        np.testing.assert_allclose(turned[k + ANGLES // 2], np.rot90(maps[k]), atol=1e-5)


def test_policy_saves_its_network_kind(tmp_path):
    policy = GraspPolicy(net="rotating", width=8)
    loaded = GraspPolicy.load(policy.save(tmp_path / "policy.pt"))
    assert isinstance(loaded.net, RotatingGraspNet)
    image = np.zeros((64, 64, 4), np.uint8)
    image[20:40, 28:36] = 150
    assert loaded.predict(image) == policy.predict(image)


def test_unknown_network_kind_is_refused(tmp_path):
    assert set(GRASP_NET_KINDS) == set(GRASP_NETS)
    with pytest.raises(ConfigError, match="grasp_net 'resnet'"):
        TrainConfig(grasp_net="resnet").validate()
    with pytest.raises(ConfigError, match="grasp network 'resnet'"):
        GraspPolicy(net="resnet")
    path = GraspPolicy(width=8).save(tmp_path / "policy.pt")
    saved = torch.load(path, weights_only=True)
    torch.save({**saved, "net": "resnet"}, path)
    with pytest.raises(CheckpointError, match="policy.pt holds a grasp network of unknown kind"):
        GraspPolicy.load(path)


def test_weights_that_do_not_fit_the_named_kind_name_the_file(tmp_path):
    path = GraspPolicy(width=8).save(tmp_path / "policy.pt")
    saved = torch.load(path, weights_only=True)
    torch.save({**saved, "net": "rotating"}, path)
    with pytest.raises(CheckpointError, match=r"policy.pt: its weights do not fit a 'rotating'"):
        GraspPolicy.load(path)


def test_a_session_starts_from_a_rotating_policy_file(tmp_path):
    # `advgrasp play --checkpoint .../policy.pt` and study sessions build their trainer from
    # the policy file's own network kind.
    from advgrasp.human.start import starting_point
    from advgrasp.train import GraspTrainer

    start = GraspPolicy(net="rotating").save(tmp_path / "policy.pt")
    config, attempt, path = starting_point(start)
    assert (config.grasp_net, attempt, path) == ("rotating", 0, start)
    trainer = GraspTrainer(config, tmp_path / "session")
    try:
        trainer.policy.net.load_state_dict(GraspPolicy.load(path).net.state_dict())
    finally:
        trainer.trainer.close()
        trainer.close()
