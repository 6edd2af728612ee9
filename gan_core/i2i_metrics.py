"""Held-out figures of the image-to-image variants: L1, PSNR, cycle error, error against a known
true translation, and PNG grids of inputs, outputs and targets.

Images are (N, C, H, W) in [-1, 1]. PSNR takes the peak-to-peak range 2 of that scale, so it
equals the PSNR of the same images mapped to [0, 1] with peak 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import torch

from gan_core.data import images_to_grid, save_png
from gan_core.errors import ConfigError

Translate = Callable[[torch.Tensor], torch.Tensor]


def _same_shape(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.shape != y.shape:
        raise ConfigError(f"images of shapes {tuple(x.shape)} and {tuple(y.shape)} cannot be "
                          "compared; translate to the target's channels and size first")


def l1_error(output: torch.Tensor, target: torch.Tensor) -> float:
    """Mean absolute difference over all pixels, on the [-1, 1] scale (0 = identical, max 2)."""
    _same_shape(output, target)
    return float((output.double() - target.double()).abs().mean())


def psnr(output: torch.Tensor, target: torch.Tensor) -> float:
    """Mean over images of 10 log10(peak^2 / MSE) in dB, peak = 2 on the [-1, 1] scale.

    An image that matches exactly counts as 100 dB (not infinity) so the mean stays finite.
    """
    _same_shape(output, target)
    mse = (output.double() - target.double()).pow(2).flatten(1).mean(dim=1)
    values = [100.0 if m == 0 else 10.0 * math.log10(4.0 / float(m)) for m in mse]
    return sum(values) / len(values)


@torch.no_grad()
def translate_all(translate: Translate, images: torch.Tensor, batch_size: int = 256,
                  device: torch.device | str = "cpu") -> torch.Tensor:
    """Run `translate` over `images` in batches on `device`; results on the CPU."""
    parts = [translate(images[i:i + batch_size].to(device)).float().cpu()
             for i in range(0, len(images), batch_size)]
    return torch.cat(parts)


def paired_figures(a_to_b: Translate, held_out: dict, device="cpu") -> dict[str, float]:
    """L1 and PSNR of the translations of held-out `a` against their targets `b`."""
    output = translate_all(a_to_b, held_out["a"], device=device)
    return {"l1": l1_error(output, held_out["b"]), "psnr_db": psnr(output, held_out["b"])}


def unpaired_figures(a_to_b: Translate, b_to_a: Translate, held_out: dict,
                     true_a_to_b: Callable[[torch.Tensor], torch.Tensor] | None = None,
                     device="cpu") -> dict[str, float]:
    """Cycle reconstruction errors and, when the true mapping is known, the translation's error.

    A generator pair can hide the input in a low-amplitude code and score a low cycle error
    while translating badly; `l1_true` (L1 of G(a) against the true translation of a) shows it.

    Args:
        a_to_b, b_to_a: the two generators (batched images -> images).
        held_out: {"a": images of A, "b": images of B}.
        true_a_to_b: the known mapping (for digits against inverted digits, negation).

    Returns:
        "cycle_a" = L1(F(G(a)), a), "cycle_b" = L1(G(F(b)), b) and, with `true_a_to_b`,
        "l1_true" = L1(G(a), true(a)) and "l1_true_ba" = L1(F(true(a)), a).
    """
    fake_b = translate_all(a_to_b, held_out["a"], device=device)
    fake_a = translate_all(b_to_a, held_out["b"], device=device)
    figures = {"cycle_a": l1_error(translate_all(b_to_a, fake_b, device=device), held_out["a"]),
               "cycle_b": l1_error(translate_all(a_to_b, fake_a, device=device), held_out["b"])}
    if true_a_to_b is not None:
        target = true_a_to_b(held_out["a"])
        figures["l1_true"] = l1_error(fake_b, target)
        figures["l1_true_ba"] = l1_error(translate_all(b_to_a, target, device=device),
                                         held_out["a"])
    return figures


def save_comparison_grid(rows: list[torch.Tensor], path: str | Path, count: int = 8) -> Path:
    """A PNG with one row per tensor (e.g. inputs, outputs, targets), `count` images each.

    Rows of one channel are shown grey; rows of different channel counts are expanded to RGB.
    """
    picked = [row[:count].detach().float().cpu() for row in rows]
    if any(len(row) < count for row in picked):
        raise ConfigError(f"each grid row needs {count} images, got {[len(r) for r in picked]}")
    channels = max(row.shape[1] for row in picked)
    picked = [row.expand(-1, channels, -1, -1) if row.shape[1] == 1 else row for row in picked]
    return save_png(images_to_grid(torch.cat(picked), columns=count), path)
