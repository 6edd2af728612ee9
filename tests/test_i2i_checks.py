"""The issue's targets for the multi-stage variants, on held-out digits (slow: minutes each).

The settings are those of `benchmarks/bench_i2i.py`: 16 px digits, width 16, batch 32.
"""

import pytest
import torch

from gan_core.i2i_evaluation import evaluate_i2i
from gan_core.run import load_run, train
from gan_core.variants import GanConfig

torch.set_num_threads(1)
pytestmark = pytest.mark.slow


def trained(tmp_path, model, rounds, data="digits-train", **options):
    config = GanConfig(model=model, data=data, image_size=16, batch_size=32, iterations=rounds,
                       width=16, z_dim=32, device="cpu", checkpoint_every=rounds,
                       options=options)
    return load_run(train(config, tmp_path / model))


def test_gan_cls_critic_ranks_right_pairs_above_wrong_ones(tmp_path):
    figures = evaluate_i2i(trained(tmp_path, "gan-cls", 2000))
    assert figures["match_auc"] >= 0.9


def test_stackgan_stage_two_beats_stage_one(tmp_path):
    figures = evaluate_i2i(trained(tmp_path, "stackgan", 3000))
    assert figures["frechet"] < figures["stage1_frechet"]


def test_every_lapgan_level_beats_plain_upsampling(tmp_path):
    figures = evaluate_i2i(trained(tmp_path, "lapgan", 2400))
    for level in (1, 2):
        assert figures[f"level{level}_frechet"] < figures[f"level{level}_upsample_frechet"]


def test_pix2pix_beats_the_blank_guess_on_held_out_edges(tmp_path):
    variant = trained(tmp_path, "pix2pix", 1200, data="edges2digits")
    figures = evaluate_i2i(variant)
    # A blank (all -1) guess of the digit scores the held-out images' mean distance to -1.
    from gan_core.i2i_data import held_out

    blank = (held_out(variant.config)["b"] + 1.0).abs().mean().item()
    assert figures["l1"] < 0.5 * blank


def test_cyclegan_translates_digits_towards_the_true_inverse(tmp_path):
    variant = trained(tmp_path, "cyclegan", 400, data="digits2inverted")
    figures = evaluate_i2i(variant)
    # The identity map scores L1 = 2 mean |a| (1.35 on these digits); the inverse scores 0.
    from gan_core.i2i_data import held_out

    identity = 2 * held_out(variant.config)["a"].abs().mean().item()
    assert figures["l1_true"] < 0.5 * identity
    assert figures["cycle_a"] < 0.2 and figures["cycle_b"] < 0.2
