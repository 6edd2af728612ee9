"""Physics of the grasp world on our own objects: lifts, misses, holds, pushes, contacts."""

import numpy as np
import pytest

from envs import Perturbation, WorldStateError
from tests.conftest import SENSIBLE_GRASPS, sensible_grasp

OBJECTS = sorted(SENSIBLE_GRASPS)


@pytest.mark.parametrize("name", OBJECTS)
def test_centred_grasp_lifts_each_object(assets_world, name):
    for seed in (0, 1):
        assets_world.reset(seed=seed, object=name)
        outcome = assets_world.grasp(*sensible_grasp(assets_world, name))
        assert outcome.lifted, (name, seed, outcome.reason)
        assert outcome.reason is None
        assert outcome.object_height_m >= 0.05
        assert outcome.held_image.shape == (32, 32, 3)


@pytest.mark.parametrize("name", OBJECTS)
def test_grasp_beside_the_object_misses(assets_world, name):
    assets_world.reset(seed=3, object=name)
    x, y, theta = sensible_grasp(assets_world, name)
    # 10 cm away from the object, towards the workspace centre's far side.
    direction = -np.sign(x) if x != 0 else 1.0
    outcome = assets_world.grasp(x + direction * 0.10, y, theta)
    assert not outcome.lifted
    assert outcome.reason == "missed"
    assert outcome.held_image is None


@pytest.mark.parametrize("name", OBJECTS)
def test_held_object_without_push_stays_held(assets_world, name):
    assets_world.reset(seed=4, object=name)
    assert assets_world.grasp(*sensible_grasp(assets_world, name)).lifted
    assets_world._run(1.0)
    assert assets_world._held()


@pytest.mark.parametrize("name", ["box", "can", "mug"])
def test_strong_push_drops_and_weak_push_does_not(assets_world, name):
    assets_world.reset(seed=5, object=name)
    assert assets_world.grasp(*sensible_grasp(assets_world, name)).lifted
    weak = assets_world.perturb(Perturbation("right", 2.0, 0.2))
    assert not weak.dropped
    strong = assets_world.perturb(Perturbation("down", 60.0, 0.3))
    assert strong.dropped
    with pytest.raises(WorldStateError, match="needs a held object"):
        assets_world.perturb(Perturbation("up", 1.0, 0.1))


@pytest.mark.parametrize("theta", [0.0, 0.7, np.pi / 2, 2.2])
def test_push_along_plus_x_moves_object_along_plus_x(assets_world, theta):
    # A push strong enough to shove the can out of the hand: it must leave towards the
    # push's world direction whatever the hand's and the object's rotation.
    for seed, (direction, axis, sign) in enumerate(
            [("right", 0, 1.0), ("left", 0, -1.0), ("forward", 1, 1.0)]):
        assets_world.reset(seed=6 + seed, object="can")
        x, y, _ = sensible_grasp(assets_world, "can")
        assert assets_world.grasp(x, y, theta).lifted
        moved = assets_world.perturb(Perturbation(direction, 40.0, 0.2)).displacement_m
        assert sign * moved[axis] > 0.01, (direction, theta, moved)
        assert abs(moved[axis]) > abs(moved[1 - axis]), (direction, theta, moved)


def test_no_sinking_and_symmetric_fingers(assets_world):
    worst_penetration, worst_asymmetry = 0.0, 0.0
    for seed in range(3):
        for name in OBJECTS:
            assets_world.reset(seed=seed, object=name)
            outcome = assets_world.grasp(*sensible_grasp(assets_world, name))
            worst_asymmetry = max(worst_asymmetry, outcome.finger_asymmetry_m)
            worst_penetration = max(worst_penetration, assets_world.max_penetration_m)
    assert worst_penetration <= 0.002, worst_penetration
    assert worst_asymmetry <= 0.001, worst_asymmetry


def test_pixel_world_mapping_finds_the_object(assets_world):
    assets_world.reset(seed=7, object="can")
    _, height = assets_world.render_top_down()
    rows, cols = np.nonzero(height > 0.05)
    x, y = assets_world.camera.pixel_to_world(rows.mean(), cols.mean())
    centre = assets_world.object_position
    assert abs(x - centre[0]) < 0.005 and abs(y - centre[1]) < 0.005
    row, col = assets_world.camera.world_to_pixel(x, y)
    assert np.allclose([row, col], [rows.mean(), cols.mean()])
    # The can is 12 cm tall: the height map sees its lid.
    assert abs(height.max() - 0.12) < 0.002


def test_hand_is_out_of_view_when_observing(assets_world):
    assets_world.reset(seed=8, object="box")
    _, height = assets_world.render_top_down()
    assert height.max() < 0.06  # only the 5 cm box, no hand above it


@pytest.mark.parametrize("object_height_m", [0.01, 0.05, 0.12])
def test_height_map_is_exact(object_height_m):
    from envs.camera import TopDownCamera
    from envs.sim import Sim

    sim = Sim()
    camera = TopDownCamera()
    sim.box([0.25, 0.25, 0.03], [0, 0, -0.03], (0.5, 0.5, 0.5, 1))
    sim.box([0.02, 0.02, object_height_m / 2], [0.05, -0.03, object_height_m / 2], (1, 0, 0, 1))
    _, depth = sim.render(64, 64, sim.view_matrix(*camera.view()), camera.projection())
    height = camera.height_from_depth_buffer(depth)
    row, col = camera.world_to_pixel(0.05, -0.03)
    assert height[int(round(float(row))), int(round(float(col)))] == pytest.approx(
        object_height_m, abs=2e-4)
    assert np.abs(height[0:5, 0:5]).max() < 2e-4  # bare tray reads 0
    sim.close()


def test_knocked_out_objects_do_not_sink_on_impact(assets_world):
    # A hard push drops the object at up to 6 m/s; the fall is sub-stepped so the impact
    # stays under 2 mm (at plain 240 Hz steps it sank 3-5 mm for a step).
    worst = 0.0
    for name in OBJECTS:
        assets_world.reset(seed=9, object=name)
        assert assets_world.grasp(*sensible_grasp(assets_world, name)).lifted
        assets_world.max_penetration_m = 0.0
        assert assets_world.perturb(Perturbation("down", 60.0, 0.2)).dropped
        worst = max(worst, assets_world.max_penetration_m)
    assert worst <= 0.002, worst
