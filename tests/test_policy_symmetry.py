"""The grasp policy's symmetric scoring: views, their inverse mapping, and equivariance."""

import numpy as np
import torch

from advgrasp.agents import GraspPolicy
from advgrasp.policy import ANGLES, SYMMETRIES, augment, symmetric_views, to_original


def scene(seed=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (64, 64, 4), dtype=np.uint8)
    image[:, :, 3] = 0
    image[20:40, 24:30, 3] = 200  # an object, off-centre and elongated
    return image


def test_to_original_undoes_each_view_as_augment_maps_grasps():
    # A map that is 1 at one (angle, row, col) of a view must come back at the cell and angle
    # that `augment` would have moved the original grasp to, read in reverse.
    grid, rng = 16, np.random.default_rng(0)
    for flip, turns in SYMMETRIES:
        k, r, c = 5, 3, 11
        # Where the original grasp (r, c, k) lies in this view: mirror first, then turn.
        vr, vc, vk = r, c, k
        if flip:
            vc, vk = grid - 1 - vc, (-vk) % ANGLES
        for _ in range(turns):
            vr, vc, vk = grid - 1 - vc, vr, (vk + ANGLES // 2) % ANGLES
        view_map = np.zeros((ANGLES, grid, grid))
        view_map[vk, vr, vc] = 1.0
        back = to_original(view_map, flip, turns)
        assert np.unravel_index(np.argmax(back), back.shape) == (k, r, c), (flip, turns)


def test_views_match_augment_image_transform():
    image = scene()
    views = symmetric_views(image)
    assert views.shape == (8, 64, 64, 4)
    # augment turns, then mirrors; a quarter turn of the view with flip=False is the same.
    np.testing.assert_array_equal(views[1], np.rot90(image, 1, axes=(0, 1)))
    np.testing.assert_array_equal(views[4], image[:, ::-1])
    out, cells, angles = augment(image[None], np.array([3 * 16 + 11]), np.array([5]), 16,
                                 np.random.default_rng(1))
    assert any(np.array_equal(out[0], view) for view in views)


def test_symmetric_scores_are_equivariant_under_turns_and_mirrors():
    torch.manual_seed(0)
    policy = GraspPolicy()
    image = scene()
    base, mask = policy.scores(image, symmetric=True)
    single, _ = policy.scores(image)
    assert not np.allclose(base, single, atol=1e-4)  # an untrained net is far from symmetric
    for flip, turns in SYMMETRIES[1:]:
        view = symmetric_views(image)[SYMMETRIES.index((flip, turns))]
        moved, _ = policy.scores(view, symmetric=True)
        np.testing.assert_allclose(to_original(moved, flip, turns), base, atol=1e-5)


def test_predict_uses_the_symmetric_scores_by_default():
    torch.manual_seed(0)
    policy = GraspPolicy()
    image = scene(1)
    probs, mask = policy.scores(image, symmetric=True)
    masked = np.where(mask[None], probs, -np.inf)
    k, r, c = np.unravel_index(np.argmax(masked), masked.shape)
    expected = policy._grasp(int((r * policy.grid + c) * ANGLES + k), 0.0)
    assert policy.predict(image) == (expected.x, expected.y, expected.theta)
