"""Data sets for the GAN variants, none of which downloads anything.

Every data set is a `torch.utils.data.Dataset` whose items are dicts of tensors; a batch is the
same dict with a leading batch dimension:

- unconditional and conditional data: {"x": points (N, 2) or images (N, C, H, W) in [-1, 1],
  "y": int64 labels (N,)} ("y" is the mixture component for the 2-D sets, the digit for digits,
  0 for an image folder);
- paired and unpaired data (image-to-image variants): {"a": ..., "b": ...}.

Registered here: "ring" (8 Gaussians on a circle of radius 1, sigma 0.01), "grid" (25 Gaussians
at {-4, -2, 0, 2, 4}^2, sigma 0.05), "digits" (scikit-learn's 1,797 8x8 digit images, bundled
with scikit-learn, upscaled bilinearly to `image_size`) and "folder" (every image file in
`data_dir`, resized to `image_size`, RGB).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from gan_core.errors import ConfigError
from gan_core.variants.base import DataInfo, GanConfig

DATASETS: dict[str, Callable[[GanConfig], tuple[Dataset, DataInfo]]] = {}
MIXTURE_POINTS = 100_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def register_dataset(name: str):
    """Decorator: register `builder(config) -> (dataset, DataInfo)` under `name`."""

    def wrap(builder):
        if name in DATASETS:
            raise ConfigError(f"data set {name!r} is registered twice")
        DATASETS[name] = builder
        return builder

    return wrap


def make_dataset(config: GanConfig) -> tuple[Dataset, DataInfo]:
    """Build the data set `config.data` for `config`.

    Returns:
        The dataset (items are dicts of tensors) and its `DataInfo`.
    """
    if config.data not in DATASETS:
        raise ConfigError(f"data {config.data!r} is not a data set; choose one of "
                          f"{sorted(DATASETS)}")
    return DATASETS[config.data](config)


class TensorDictDataset(Dataset):
    """A dataset held in memory as a dict of tensors with the same first dimension.

    Args:
        tensors: name -> tensor (N, ...).
    """

    def __init__(self, tensors: dict[str, torch.Tensor]):
        sizes = {name: len(t) for name, t in tensors.items()}
        if len(set(sizes.values())) != 1:
            raise ConfigError(f"tensors of one dataset must have the same length, got {sizes}")
        self.tensors = tensors

    def __len__(self) -> int:
        return len(next(iter(self.tensors.values())))

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {name: t[index] for name, t in self.tensors.items()}

    def get_batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """The items at `indices` (int64 (B,)) as one batch dict, without collating."""
        return {name: t[indices] for name, t in self.tensors.items()}


# -- 2-D mixtures ---------------------------------------------------------------------------

def ring_modes(count: int = 8, radius: float = 1.0) -> np.ndarray:
    """Means of `count` Gaussians evenly spaced on a circle, (count, 2)."""
    angles = 2 * np.pi * np.arange(count) / count
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_modes(side: int = 5, spacing: float = 2.0) -> np.ndarray:
    """Means of a side x side grid centred on 0 ({-4, -2, 0, 2, 4}^2 by default), (25, 2)."""
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    xs, ys = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


MIXTURES = {"ring": (ring_modes, 0.01), "grid": (grid_modes, 0.05)}


def mixture_points(name: str, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` points of mixture `name` ("ring" or "grid") with equal weights.

    Returns:
        points (count, 2) float32 and their component index (count,) int64.
    """
    modes_fn, sigma = MIXTURES[name]
    modes = modes_fn()
    rng = np.random.default_rng(seed)
    labels = rng.integers(len(modes), size=count)
    points = modes[labels] + sigma * rng.standard_normal((count, 2))
    return points.astype(np.float32), labels.astype(np.int64)


def _mixture(name: str, config: GanConfig) -> tuple[Dataset, DataInfo]:
    points, labels = mixture_points(name, MIXTURE_POINTS, seed=config.seed)
    modes_fn, sigma = MIXTURES[name]
    modes = modes_fn()
    info = DataInfo(name=name, kind="points", dim=2, num_classes=len(modes),
                    extra={"modes": modes.tolist(), "sigma": sigma})
    return TensorDictDataset({"x": torch.from_numpy(points), "y": torch.from_numpy(labels)}), info


@register_dataset("ring")
def ring(config: GanConfig) -> tuple[Dataset, DataInfo]:
    """8 Gaussians on a circle of radius 1, sigma 0.01."""
    return _mixture("ring", config)


