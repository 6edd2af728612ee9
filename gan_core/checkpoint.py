"""Checkpoint files and random-number-generator state for exact resume.

A checkpoint is one `torch.save` file, a dict whose first entries are its header:

    {"format": "gan_core.checkpoint", "version": 1, "created": ISO-8601 time (UTC),
     "players": [player names], "state": TwoPlayerTrainer.state_dict(extra)}

Reading checks, in order: the file exists; it is a zip archive (torch's format; a truncated file
has lost the zip directory at its end) whose records pass their CRC checks; its pickle opens
with the header above, read from the pickle's opcodes without running any of it; the format
version is one this code reads. Only then is it loaded with `torch.load(weights_only=False)`,
because `extra` holds arbitrary pickled user state: checkpoints are trusted local files, never
load one from a source you do not trust.

Files are written atomically: to a temporary file in the destination folder, flushed and synced,
then renamed over the destination with `os.replace`, so a crash leaves the old checkpoint whole.
"""

from __future__ import annotations

import datetime
import logging
import os
import pickletools
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
_AFRESH = ("restore an earlier copy, or start afresh (a new run folder, or --no-resume for "
           "`advgrasp gan train`)")


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


def write_checkpoint(path: str | os.PathLike, players: list[str], state: dict) -> Path:
    """Write `state` (including its picklable `extra`) to `path` atomically.

    Args:
        path: destination file; its folder is created if missing.
        players: the trainer's player names, stored in the header.
        state: a `TwoPlayerTrainer.state_dict`.

    Returns:
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT, "version": VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "players": list(players), "state": state,
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


_HEADER_OPS = {"BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "UNICODE", "BININT",
               "BININT1", "BININT2", "LONG1", "INT"}


def _peek_header(path: Path) -> dict:
    """The first two entries of the checkpoint's pickled dict, read without unpickling.

    Also checks every record's CRC: torch does not, and a flipped bit in a weight would
    otherwise resume silently wrong.
    """
    with zipfile.ZipFile(path) as archive:
        damaged = archive.testzip()
        if damaged is not None:
            raise zipfile.BadZipFile(f"record {damaged} fails its CRC check")
        names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/data.pkl")]
        if not names:
            return {}
        data = archive.read(names[0])
    values = []
    for opcode, arg, _ in pickletools.genops(data):
        if opcode.name in _HEADER_OPS:
            values.append(arg)
        elif opcode.name not in {"PROTO", "FRAME", "EMPTY_DICT", "MARK", "BINPUT", "LONG_BINPUT",
                                 "MEMOIZE"}:
            break
        if len(values) == 4:
            break
    return dict(zip(values[0::2], values[1::2], strict=False))


def read_checkpoint(path: str | os.PathLike,
                    players: list[str] | None) -> tuple[dict, object]:
    """Read and check a checkpoint written by `write_checkpoint`.

    Args:
        path: the checkpoint file.
        players: the reading trainer's player names; the file must hold the same set (None:
            any players, e.g. to read the config stored in `extra` before building them).

    Returns:
        `(state, extra)`: the state without `extra`, and `extra`.

    Raises:
        CheckpointError: the file is missing, unreadable (truncated, corrupt, not a torch file),
            foreign (no gan_core header), from a newer format version, or for other players.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found: check the path (a run folder's "
                              "checkpoint.pt)")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"cannot read checkpoint {path}: not a torch zip archive (no zip "
                              f"directory at its end); it may be truncated, {_AFRESH}")
    try:
        header = _peek_header(path)
    except Exception as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {type(err).__name__}: {err}; it "
                              f"may be truncated or corrupt, {_AFRESH}") from err
    if header.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gan_core checkpoint (no {FORMAT!r} format "
                              "header); pass the checkpoint.pt of an `advgrasp train` or "
                              "`advgrasp gan train` run")
    version = header.get("version")
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"checkpoint {path} has an invalid format version {version!r}; it "
                              f"is corrupt, {_AFRESH}")
    if version > VERSION:
        raise CheckpointError(f"checkpoint {path} has format version {version}, newer than the "
                              f"{VERSION} this gan_core reads; upgrade gan_core to load it")

    try:
        # Trusted local file, header checked above: `extra` may hold any picklable object.
        saved = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:
        cause = (str(err).strip().splitlines() or [""])[0]
        raise CheckpointError(f"cannot read checkpoint {path}: {type(err).__name__}: {cause}; it "
                              f"may be truncated or corrupt, {_AFRESH}") from err
    state = saved.get("state") if isinstance(saved, dict) else None
    if not isinstance(state, dict) or "players" not in state:
        raise CheckpointError(f"checkpoint {path} lacks its state; it is corrupt, {_AFRESH}")
    stored = list(saved.get("players") or state["players"])
    if players is not None and sorted(stored) != sorted(players):
        raise CheckpointError(f"checkpoint {path} has players {stored}, this trainer has "
                              f"{list(players)}; build the trainer with the same players")
    extra = state.pop("extra", None)
    return state, extra
