"""Checkpoint files and random-number-generator state for exact resume.

A checkpoint is one `torch.save` file holding a header and the trainer's state:

    {"format": "gan_core.checkpoint", "version": 1, "created": ISO-8601 time (UTC),
     "players": [player names], "state": {...}, "extra": uint8 tensor of pickled user state}

Everything but `extra` is tensors and plain Python values, so the file is first read with
`torch.load(weights_only=True)`; the header and the player names are checked before `extra` is
unpickled. `extra` is ordinary pickle, which can run code: checkpoints are trusted local files,
never load one from a source you do not trust.

Files are written atomically: to a temporary file in the destination folder, flushed and synced,
then renamed over the destination with `os.replace`, so a crash leaves the old checkpoint whole.
"""

from __future__ import annotations

import datetime
import logging
import os
import pickle
import random
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

from gan_core.errors import CheckpointError

log = logging.getLogger(__name__)

FORMAT = "gan_core.checkpoint"
VERSION = 1
_AFRESH = "restore an earlier one or start afresh"


def capture_rng_state() -> dict:
    """The global generators of Python `random`, NumPy, torch CPU and every CUDA device.

    Returns:
        A dict of tensors and plain values (safe for `torch.load(weights_only=True)`).
    """
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
        "numpy": {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng_state(state: dict) -> None:
    """Put back the generators saved by `capture_rng_state`.

    CUDA states are restored for as many devices as both the checkpoint and this machine have;
    a CPU-only machine ignores them (logged).
    """
    py = state["python"]
    random.setstate((py["version"], tuple(py["internal"]), py["gauss"]))
    npy = state["numpy"]
    keys = npy["keys"].numpy().astype(np.uint32)
    np.random.set_state((npy["name"], keys, npy["pos"], npy["has_gauss"], npy["cached_gaussian"]))
    torch.set_rng_state(state["torch"].cpu())
    cuda = state["cuda"]
    if cuda and torch.cuda.is_available():
        count = min(len(cuda), torch.cuda.device_count())
        for index in range(count):
            torch.cuda.set_rng_state(cuda[index].cpu(), index)
    elif cuda:
        log.info("checkpoint holds %d CUDA generator states; no CUDA here, ignored", len(cuda))


def write_checkpoint(path: str | os.PathLike, players: list[str], state: dict,
                     extra: dict | None) -> Path:
    """Write `state` and the pickled `extra` to `path` atomically.

    Args:
        path: destination file; its folder is created if missing.
        players: the trainer's player names, stored in the header.
        state: tensors and plain values only.
        extra: any picklable user state, or None.

    Returns:
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = pickle.dumps(extra, protocol=pickle.HIGHEST_PROTOCOL)
    payload = {
        "format": FORMAT, "version": VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "players": list(players), "state": state,
        "extra": torch.frombuffer(bytearray(blob), dtype=torch.uint8),
    }
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)
    return path


def _sync_folder(folder: Path) -> None:
    # The rename is durable only once the folder entry is on disk; not every OS allows this.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _cause(err: Exception) -> str:
    # torch's weights-only errors are a page long; the line that names the cause is enough.
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    for line in lines:
        if line.startswith("WeightsUnpickler error:"):
            return line.removeprefix("WeightsUnpickler error:").split(" was not")[0].strip()
    return lines[0] if lines else type(err).__name__


def read_checkpoint(path: str | os.PathLike, players: list[str]) -> tuple[dict, object]:
    """Read and check a checkpoint written by `write_checkpoint`.

    Args:
        path: the checkpoint file.
        players: the reading trainer's player names; the file must hold the same set.

    Returns:
        `(state, extra)`.

    Raises:
        CheckpointError: the file is missing, unreadable (truncated, corrupt, not a torch file),
            foreign (no gan_core header), from a newer format version, or for other players.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found: check the path, or start afresh "
                              "without resuming")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"cannot read checkpoint {path}: not a torch zip archive (no zip "
                              f"directory at its end); it may be truncated, {_AFRESH}")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        cause = _cause(err)
        if "unsupported global" in cause.lower():
            raise CheckpointError(
                f"checkpoint {path} is not a gan_core checkpoint: it holds pickled Python objects "
                f"({cause}); pass a file written by TwoPlayerTrainer.save_checkpoint") from err
        raise CheckpointError(f"cannot read checkpoint {path}: {type(err).__name__}: {cause}; it "
                              f"may be truncated, {_AFRESH}") from err
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        found = saved.get("format") if isinstance(saved, dict) else type(saved).__name__
        raise CheckpointError(f"{path} is not a gan_core checkpoint (format header {found!r}, "
                              f"expected {FORMAT!r}); pass a file written by "
                              "TwoPlayerTrainer.save_checkpoint")
    version = saved.get("version")
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"checkpoint {path} has an invalid format version {version!r}; it "
                              f"is corrupt, {_AFRESH}")
    if version > VERSION:
        raise CheckpointError(f"checkpoint {path} has format version {version}, newer than the "
                              f"{VERSION} this gan_core reads; upgrade gan_core to load it")
    if not isinstance(saved.get("state"), dict) or not isinstance(saved.get("extra"),
                                                                    torch.Tensor):
        raise CheckpointError(f"checkpoint {path} lacks its state; it is corrupt, {_AFRESH}")
    stored = list(saved.get("players") or [])
    if sorted(stored) != sorted(players):
        raise CheckpointError(f"checkpoint {path} has players {stored}, this trainer has "
                              f"{list(players)}; build the trainer with the same players")
    try:
        extra = pickle.loads(saved["extra"].numpy().tobytes())
    except Exception as err:
        raise CheckpointError(f"cannot unpickle the extra state in checkpoint {path}: "
                              f"{type(err).__name__}: {err}; the code that defined those objects "
                              "must be importable, or start afresh") from err
    return saved["state"], extra