@register_dataset("grid")
def grid(config: GanConfig) -> tuple[Dataset, DataInfo]:
    """25 Gaussians at {-4, -2, 0, 2, 4}^2, sigma 0.05."""
    return _mixture("grid", config)


# -- images -----------------------------------------------------------------------------------

def digits_tensors(image_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 1,797 digits, upscaled bilinearly to image_size px.

    Returns:
        images (1797, 1, image_size, image_size) float32 in [-1, 1], labels (1797,) int64.
    """
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    digits = load_digits()
    images = torch.from_numpy(digits.images.astype(np.float32) / 16.0)[:, None]
    if image_size != 8:
        images = torch.nn.functional.interpolate(images, size=(image_size, image_size),
                                                 mode="bilinear", align_corners=False)
    images = images.clamp(0.0, 1.0) * 2.0 - 1.0
    return images.contiguous(), torch.from_numpy(digits.target.astype(np.int64))


@register_dataset("digits")
def digits(config: GanConfig) -> tuple[Dataset, DataInfo]:
    """scikit-learn's digits at `config.image_size` px, one channel, labels 0-9."""
    images, labels = digits_tensors(config.image_size)
    info = DataInfo(name="digits", kind="images", channels=1, image_size=config.image_size,
                    num_classes=10)
    return TensorDictDataset({"x": images, "y": labels}), info


def load_image_folder(folder: str | Path, image_size: int, mode: str = "RGB") -> torch.Tensor:
    """Every image in `folder` (sorted by name), resized to image_size px.

    Returns:
        (N, C, image_size, image_size) float32 in [-1, 1]; C is 3 for "RGB", 1 for "L".
    """
    from PIL import Image

    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"image folder {str(folder)!r} does not exist; pass --data-dir with "
                          "a folder of PNG or JPEG files (e.g. from `advgrasp gan render-objects`)")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ConfigError(f"image folder {str(folder)!r} holds no images (looked for "
                          f"{', '.join(IMAGE_SUFFIXES)}); add some or pick another folder")
    arrays = []
    for path in files:
        try:
            with Image.open(path) as image:
                image = image.convert(mode).resize((image_size, image_size), Image.BILINEAR)
        except (OSError, ValueError) as err:  # PIL's UnidentifiedImageError is an OSError
            raise ConfigError(f"cannot read image {str(path)!r} ({type(err).__name__}); remove "
                              "or replace it") from None
        arrays.append(np.asarray(image, dtype=np.float32).reshape(image_size, image_size, -1))
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2) / 127.5 - 1.0
    return images.contiguous()


@register_dataset("folder")
def folder(config: GanConfig) -> tuple[Dataset, DataInfo]:
    """Every image of `config.data_dir`, RGB, resized to `config.image_size`; labels are 0."""
    if not config.data_dir:
        raise ConfigError("data 'folder' needs data_dir (--data-dir FOLDER of images)")
    images = load_image_folder(config.data_dir, config.image_size)
    info = DataInfo(name="folder", kind="images", channels=3, image_size=config.image_size)
    labels = torch.zeros(len(images), dtype=torch.int64)
    return TensorDictDataset({"x": images, "y": labels}), info


def images_to_grid(images: torch.Tensor, columns: int | None = None) -> np.ndarray:
    """Tile images into one picture.

    Args:
        images: (N, C, H, W) in [-1, 1], C = 1 or 3.
        columns: images per row; defaults to ceil(sqrt(N)).

    Returns:
        (rows * (H + 2) + 2, columns * (W + 2) + 2, 3) uint8, 2-pixel gaps.
    """
    images = images.detach().float().cpu().clamp(-1, 1)
    n, channels, height, width = images.shape
    if channels == 1:
        images = images.expand(n, 3, height, width)
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    canvas = np.zeros((rows * (height + 2) + 2, columns * (width + 2) + 2, 3), dtype=np.uint8)
    pixels = ((images.permute(0, 2, 3, 1).numpy() + 1.0) * 127.5).round().astype(np.uint8)
    for index in range(n):
        top, left = 2 + (index // columns) * (height + 2), 2 + (index % columns) * (width + 2)
        canvas[top:top + height, left:left + width] = pixels[index]
    return canvas


def save_png(array: np.ndarray, path: str | Path) -> Path:
    """Write an (H, W, 3) or (H, W) uint8 array as a PNG file; returns the path."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


# The paired and unpaired image data sets of the image-to-image variants register themselves.
from gan_core import i2i_data  # noqa: E402, F401
