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


def test_to_original_undoes_each_view():
    # A map that is 1 where a view shows the original grasp (angle k, row r, col c) must come
    # back at (k, r, c).
    grid = 16
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


def test_views_and_their_inverse_agree_with_augment():
    image = scene()
    views = symmetric_views(image)
    assert views.shape == (8, 64, 64, 4)
    np.testing.assert_array_equal(views[1], np.rot90(image, 1, axes=(0, 1)))
    np.testing.assert_array_equal(views[4], image[:, ::-1])
    # Whatever transform `augment` draws, its image is one of the views, and the grasp it
    # moves there comes back to the original cell and angle through `to_original`.
    seen = set()
    for seed in range(40):
        out, cells, angles = augment(image[None], np.array([3 * 16 + 11]), np.array([5]), 16,
                                     np.random.default_rng(seed))
        index = next(i for i, view in enumerate(views) if np.array_equal(out[0], view))
        seen.add(index)
        view_map = np.zeros((ANGLES, 16, 16))
        view_map[angles[0], cells[0] // 16, cells[0] % 16] = 1.0
        back = to_original(view_map, *SYMMETRIES[index])
        assert np.unravel_index(np.argmax(back), back.shape) == (5, 3, 11), seed
    assert len(seen) == 8


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


def test_predict_without_fine_search_takes_the_symmetric_grid_pick():
    torch.manual_seed(0)
    policy = GraspPolicy()
    image = scene(1)
    probs, mask = policy.scores(image, symmetric=True)
    masked = np.where(mask[None], probs, -np.inf)
    k, r, c = np.unravel_index(np.argmax(masked), masked.shape)
    expected = policy._grasp(int((r * policy.grid + c) * ANGLES + k), 0.0)
    assert policy.predict(image, fine=False) == (expected.x, expected.y, expected.theta)
    refined = policy.refine(image, policy.choose(image, symmetric=True))
    assert policy.predict(image) == (refined.x, refined.y, refined.theta)
