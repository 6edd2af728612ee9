"""Paired and unpaired image data for the image-to-image variants, with no download.

Items are dicts of image tensors in [-1, 1]: {"a": (C_a, H, W), "b": (C_b, H, W)} plus "y"
(the digit) where there is a label. Paired sets keep a[i] and b[i] aligned; unpaired sets draw
a and b from disjoint halves of their source, so no item pairs an image with its own translation.

Registered data sets (names for `--data`):

- "edges2digits" / "digits2edges" (paired): a digit and its edge map (Sobel gradient
  magnitude, scaled by the data set's largest value), one direction each.
- "digits2inverted" (unpaired): digits in A, colour-inverted digits (b = -a in [-1, 1]) of the
  other half in B; the true translation A -> B is known (negation), so a translation's error
  against it can be measured.
- "digits-train" (images with labels): the training split of the digits, for the multi-stage
  variants, whose held-out checks use the other split.
- "pairs" (paired, `data_dir`): A/ and B/ sub-folders holding files of the same names, or
  side-by-side images (A left, B right) directly in the folder (pix2pix's layout).
- "unpaired" (unpaired, `data_dir`): A/ and B/ sub-folders of any images (CycleGAN's
  trainA/trainB names are accepted too).

The digits are split once, by a fixed permutation that does not depend on the run's seed:
`HELD_OUT` images are never trained on; `held_out(config)` returns them in the same layout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from gan_core.data import (
    IMAGE_SUFFIXES,
    TensorDictDataset,
    digits_tensors,
    load_image_folder,
    register_dataset,
)
from gan_core.errors import ConfigError
from gan_core.variants.base import DataInfo, GanConfig

HELD_OUT = 297
SPLIT_SEED = 20170101


def digit_split(image_size: int, held_out: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """The training (1,500) or held-out (297) digits at image_size px.

    Returns:
        images (N, 1, S, S) in [-1, 1] and labels (N,) int64.
    """
    images, labels = digits_tensors(image_size)
    order = torch.from_numpy(np.random.default_rng(SPLIT_SEED).permutation(len(images)))
    chosen = order[-HELD_OUT:] if held_out else order[:-HELD_OUT]
    return images[chosen], labels[chosen]


def sobel_magnitude(images: torch.Tensor) -> torch.Tensor:
    """Sobel gradient magnitude, (N, 1, H, W) -> (N, 1, H, W), edges replicated."""
    sobel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    kernels = torch.stack([sobel_x, sobel_x.T])[:, None]
    gradients = F.conv2d(F.pad(images, (1, 1, 1, 1), mode="replicate"), kernels)
    return gradients.pow(2).sum(dim=1, keepdim=True).sqrt()


def edge_maps(images: torch.Tensor, scale: float | None = None) -> torch.Tensor:
    """Sobel gradient magnitude of images in [-1, 1], mapped back to [-1, 1].

    Args:
        images: (N, 1, H, W) in [-1, 1].
        scale: the magnitude that maps to 1; None uses the batch's largest magnitude.

    Returns:
        (N, 1, H, W) in [-1, 1]: -1 where flat, 1 at the strongest edge.
    """
    magnitude = sobel_magnitude(images)
    scale = float(magnitude.max()) if scale is None else scale
    return (magnitude / max(scale, 1e-8)).clamp(0.0, 1.0) * 2.0 - 1.0


def _edge_scale(image_size: int) -> float:
    # One fixed scale from the training split, so held-out edges use the same mapping.
    train, _ = digit_split(image_size)
    return float(sobel_magnitude(train).max())


def paired_digits(image_size: int, edges_first: bool, held_out: bool = False) -> dict:
    """{"a", "b", "y"} tensors of digits and their edge maps (see `edge_maps`)."""
    digits, labels = digit_split(image_size, held_out)
    edges = edge_maps(digits, scale=_edge_scale(image_size))
    a, b = (edges, digits) if edges_first else (digits, edges)
    return {"a": a, "b": b, "y": labels}


def unpaired_digits(image_size: int, held_out: bool = False) -> dict:
    """Digits (A) and colour-inverted digits (B) from disjoint halves of a split.

    Held out, a and b are aligned instead (b = -a), so the true translation is at hand.
    """
    digits, labels = digit_split(image_size, held_out)
    if held_out:
        return {"a": digits, "b": -digits, "y": labels}
    half = len(digits) // 2
    return {"a": digits[:half], "b": -digits[half:2 * half], "y": labels[:half]}


def _paired_info(name: str, tensors: dict, kind: str, num_classes: int = 0) -> DataInfo:
    return DataInfo(name=name, kind=kind, channels=tensors["a"].shape[1],
                    channels_b=tensors["b"].shape[1], image_size=tensors["a"].shape[-1],
                    num_classes=num_classes)


@register_dataset("edges2digits")
def edges2digits(config: GanConfig) -> tuple[Dataset, DataInfo]:
    """Paired: edge map (a) -> digit (b), training split."""
    tensors = paired_digits(config.image_size, edges_first=True)
    return TensorDictDataset(tensors), _paired_info("edges2digits", tensors, "paired", 10)


@register_dataset("digits2edges")
def digits2edges(config: GanConfig) -> tuple[Dataset, DataInfo]:
    """Paired: digit (a) -> edge map (b), training split."""
    tensors = paired_digits(config.image_size, edges_first=False)
    return TensorDictDataset(tensors), _paired_info("digits2edges", tensors, "paired", 10)


@register_dataset("digits2inverted")
def digits2inverted(config: GanConfig) -> tuple[Dataset, DataInfo]:
    """Unpaired: digits (a) and colour-inverted digits of the other half (b)."""
    tensors = unpaired_digits(config.image_size)
    return TensorDictDataset(tensors), _paired_info("digits2inverted", tensors, "unpaired", 10)


@register_dataset("digits-train")
def digits_train(config: GanConfig) -> tuple[Dataset, DataInfo]:
    """The digits' training split (1,500 images, labels 0-9); `held_out` gives the rest."""
    images, labels = digit_split(config.image_size)
    info = DataInfo(name="digits-train", kind="images", channels=1,
                    image_size=config.image_size, num_classes=10)
    return TensorDictDataset({"x": images, "y": labels}), info


