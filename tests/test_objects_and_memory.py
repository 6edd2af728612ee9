"""Object sets, broken URDFs, resident memory over many resets, calibration of pushes."""

import sys
from pathlib import Path

import pytest

import envs
from envs import GraspWorld, ObjectLoadError, ObjectSetError, WorldConfig, object_set

CASES = Path(__file__).resolve().parents[1].parent / "shared" / "cases"


def test_random_urdfs_split_follows_pybullet():
    objects = object_set("random_urdfs")
    assert len(objects.train) == 900 and len(objects.test) == 100
    assert all(p.stem.endswith("0") for p in objects.test)
    assert not set(objects.train) & set(objects.test)


def test_assets_set_has_our_five_objects():
    names = {p.stem for p in object_set("assets").split("all")}
    assert names == {"bottle", "box", "can", "mug", "t_shape"}


def test_user_folder_and_unknown_set(tmp_path):
    for i in range(3):
        (tmp_path / f"obj{i}.urdf").write_text(
            '<robot name="b"><link name="l"><inertial><mass value="0.1"/></inertial>'
            '<collision><geometry><box size="0.03 0.03 0.03"/></geometry></collision>'
            '<visual><geometry><box size="0.03 0.03 0.03"/></geometry></visual></link></robot>')
    world = GraspWorld(WorldConfig(object_set=str(tmp_path)))
    world.reset(seed=0)
    assert world.object_model.name.startswith("obj")
    world.close()
    with pytest.raises(ObjectSetError, match="unknown object set 'nowhere'"):
        object_set("nowhere")


BROKEN = {
    "not_xml.urdf": ("<robot><link", "not valid XML"),
    "two_links.urdf": ('<robot name="x"><link name="a"><collision><geometry><box size="1 1 1"/>'
                       '</geometry></collision></link><link name="b"/><joint name="j" '
                       'type="fixed"><parent link="a"/><child link="b"/></joint></robot>',
                       "it has 2 links"),
    "no_mesh.urdf": ('<robot name="x"><link name="a"><collision><geometry>'
                     '<mesh filename="gone.obj"/></geometry></collision></link></robot>',
                     "mesh file 'gone.obj' not found"),
    "no_collision.urdf": ('<robot name="x"><link name="a"/></robot>', "no <collision>"),
    "bad_mass.urdf": ('<robot name="x"><link name="a"><inertial><mass value="-1"/></inertial>'
                      '<collision><geometry><box size="1 1 1"/></geometry></collision></link>'
                      '</robot>', "mass -1.0 must be positive"),
}


@pytest.mark.parametrize("filename", sorted(BROKEN))
def test_broken_urdf_names_file_and_reason(tmp_path, filename):
    text, reason = BROKEN[filename]
    path = tmp_path / filename
    path.write_text(text)
    world = GraspWorld(WorldConfig(object_set="assets"))
    with pytest.raises(ObjectLoadError) as err:
        world.reset(seed=0, object=path)
    assert str(path) in str(err.value) and reason in str(err.value)
    world.close()


def test_missing_urdf_file(tmp_path):
    world = GraspWorld(WorldConfig(object_set="assets"))
    with pytest.raises(ObjectLoadError, match="file not found"):
        world.reset(seed=0, object=tmp_path / "absent.urdf")
    world.close()


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6


def _resets(count: int) -> float:
    world = GraspWorld(WorldConfig(split="all"))
    # Warm the shape cache once over the whole set: memory is bounded by distinct objects.
    for path in world.candidates:
        world.reset(seed=0, object=path)
    start = _rss_mb()
    for seed in range(count):
        world.reset(seed=seed)
        world.observe()
    grown = _rss_mb() - start
    world.close()
    return grown


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_memory_flat_over_resets_short():
    assert _resets(500) < 10.0


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_memory_flat_over_5000_resets():
    assert _resets(5000) < 50.0


def test_perturbation_calibration():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from calibrate_perturbations import calibrate

    counts = calibrate(attempts=200, magnitudes=envs.PerturbationSet().magnitudes_n,
                       offset_m=0.025, seed=10_000)
    rate = {k: v[0] / v[1] for k, v in counts.items()}
    assert 0.30 <= rate["centred"] <= 0.60, counts
    assert rate["centred"] < rate["oracle"] < 0.90, counts
    assert rate["off_centre"] > rate["centred"], counts


def _cases() -> list[Path]:
    if not CASES.is_dir():
        return []
    return sorted(p for p in CASES.iterdir() if p.name != "README.md")


@pytest.mark.parametrize("case", _cases() or [None], ids=lambda p: p.name if p else "none")
def test_shared_case(case):
    # Every input in shared/cases once made the product fail and must keep passing.
    if case is None:
        pytest.skip("no cases are filed in shared/cases yet")
    if case.suffix != ".urdf":
        pytest.fail(f"no runner for case {case.name}: add one to this test")
    world = GraspWorld(WorldConfig(object_set="assets"))
    try:
        world.reset(seed=0, object=case)
    except ObjectLoadError as err:
        assert str(case) in str(err)
    world.close()
