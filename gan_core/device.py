"""Device choice and global seeding for training runs."""

from __future__ import annotations

import random

import numpy as np
import torch

from gan_core.errors import ConfigError, DeviceError


def choose_device(preference: str | torch.device = "auto") -> torch.device:
    """The device to train on.

    Args:
        preference: "auto" (CUDA when available, else CPU), "cpu", "cuda", "cuda:N", "mps", or
            a `torch.device` of one of those kinds.

    Raises:
        DeviceError: the device is not available here, or the name is unknown.
    """
    name = str(preference).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not torch.backends.mps.is_available():
            raise DeviceError("device 'mps' requested but MPS is not available on this machine; "
                              "use device='cpu' or 'auto'")
        return torch.device("mps")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name!r} requested but CUDA is not available (torch "
                              f"{torch.__version__}, CUDA build {torch.version.cuda}); use "
                              "device='cpu' or 'auto', or install a CUDA build of torch")
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"device {name!r} requested but this machine has "
                              f"{torch.cuda.device_count()} CUDA device(s); use 'cuda:0' to "
                              f"'cuda:{torch.cuda.device_count() - 1}'")
        return device
    raise DeviceError(f"unknown device {preference!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or "
                      "'mps'")


def set_seed(seed: int) -> None:
    """Seed Python `random`, NumPy's global generator and torch (CPU and every CUDA device).

    Args:
        seed: an integer in [0, 2**32), NumPy's range.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not (
            0 <= seed < 2**32):
        raise ConfigError(f"seed {seed!r} must be an integer in [0, 2**32)")
    random.seed(int(seed))
    np.random.seed(int(seed))
    torch.manual_seed(int(seed))
    torch.cuda.manual_seed_all(int(seed))
