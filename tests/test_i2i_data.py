"""Paired and unpaired data sets and the image-to-image metrics."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.data import DATASETS, make_dataset
from gan_core.errors import ConfigError
from gan_core.i2i_data import (
    HELD_OUT,
    digit_split,
    edge_maps,
    folder_pairs,
    folder_unpaired,
    held_out,
    paired_digits,
    sobel_magnitude,
)
from gan_core.i2i_evaluation import roc_auc
from gan_core.i2i_metrics import l1_error, psnr, save_comparison_grid, unpaired_figures
from gan_core.variants import GanConfig

torch.set_num_threads(1)


def test_digit_split_is_disjoint_and_fixed():
    train, _ = digit_split(8)
    test, _ = digit_split(8, held_out=True)
    assert len(train) == 1797 - HELD_OUT and len(test) == HELD_OUT
    train_rows = {row.numpy().tobytes() for row in train.flatten(1)}
    # A handful of digits are exact duplicates of others in scikit-learn's set; not more.
    assert sum(row.numpy().tobytes() in train_rows for row in test.flatten(1)) <= 3
    assert torch.equal(digit_split(8, held_out=True)[0], test)


def test_edge_maps_are_flat_where_the_image_is():
    flat = torch.full((1, 1, 8, 8), 0.3)
    assert torch.equal(edge_maps(flat, scale=1.0), torch.full_like(flat, -1.0))
    step = torch.zeros(1, 1, 8, 8)
    step[..., 4:] = 1.0
    magnitude = sobel_magnitude(step)[0, 0]
    assert magnitude[:, 3:5].min() == 4.0 and magnitude[:, :2].max() == 0.0


def test_paired_digits_align_edges_with_their_digit():
    pairs = paired_digits(16, edges_first=True)
    scale = float(sobel_magnitude(digit_split(16)[0]).max())
    torch.testing.assert_close(pairs["a"], edge_maps(pairs["b"], scale=scale))
    swapped = paired_digits(16, edges_first=False)
    assert torch.equal(swapped["a"], pairs["b"]) and torch.equal(swapped["b"], pairs["a"])


def test_registered_sets_build_with_their_kinds():
    kinds = {"edges2digits": "paired", "digits2edges": "paired", "digits2inverted": "unpaired",
             "digits-train": "images"}
    for name, kind in kinds.items():
        dataset, info = make_dataset(GanConfig(data=name, image_size=16))
        assert info.kind == kind and info.image_size == 16
        assert name in DATASETS
    dataset, info = make_dataset(GanConfig(data="digits2inverted", image_size=16))
    a, b = dataset.tensors["a"], dataset.tensors["b"]
    # B holds inverted digits of the other half: no item is the inverse of its own a.
    assert not any(torch.equal(-a[i], b[i]) for i in range(len(a)))
    test = held_out(GanConfig(data="digits2inverted", image_size=16))
    assert torch.equal(test["b"], -test["a"])


def _write(folder, name, array):
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(folder / name)


def test_folder_layouts(tmp_path):
    rng = np.random.default_rng(0)
    pictures = [rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(3)]
    for i, picture in enumerate(pictures):
        _write(tmp_path / "ab" / "A", f"{i}.png", picture)
        _write(tmp_path / "ab" / "B", f"{i}.png", 255 - picture)
        _write(tmp_path / "sbs", f"{i}.png", np.concatenate([picture, 255 - picture], axis=1))
    ab, sbs = folder_pairs(tmp_path / "ab", 8), folder_pairs(tmp_path / "sbs", 8)
    assert ab["a"].shape == (3, 3, 8, 8)
    torch.testing.assert_close(ab["b"], -ab["a"], atol=1e-5, rtol=0)
    torch.testing.assert_close(sbs["a"], ab["a"])
    torch.testing.assert_close(sbs["b"], ab["b"])
    _write(tmp_path / "ab" / "B", "extra.png", pictures[0])
    with pytest.raises(ConfigError, match="extra.png"):
        folder_pairs(tmp_path / "ab", 8)
    unpaired = folder_unpaired(tmp_path / "ab", 8)
    assert len(unpaired["a"]) == len(unpaired["b"]) == 4
    _write(tmp_path / "bad", "0.png", pictures[0])
    with pytest.raises(ConfigError, match="8x8 px"):
        folder_pairs(tmp_path / "bad", 8)
    with pytest.raises(ConfigError, match="testA/ and testB/"):
        folder_unpaired(tmp_path / "ab", 8, held_out=True)
    with pytest.raises(ConfigError, match="needs data_dir"):
        make_dataset(GanConfig(data="pairs", image_size=8))


def test_l1_and_psnr_values():
    target = torch.zeros(2, 1, 4, 4)
    output = torch.full((2, 1, 4, 4), 0.2)
    assert l1_error(output, target) == pytest.approx(0.2)
    # MSE 0.04 on the [-1, 1] scale: 10 log10(4 / 0.04) = 20 dB.
    assert psnr(output, target) == pytest.approx(20.0)
    assert psnr(target, target) == 100.0
    with pytest.raises(ConfigError, match=r"\(2, 1, 4, 4\) and \(2, 3, 4, 4\)"):
        l1_error(target, torch.zeros(2, 3, 4, 4))


def test_unpaired_figures_expose_a_hiding_generator():
    a = torch.rand(6, 1, 8, 8) * 2 - 1
    test = {"a": a, "b": -a}
    truth = unpaired_figures(torch.neg, torch.neg, test, torch.neg)
    assert truth == {"cycle_a": 0.0, "cycle_b": 0.0, "l1_true": 0.0, "l1_true_ba": 0.0}
    # The identity in both directions cycles perfectly but translates badly.
    lazy = unpaired_figures(lambda x: x, lambda x: x, test, torch.neg)
    assert lazy["cycle_a"] == 0.0 and lazy["l1_true"] == pytest.approx(
        2 * a.abs().double().mean().item())


def test_roc_auc_values():
    assert roc_auc(torch.tensor([3.0, 4.0]), torch.tensor([1.0, 2.0])) == 1.0
    assert roc_auc(torch.tensor([1.0]), torch.tensor([1.0])) == 0.5
    assert roc_auc(torch.tensor([1.0, 3.0]), torch.tensor([2.0])) == 0.5
    assert math.isclose(roc_auc(torch.tensor([0.0]), torch.tensor([1.0, 2.0])), 0.0)


def test_comparison_grid_png(tmp_path):
    rows = [torch.zeros(8, 1, 16, 16), torch.ones(8, 3, 16, 16)]
    path = save_comparison_grid(rows, tmp_path / "grid.png")
    with Image.open(path) as image:
        assert image.size == (8 * 18 + 2, 2 * 18 + 2)
    with pytest.raises(ConfigError, match=r"\[8, 3\]"):
        save_comparison_grid([rows[0], rows[1][:3]], tmp_path / "bad.png")
