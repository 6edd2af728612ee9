"""The policy's fine search: pixel-resolution positions and, for the rotating network, angles
between the bins."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from advgrasp.agents import GraspPolicy
from advgrasp.policy import ANGLES, GraspNet, RotatingGraspNet, to_tensor
from envs.errors import InvalidActionError


def scene():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (64, 64, 4), dtype=np.uint8)
    image[:, :, 3] = 0
    image[18:44, 26:34, 3] = 180  # an elongated object, off-centre, and a smaller one
    image[30:34, 10:20, 3] = 90
    return image


@pytest.mark.parametrize("net_class", [GraspNet, RotatingGraspNet])
def test_maps_at_whole_bins_equal_the_full_maps(net_class):
    torch.manual_seed(0)
    net = net_class(4, 8)
    images = to_tensor(np.stack([scene(), scene()[::-1].copy()]))
    angles = torch.tensor([3, 14])
    with torch.no_grad():
        full = net(images)
        at = net.maps_at(images, angles)
    torch.testing.assert_close(at, full[torch.arange(2), angles])


def test_rotating_half_bins_follow_a_quarter_turn_of_the_image():
    # As for whole bins (tests/test_grasp_nets.py): a quarter turn adds 9 bins to the angle,
    # and below half a turn the network sees exactly the same turned image.
    torch.manual_seed(0)
    net = RotatingGraspNet(4, 8)
    image = scene()
    turned_image = np.rot90(image, 1, axes=(0, 1)).copy()
    for angle in (0.5, 3.5, 8.5):
        with torch.no_grad():
            maps = net.maps_at(to_tensor(image), torch.tensor([angle]))[0].numpy()
            turned = net.maps_at(to_tensor(turned_image), torch.tensor([angle + 9]))[0].numpy()
            lower = net.maps_at(to_tensor(image), torch.tensor([angle - 0.5]))[0].numpy()
        np.testing.assert_allclose(turned, np.rot90(maps), atol=1e-5)
        assert not np.allclose(maps, lower, atol=1e-4)  # a half bin is a different angle


class BumpScorer(nn.Module):
    """Scores every cell by a Gaussian-weighted sum of the height image around the cell's centre,
    the same for every angle: its best grasp point is exactly the centre of a small bump."""

    FINE_ANGLES = (0.0,)

    def __init__(self):
        super().__init__()
        offsets = np.arange(8) - 3.5  # kernel pixel i sits at 4 r - 2 + i; the centre at 4 r + 1.5
        profile = np.exp(-offsets ** 2 / 8.0)
        kernel = np.outer(profile, profile) / np.outer(profile, profile).sum()
        self.register_buffer("kernel", torch.tensor(kernel, dtype=torch.float32)[None, None])

    def maps_at(self, images, angles):
        return F.conv2d(images[:, 3:4], self.kernel, stride=4, padding=2)[:, 0] * 4.0

    def forward(self, images):
        return self.maps_at(images, None)[:, None].repeat(1, ANGLES, 1, 1)


def test_fine_search_reaches_the_pixel_between_grid_centres():
    policy = GraspPolicy()
    policy.net = BumpScorer()
    image = np.zeros((64, 64, 4), np.uint8)
    image[30:32, 35:37, 3] = 200  # centred on pixel corner (30.5, 35.5): 3 px up and 2 px left
    # of the centre of cell (8, 9), which is at (33.5, 37.5)
    grid = policy.choose(image, symmetric=True)
    assert divmod(grid.cell, policy.grid) in {(7, 8), (7, 9), (8, 8), (8, 9)}
    x, y, _ = policy.predict(image)
    expected = policy.camera.pixel_to_world(30.5, 35.5)
    np.testing.assert_allclose((x, y), expected, atol=1e-9)
    assert np.hypot(grid.x - x, grid.y - y) > 0.004  # the grid alone cannot get there


@pytest.mark.parametrize("kind", ["angles", "rotating"])
def test_fine_search_keeps_near_the_grid_angle_and_on_the_object(kind):
    torch.manual_seed(1)
    policy = GraspPolicy(width=8, net=kind)
    image = scene()
    grid = policy.choose(image, symmetric=True)
    fine = policy.refine(image, grid)
    steps = (fine.theta / (np.pi / ANGLES) - grid.angle + ANGLES / 2) % ANGLES - ANGLES / 2
    allowed = policy.net.FINE_ANGLES
    assert min(abs(steps - a) for a in allowed) < 1e-6, steps
    row, col = policy.camera.world_to_pixel(fine.x, fine.y)  # a pixel corner
    top, left = int(round(row - 1.5)), int(round(col - 1.5))
    assert image[top:top + 4, left:left + 4, 3].max() > 0  # its 4 x 4 block shows the object
    # Its cell holds its point and its bin is the nearest to its angle.
    near_row, near_col = divmod(fine.cell, policy.grid)
    assert 4 * near_row - 0.5 <= row <= 4 * near_row + 3.5
    assert 4 * near_col - 0.5 <= col <= 4 * near_col + 3.5
    assert abs((fine.theta / (np.pi / ANGLES) - fine.angle + ANGLES / 2) % ANGLES
               - ANGLES / 2) <= 0.5 + 1e-9
    assert 0.0 < fine.predicted < 1.0


def test_fine_search_and_scores_refuse_a_bad_observation():
    policy = GraspPolicy(width=8)
    grid = policy.choose(scene())
    with pytest.raises(InvalidActionError, match="channels last"):
        policy.scores(scene()[:, :, :3])
    with pytest.raises(InvalidActionError, match="image_size=64"):
        policy.refine(scene()[:32, :32], grid)
    with pytest.raises(InvalidActionError, match="dtype float64"):
        policy.choose(scene() / 255.0)
    with pytest.raises(InvalidActionError, match="dtype float32"):
        policy.refine(scene().astype(np.float32), grid)
