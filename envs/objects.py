"""Object sets and object models: URDF files read once, built as shapes once per world.

PyBullet leaks memory on every `loadURDF`/`removeBody` cycle (about 35 kB each, measured with
pybullet 3.2.7), and collision shapes cannot be freed once a body used them. So a world reads
each object's URDF into an `ObjectModel`, builds its shapes the first time the object is drawn,
and after that only creates and removes a body from the cached shapes. Measured: about 0.12 MB
once per distinct object, then about 5 kB per reset that PyBullet keeps after `removeBody`
(26 MB over 5,000 resets of random_urdfs, against 170 MB with `loadURDF`).

Supported object URDFs have one link (no joints) with any number of box, cylinder, sphere and
mesh collision and visual elements, as the grasping object sets in use do.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pybullet_data

from envs.errors import ObjectLoadError, ObjectSetError

_ASSETS = Path(os.environ.get("ADVGRASP_ASSETS", Path(__file__).resolve().parents[1] / "assets"))
SPLITS = ("train", "test", "all")


@dataclass(frozen=True)
class ObjectSet:
    """A named list of object URDFs with a train/test split.

    Attributes:
        name: the set's name (`random_urdfs`, `assets`, or a folder path).
        train: URDF paths used for training.
        test: held-out URDF paths.
    """

    name: str
    train: tuple[Path, ...]
    test: tuple[Path, ...]

    def split(self, which: str) -> tuple[Path, ...]:
        if which == "train":
            return self.train
        if which == "test":
            return self.test
        if which == "all":
            return tuple(sorted(set(self.train) | set(self.test)))
        raise ObjectSetError(f"unknown split {which!r}: use one of {SPLITS}")


def _split_by_last_digit(paths: list[Path]) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Names ending in 0 are held out, as in PyBullet's own grasping environment."""
    test = tuple(p for p in paths if p.stem.endswith("0"))
    train = tuple(p for p in paths if not p.stem.endswith("0"))
    return train, test


def object_set(name: str | os.PathLike) -> ObjectSet:
    """Resolve an object set by name (`random_urdfs`, `assets`) or by a folder of URDFs.

    A folder's URDFs are found recursively; names ending in 0 form its test split when there
    are any, otherwise both splits hold every object. The `assets` set is small and used whole
    for both splits (it is a set of novel objects for evaluation).
    """
    if str(name) == "random_urdfs":
        root = Path(pybullet_data.getDataPath()) / "random_urdfs"
        paths = sorted(root.glob("[0-9][0-9][0-9]/[0-9][0-9][0-9].urdf"))
        train, test = _split_by_last_digit(paths)
        return ObjectSet("random_urdfs", train, test)
    folder = _ASSETS / "objects" if str(name) == "assets" else Path(name)
    if not folder.is_dir():
        raise ObjectSetError(
            f"unknown object set {str(name)!r}: use 'random_urdfs', 'assets' or a folder that "
            "holds .urdf files")
    paths = sorted(folder.rglob("*.urdf"))
    if not paths:
        raise ObjectSetError(f"object set folder {folder} holds no .urdf files")
    if str(name) == "assets":
        return ObjectSet("assets", tuple(paths), tuple(paths))
    train, test = _split_by_last_digit(paths)
    if not test or not train:
        train = test = tuple(paths)
    return ObjectSet(str(folder), train, test)


@dataclass
class ObjectModel:
    """What a world needs to build one object, read from its URDF.

    `collision` and `visual` are lists of parts: dicts with `kind`, `size`, `file`, `pos`,
    `quat` and (visual) `rgba`, in the link frame, lengths in metres.
    """

    name: str
    path: Path
    mass_kg: float
    inertial_pos: tuple[float, float, float]
    collision: list[dict]
    visual: list[dict]
    lateral_friction: float = 1.0
    spinning_friction: float = 0.001
    rolling_friction: float = 0.0
    inertia_scaling: float = 1.0
    extra: dict = field(default_factory=dict)


def _floats(text: str | None, default: list[float]) -> list[float]:
    return [float(v) for v in text.split()] if text else list(default)


