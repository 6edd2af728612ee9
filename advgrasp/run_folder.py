"""A run folder: what it records about the run, and one training process at a time in it.

Two `advgrasp train` commands on one folder would interleave their metric rows and overwrite
each other's checkpoints. The first to start holds an advisory lock on `RUN/.lock` (released
when it ends, also when it is killed); a second one is refused. Within one process the same
folder may be claimed again (a study session re-opening its robot's folder, say).
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from advgrasp.config import TrainConfig
from envs.errors import ConfigError
from envs.world import WorldConfig

try:
    import fcntl
except ImportError:  # not on Windows: there the folder is not locked
    fcntl = None

_held: dict[Path, list] = {}
"""Folders this process holds: resolved path -> [open lock file, claim count]."""


def claim(run_dir: Path) -> Path:
    """Create `run_dir` if needed and lock it for this process; returns its resolved path.

    Raises:
        ConfigError: the path cannot be a folder, or another process trains in it.
    """
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot use {run_dir} as a run folder: {err.strerror}; pass a "
                          "folder path that you can write (it is created if missing)") from None
    key = run_dir.resolve()
    if key in _held:
        _held[key][1] += 1
        return key
    handle = open(key / ".lock", "a+")  # noqa: SIM115 - held open for the run's lifetime
    if fcntl is not None:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise ConfigError(f"run folder {run_dir} is in use by another training (PID "
                              f"{holder}); wait for it to end or pass another --run-dir") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    _held[key] = [handle, 1]
    return key


def release(key: Path) -> None:
    """Give back one claim of `key` (from `claim`); the lock goes with the last one."""
    entry = _held.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] == 0:
        entry[0].close()
        del _held[key]


def check_buffer_memory(config: TrainConfig) -> None:
    """Refuse replay buffers larger than this machine's memory before allocating them."""
    side, held = config.image_size, WorldConfig().held_image_size
    needed = config.buffer_capacity * (side * side * 4 + held * held * 3 + 40)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    if needed > total:
        raise ConfigError(f"buffer_capacity {config.buffer_capacity} needs {needed / 2**30:.1f} "
                          f"GiB of replay buffers, more than this machine's {total / 2**30:.1f} "
                          "GiB; lower --buffer-capacity")


def run_metadata(config: TrainConfig) -> dict:
    """Config, seed, package versions and git revision, written into every run folder."""
    versions = {}
    for package in ("pybullet", "gymnasium", "numpy", "torch", "stable-baselines3"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    here = Path(__file__).parent
    try:
        revision = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                  cwd=here, timeout=5).stdout.strip() or None
        # Changed tracked files mean the revision alone does not give the code that ran.
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, cwd=here, timeout=5)
        dirty = bool(changed.stdout.strip()) if revision and changed.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        revision, dirty = None, None
    return {"config": asdict(config), "seed": config.seed, "versions": versions,
            "python": platform.python_version(), "git_revision": revision,
            "git_uncommitted_changes": dirty}
