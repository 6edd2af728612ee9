"""Losses of the image-to-image and multi-stage variants: values on known inputs."""

import math

import pytest
import torch

from gan_core.errors import ConfigError
from gan_core.i2i_losses import (
    ClippedRMSprop,
    CriticLoss,
    ImagePool,
    MatchingAwareCriticLoss,
    Pix2PixGeneratorLoss,
    TwoWayGeneratorLoss,
    adversarial,
    gaussian_kl,
)

torch.set_num_threads(1)
LOG2 = math.log(2.0)


def test_adversarial_values():
    zeros, twos = torch.zeros(4, 1, 2, 2), torch.full((3,), 2.0)
    assert adversarial(zeros, True, "bce").item() == pytest.approx(LOG2)
    assert adversarial(twos, False, "bce").item() == pytest.approx(math.log1p(math.exp(2.0)))
    assert adversarial(twos, True, "lsgan").item() == pytest.approx(1.0)
    assert adversarial(twos, False, "lsgan").item() == pytest.approx(4.0)
    assert adversarial(twos, True, "wgan").item() == pytest.approx(-2.0)
    with pytest.raises(ConfigError, match="'hinge'"):
        adversarial(twos, True, "hinge")


def test_critic_loss_halves_and_reports_terms():
    loss, terms = CriticLoss("bce", 0.5)(torch.zeros(2, 1, 3, 3), torch.zeros(2, 1, 3, 3))
    assert loss.item() == pytest.approx(LOG2)
    assert terms["real"].item() == pytest.approx(LOG2) and terms["fake"].item() == pytest.approx(
        LOG2)
    loss, _ = CriticLoss("wgan", 1.0)(torch.full((4,), 3.0), torch.full((4,), 1.0))
    assert loss.item() == pytest.approx(-2.0)


def test_pix2pix_generator_loss_weights_l1_by_lambda():
    fake, target = torch.zeros(2, 1, 4, 4), torch.full((2, 1, 4, 4), 0.5)
    loss, terms = Pix2PixGeneratorLoss(100.0)(torch.zeros(2, 1, 2, 2), fake, target)
    assert terms["l1"].item() == pytest.approx(0.5)
    assert loss.item() == pytest.approx(LOG2 + 50.0)


def test_two_way_generator_loss_terms():
    a, b = torch.zeros(2, 1, 4, 4), torch.ones(2, 1, 4, 4)
    ones = torch.ones(2, 1, 2, 2)
    loss_fn = TwoWayGeneratorLoss("lsgan", "l1", lambda_cycle=10.0, lambda_identity=5.0)
    # Cycled images off by 0.5 (A) and 0.25 (B); identity maps off by 1 on A, exact on B.
    loss, terms = loss_fn(ones, ones * 0.0, a, b, a + 0.5, b - 0.25, same_a=a + 1.0, same_b=b)
    assert terms["adv_ab"].item() == pytest.approx(0.0)
    assert terms["adv_ba"].item() == pytest.approx(1.0)
    assert terms["cycle_a"].item() == pytest.approx(0.5)
    assert terms["cycle_b"].item() == pytest.approx(0.25)
    assert terms["identity"].item() == pytest.approx(1.0)
    assert loss.item() == pytest.approx(1.0 + 10.0 * 0.75 + 5.0 * 1.0)
    l2 = TwoWayGeneratorLoss("bce", "l2", lambda_cycle=1.0)
    _, terms = l2(ones, ones, a, b, a + 0.5, b, None, None)
    assert terms["cycle_a"].item() == pytest.approx(0.25) and "identity" not in terms
    with pytest.raises(ConfigError, match="same_a and same_b"):
        loss_fn(ones, ones, a, b, a, b)


def test_matching_aware_critic_loss_is_reeds_objective():
    right, wrong, fake = torch.tensor([2.0]), torch.tensor([-1.0]), torch.tensor([0.5])
    loss, terms = MatchingAwareCriticLoss()(right, wrong, fake)
    s_r, s_w, s_f = torch.sigmoid(right), torch.sigmoid(wrong), torch.sigmoid(fake)
    objective = torch.log(s_r) + (torch.log(1 - s_w) + torch.log(1 - s_f)) / 2
    assert loss.item() == pytest.approx(-objective.item(), rel=1e-5)
    assert set(terms) == {"right", "wrong", "fake"}


def test_gaussian_kl_values():
    assert gaussian_kl(torch.zeros(3, 4), torch.zeros(3, 4)).item() == 0.0
    # KL(N(1, 1) || N(0, 1)) = 0.5 per dimension.
    assert gaussian_kl(torch.ones(3, 4), torch.zeros(3, 4)).item() == pytest.approx(0.5)
    logvar = torch.full((1, 1), math.log(4.0))
    expected = 0.5 * (4.0 - 1.0 - math.log(4.0))
    assert gaussian_kl(torch.zeros(1, 1), logvar).item() == pytest.approx(expected)


def test_image_pool_fills_then_swaps_and_round_trips():
    torch.manual_seed(0)
    pool = ImagePool(4)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)
    newer = torch.arange(10.0, 74.0).view(64, 1, 1, 1)
    out = pool.query(newer)
    swapped = out.flatten() != newer.flatten()
    # About half of a large batch is swapped for stored images once the pool is full.
    assert 16 <= int(swapped.sum()) <= 48
    assert set(out.flatten()[swapped].tolist()) & {0.0, 1.0, 2.0, 3.0}
    assert len(pool.images) == 4
    state = pool.state_dict()
    other = ImagePool(4)
    other.load_state_dict(state)
    assert all(torch.equal(x, y) for x, y in zip(other.images, pool.images, strict=True))
    with pytest.raises(ConfigError, match="up to 4 images"):
        ImagePool(8).load_state_dict(state)
    assert torch.equal(ImagePool(0).query(newer), newer)


def test_clipped_rmsprop_keeps_weights_in_bound():
    torch.manual_seed(0)
    layer = torch.nn.Linear(8, 1)
    optimizer = ClippedRMSprop(layer.parameters(), lr=0.5, clip=0.01)
    layer(torch.randn(16, 8)).pow(2).mean().backward()
    optimizer.step()
    assert max(p.abs().max().item() for p in layer.parameters()) <= 0.01
    with pytest.raises(ConfigError, match="clip -1"):
        ClippedRMSprop(layer.parameters(), clip=-1)
