"""Checks shared by `advgrasp study init` and `advgrasp play`: object names, object sets and
starting checkpoints are tried for real before anything is written, so a setting that would
fail in the middle of a session is refused at the command that gave it."""

from __future__ import annotations

import logging
import math

from envs.errors import AdvGraspError

log = logging.getLogger(__name__)


def object_names(object_set: str, error: type[Exception], where: str) -> list[str]:
    """The object names (URDF stems) of an object set.

    Args:
        object_set: "assets", "random_urdfs" or a folder of URDF files.
        error: the error class to raise.
        where: what the message names as holding the setting, such as "study file s.toml".

    Raises:
        error: the object set does not exist or holds no URDF.
    """
    from envs.objects import object_set as resolve

    try:
        found = resolve(object_set)
    except AdvGraspError as err:
        raise error(f"{where}: {err}") from None
    return sorted({path.stem for path in found.split("all")})


def check_objects(objects, object_set: str, error: type[Exception], where: str) -> None:
    """Refuse object names that are not in the object set, naming them and the known ones."""
    known = object_names(object_set, error, where)
    unknown = [name for name in objects if name not in known]
    if unknown:
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        raise error(f"{where}: objects {unknown} are not in object set {object_set!r}; use "
                    f"names from it ({shown})")


def check_checkpoint(path: str | None, error: type[Exception], where: str) -> None:
    """Load a starting checkpoint (run folder, checkpoint.pt or policy.pt) once, to refuse a
    missing or corrupt one now; None or "" (a fresh robot) passes."""
    if not path:
        return
    from advgrasp.human.start import starting_point

    try:
        starting_point(path)
    except AdvGraspError as err:
        raise error(f"{where}: starting checkpoint {path}: {err}") from None
    except Exception as err:  # torch raises plain errors on a damaged file
        raise error(f"{where}: starting checkpoint {path} cannot be read ({err}); pass the "
                    "run folder `advgrasp train` wrote, or no checkpoint") from None


def check_time_limit(seconds, error: type[Exception], where: str) -> float:
    """A time limit must be a finite positive number of seconds."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not (
            math.isfinite(seconds) and seconds > 0):
        raise error(f"{where}: time limit {seconds!r} must be a finite positive number of "
                    "seconds, such as 10")
    return float(seconds)