def _sub_folders(root: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        if (root / name).is_dir():
            return root / name
    return None


def folder_pairs(root: str | Path, image_size: int, held_out: bool = False) -> dict:
    """Paired images from a user folder: A/ and B/ of equal file names, or side-by-side files.

    Args:
        root: the folder. Either it has A/ and B/ (or trainA/trainB, testA/testB when
            `held_out`), or its images (or those of train/, val/ or test/ when `held_out`)
            are twice as wide as high, A on the left and B on the right.
        image_size: side of each output image in px.

    Returns:
        {"a": (N, 3, S, S), "b": (N, 3, S, S)} in [-1, 1].
    """
    root = Path(root)
    folder_a = _sub_folders(root, ("testA",) if held_out else ("A", "trainA"))
    folder_b = _sub_folders(root, ("testB",) if held_out else ("B", "trainB"))
    if folder_a and folder_b:
        names_a = {p.name for p in folder_a.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
        names_b = {p.name for p in folder_b.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
        if names_a != names_b:
            raise ConfigError(f"paired folders {folder_a} and {folder_b} hold different file "
                              f"names (e.g. {sorted(names_a ^ names_b)[:3]}); give each A image "
                              "a B image of the same name, or use data 'unpaired'")
        return {"a": load_image_folder(folder_a, image_size),
                "b": load_image_folder(folder_b, image_size)}
    side = _sub_folders(root, ("test", "val") if held_out else ("train",)) or root
    return _side_by_side(side, image_size)


def _side_by_side(folder: Path, image_size: int) -> dict:
    from PIL import Image

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) \
        if folder.is_dir() else []
    if not files:
        raise ConfigError(f"folder {str(folder)!r} has neither A/ and B/ sub-folders nor "
                          "side-by-side images; see `advgrasp gan train --help` for the layouts")
    halves: dict[str, list] = {"a": [], "b": []}
    for path in files:
        with Image.open(path) as image:
            image = image.convert("RGB")
            width, height = image.size
            if width != 2 * height:
                raise ConfigError(f"side-by-side image {path} is {width}x{height} px; A|B pairs "
                                  "must be exactly twice as wide as high")
            for key, box in (("a", (0, 0, height, height)), ("b", (height, 0, width, height))):
                half = image.crop(box).resize((image_size, image_size), Image.BILINEAR)
                halves[key].append(np.asarray(half, dtype=np.float32))
    return {key: torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2) / 127.5 - 1.0
            for key, arrays in halves.items()}


def folder_unpaired(root: str | Path, image_size: int, held_out: bool = False) -> dict:
    """Unpaired images from A/ and B/ (or trainA/trainB; testA/testB when `held_out`).

    The shorter side is repeated to the longer side's length, so every image is seen.
    """
    root = Path(root)
    folder_a = _sub_folders(root, ("testA",) if held_out else ("A", "trainA"))
    folder_b = _sub_folders(root, ("testB",) if held_out else ("B", "trainB"))
    if folder_a is None or folder_b is None:
        wanted = "testA/ and testB/" if held_out else "A/ and B/ (or trainA/ and trainB/)"
        raise ConfigError(f"folder {str(root)!r} needs sub-folders {wanted} for unpaired data")
    a, b = load_image_folder(folder_a, image_size), load_image_folder(folder_b, image_size)
    count = max(len(a), len(b))
    return {"a": a.repeat((count + len(a) - 1) // len(a), 1, 1, 1)[:count],
            "b": b.repeat((count + len(b) - 1) // len(b), 1, 1, 1)[:count]}


def _need_dir(config: GanConfig) -> str:
    if not config.data_dir:
        raise ConfigError(f"data {config.data!r} needs data_dir (--data-dir FOLDER)")
    return config.data_dir


@register_dataset("pairs")
def pairs(config: GanConfig) -> tuple[Dataset, DataInfo]:
    """Paired RGB images from `data_dir` (A/ and B/, or side-by-side files)."""
    tensors = folder_pairs(_need_dir(config), config.image_size)
    return TensorDictDataset(tensors), _paired_info("pairs", tensors, "paired")


@register_dataset("unpaired")
def unpaired(config: GanConfig) -> tuple[Dataset, DataInfo]:
    """Unpaired RGB images from `data_dir`'s A/ and B/ sub-folders."""
    tensors = folder_unpaired(_need_dir(config), config.image_size)
    return TensorDictDataset(tensors), _paired_info("unpaired", tensors, "unpaired")


def held_out(config: GanConfig) -> dict[str, torch.Tensor]:
    """The held-out split of `config.data`, in its training layout.

    Digits sets give the 297 held-out digits (for "digits2inverted" aligned: b = -a); folder
    sets read testA/ and testB/, or test/ (or val/) of side-by-side images.

    Raises:
        ConfigError: the data set has no held-out split (a user folder without test images).

    Returns:
        dict of tensors: {"a", "b"(, "y")} or, for "digits-train", {"x", "y"}.
    """
    size = config.image_size
    if config.data in ("edges2digits", "digits2edges"):
        return paired_digits(size, edges_first=config.data == "edges2digits", held_out=True)
    if config.data == "digits2inverted":
        return unpaired_digits(size, held_out=True)
    if config.data == "digits-train":
        images, labels = digit_split(size, held_out=True)
        return {"x": images, "y": labels}
    if config.data == "pairs":
        return folder_pairs(_need_dir(config), size, held_out=True)
    if config.data == "unpaired":
        return folder_unpaired(_need_dir(config), size, held_out=True)
    raise ConfigError(f"data {config.data!r} has no held-out split here; use one of "
                      "edges2digits, digits2edges, digits2inverted, digits-train, pairs, unpaired")