def _part(element: ET.Element, urdf: Path, quat_of) -> dict:
    origin = element.find("origin")
    xyz = _floats(origin.get("xyz") if origin is not None else None, [0, 0, 0])
    rpy = _floats(origin.get("rpy") if origin is not None else None, [0, 0, 0])
    geometry = element.find("geometry")
    shape = geometry[0] if geometry is not None and len(geometry) else None
    if shape is None:
        raise ObjectLoadError(f"cannot load object {urdf}: a <{element.tag}> has no geometry")
    part = {"pos": xyz, "quat": quat_of(*rpy), "kind": shape.tag}
    if shape.tag == "box":
        part["size"] = [s / 2 for s in _floats(shape.get("size"), [0.05] * 3)]
    elif shape.tag == "cylinder":
        part["size"] = [float(shape.get("radius", 0.02)), float(shape.get("length", 0.05))]
    elif shape.tag == "sphere":
        part["size"] = [float(shape.get("radius", 0.02))]
    elif shape.tag == "mesh":
        filename = shape.get("filename", "").replace("package://", "")
        mesh = (urdf.parent / filename).resolve()
        if not mesh.is_file():
            raise ObjectLoadError(
                f"cannot load object {urdf}: mesh file {filename!r} not found at {mesh}")
        part["file"] = str(mesh)
        part["size"] = _floats(shape.get("scale"), [1, 1, 1])
    else:
        raise ObjectLoadError(
            f"cannot load object {urdf}: geometry <{shape.tag}> is not supported; use box, "
            "cylinder, sphere or mesh")
    return part


def read_object_urdf(path: str | os.PathLike, quat_of) -> ObjectModel:
    """Parse a one-link object URDF into an `ObjectModel`.

    Args:
        path: the URDF file.
        quat_of: function from roll, pitch, yaw (radians) to a quaternion (x, y, z, w).

    Raises:
        ObjectLoadError: naming the file and the reason when it cannot be used.
    """
    urdf = Path(path)
    if not urdf.is_file():
        raise ObjectLoadError(f"cannot load object {urdf}: file not found")
    try:
        root = ET.parse(urdf).getroot()
    except ET.ParseError as err:
        raise ObjectLoadError(f"cannot load object {urdf}: not valid XML ({err})") from None
    links = root.findall("link")
    if root.tag != "robot" or not links:
        raise ObjectLoadError(f"cannot load object {urdf}: expected <robot> with one <link>")
    if len(links) > 1 or root.find("joint") is not None:
        raise ObjectLoadError(
            f"cannot load object {urdf}: it has {len(links)} links; grasp objects must be one "
            "rigid link (merge the links, or export the object as one mesh)")
    link = links[0]
    materials = {m.get("name"): m for m in root.findall("material")}

    collision = [_part(c, urdf, quat_of) for c in link.findall("collision")]
    if not collision:
        raise ObjectLoadError(f"cannot load object {urdf}: the link has no <collision> geometry")
    visual = []
    for v in link.findall("visual"):
        part = _part(v, urdf, quat_of)
        material = v.find("material")
        color = material.find("color") if material is not None else None
        if material is not None and color is None and material.get("name") in materials:
            color = materials[material.get("name")].find("color")
        part["rgba"] = _floats(color.get("rgba") if color is not None else None, [0.7, 0.7, 0.7, 1])
        visual.append(part)

    inertial = link.find("inertial")
    mass_el = inertial.find("mass") if inertial is not None else None
    mass = float(mass_el.get("value")) if mass_el is not None else 0.1
    if not np.isfinite(mass) or mass <= 0:
        raise ObjectLoadError(f"cannot load object {urdf}: mass {mass} must be positive")
    origin = inertial.find("origin") if inertial is not None else None
    inertial_pos = tuple(_floats(origin.get("xyz") if origin is not None else None, [0, 0, 0]))

    model = ObjectModel(urdf.stem, urdf, mass, inertial_pos, collision, visual)
    contact = link.find("contact")
    if contact is not None:
        for tag, attr in (("lateral_friction", "lateral_friction"),
                          ("spinning_friction", "spinning_friction"),
                          ("rolling_friction", "rolling_friction"),
                          ("inertia_scaling", "inertia_scaling")):
            el = contact.find(tag)
            if el is not None:
                setattr(model, attr, float(el.get("value")))
    return model
