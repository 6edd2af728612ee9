"""Regression tests for bugs that other GAN code shipped (see the gan_core issue)."""

import math

import pytest
import torch
from conftest import straight_and_resumed_runs
from torch import nn

from gan_core.losses import gradient_penalty, pull_away, r1_penalty
from gan_core.run import build_variant
from gan_core.training import TwoPlayerTrainer
from gan_core.variants import VARIANTS, GanConfig

torch.set_num_threads(1)


def small(model, data="ring", **kw):
    values = dict(model=model, data=data, batch_size=16, width=16, z_dim=8, image_size=16,
                  iterations=3, device="cpu", checkpoint_every=1000, log_every=1)
    values.update(kw)
    return GanConfig(**values)


def test_gradient_penalty_takes_the_norm_over_all_dimensions():
    # A linear critic C(x) = sum(w * x): its gradient is w for every input, so the penalty is
    # (||w||_2 - 1)^2 with the norm over channels, height and width together.
    weight = torch.full((2, 2, 2), 0.5)  # per-channel norms are 1; the full norm is sqrt(2)
    real, fake = torch.randn(4, 2, 2, 2), torch.randn(4, 2, 2, 2)
    penalty = gradient_penalty(lambda x: (x * weight).flatten(1).sum(1), real, fake)
    assert penalty.item() == pytest.approx((math.sqrt(2) - 1) ** 2, rel=1e-6)


def test_batch_norm_arguments_are_eps_and_momentum_as_documented():
    variant, _, _ = build_variant(small("dcgan", "digits"))
    norms = [m for net in (variant.generator, variant.discriminator) for m in net.modules()
             if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) >= 2
    for norm in norms:
        assert norm.eps == 1e-5 and norm.momentum == 0.1


@pytest.mark.parametrize("model", ["wgan-gp", "sngan"])
def test_critics_that_must_not_batch_normalise_do_not(model):
    variant, _, _ = build_variant(small(model, "digits"))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in variant.discriminator.modules())


def test_gradient_penalty_enters_the_critic_loss():
    values = {}
    for weight in (0.0, 10.0):
        variant, dataset, _ = build_variant(small("wgan-gp", options={"penalty_weight": weight}))
        batch = dataset.get_batch(torch.arange(16))
        torch.manual_seed(1)
        loss, terms = variant.loss_fns(batch)["D"]()
        values[weight] = (loss.item(), {k: v.item() for k, v in terms.items()})
    loss0, terms0 = values[0.0]
    loss10, terms10 = values[10.0]
    assert terms0["gradient_penalty"] == 0.0
    assert terms10["gradient_penalty"] > 0.0
    assert loss10 == pytest.approx(terms10["wasserstein"] + terms10["gradient_penalty"], rel=1e-5)
    assert loss10 - loss0 == pytest.approx(terms10["gradient_penalty"], rel=1e-4)


@pytest.mark.parametrize("model", ["gan", "wgan", "ebgan", "mrgan", "improved-gan"])
def test_discriminator_step_uses_detached_fakes(model):
    variant, dataset, _ = build_variant(small(model))
    trainer = TwoPlayerTrainer(variant.players(), variant.schedule(), device="cpu")
    before = [p.detach().clone() for p in variant.generator.parameters()]
    trainer.update("D", variant.loss_fns(dataset.get_batch(torch.arange(16)))["D"])
    assert all(p.grad is None for p in variant.generator.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, variant.generator.parameters(),
                                                 strict=True))


@pytest.mark.parametrize("model,order", [
    ("gan", ["D", "G"]), ("wgan", ["D"] * 5 + ["G"]),
    ("mdgan", ["D_manifold", "manifold", "D_diffusion", "diffusion"])])
def test_update_order_is_the_documented_one(model, order):
    variant, dataset, _ = build_variant(small(model))
    trainer = TwoPlayerTrainer(variant.players(), variant.schedule(), device="cpu")
    seen = []
    batch = dataset.get_batch(torch.arange(16 * variant.batch_multiple()))
    fns = variant.loss_fns(batch)
    recording = {name: (lambda name=name, fn=fn: seen.append(name) or fn())
                 for name, fn in fns.items()}
    trainer.round(recording)
    assert seen == order
    assert [p.name for p in variant.players()][0].startswith("D")


def _weights(path):
    return torch.load(path, weights_only=False)["state"]["players"]


@pytest.mark.parametrize("model,data", [("gan", "ring"), ("dcgan", "digits")])
def test_killed_and_resumed_run_ends_with_the_same_weights(tmp_path, model, data):
    config = dict(iterations=6, checkpoint_every=3, pack=2)
    straight, resumed = straight_and_resumed_runs(
        tmp_path, lambda: small(model, data, **config))

    a, b = _weights(straight), _weights(resumed)
    for name in a:
        for key, tensor in a[name]["model"].items():
            assert torch.equal(tensor, b[name]["model"][key]), (name, key)
        assert a[name]["optimizer"]["state"].keys() == b[name]["optimizer"]["state"].keys()


def test_weights_stay_within_the_clip_bound_after_a_wgan_step():
    variant, dataset, _ = build_variant(small("wgan", options={"clip": 0.01}, lr_d=1.0))
    trainer = TwoPlayerTrainer(variant.players(), variant.schedule(), device="cpu")
    trainer.update("D", variant.loss_fns(dataset.get_batch(torch.arange(80)))["D"])
    weights = torch.cat([p.detach().flatten() for p in variant.discriminator.parameters()])
    assert weights.abs().max().item() <= 0.01 + 1e-9
    assert weights.abs().max().item() == pytest.approx(0.01)  # lr 1.0 pushes them to the bound


def test_spectral_norm_makes_the_largest_singular_value_about_one():
    variant, dataset, _ = build_variant(small("sngan", "digits", width=8))
    trainer = TwoPlayerTrainer(variant.players(), variant.schedule(), device="cpu")
    for _ in range(20):
        trainer.round(variant.loss_fns(dataset.get_batch(torch.arange(16))))
    layers = [m for m in variant.discriminator.modules() if hasattr(m, "parametrizations")]
    assert len(layers) >= 3
    for layer in layers:
        matrix = layer.weight.detach().flatten(1)
        assert torch.linalg.matrix_norm(matrix, ord=2).item() == pytest.approx(1.0, abs=0.05)
        raw = layer.parametrizations.weight.original.detach().flatten(1)
        assert torch.linalg.matrix_norm(raw, ord=2).item() != pytest.approx(1.0, abs=0.05)


def test_pull_away_term_on_a_known_batch():
    # cos^2 between (1,0),(0,1) is 0; each with (1,1) is 1/2: PT = 2 * (0 + .5 + .5) / (3 * 2).
    codes = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    assert pull_away(codes).item() == pytest.approx(1 / 3)
    assert pull_away(torch.ones(4, 5)).item() == pytest.approx(1.0)


def test_every_variant_is_registered():
    assert {"gan", "dcgan", "cgan", "improved-gan", "lsgan", "wgan", "wgan-gp", "sngan",
            "ebgan", "mrgan", "mdgan"} <= set(VARIANTS)


@pytest.mark.parametrize("model,forwards", [("gan", 1), ("wgan", 5)])
def test_generator_runs_once_per_discriminator_step(model, forwards):
    # The last D step keeps G's graph and the G step reuses its fakes: no extra G forward.
    variant, dataset, _ = build_variant(small(model))
    trainer = TwoPlayerTrainer(variant.players(), variant.schedule(), device="cpu")
    calls = []
    variant.generator.register_forward_hook(lambda module, args, out: calls.append(out))
    trainer.round(variant.loss_fns(dataset.get_batch(torch.arange(16 * forwards))))
    assert len(calls) == forwards
    assert calls[-1].requires_grad and not any(c.requires_grad for c in calls[:-1])
    assert all(p.grad is not None for p in variant.generator.parameters())


def test_r1_penalty_is_half_the_squared_gradient_norm_over_all_dimensions():
    # A linear D(x) = sum(w * x) has gradient w everywhere: R1 = 0.5 ||w||^2 per judged sample.
    weight = torch.full((2, 2, 2), 0.5)
    real = torch.randn(4, 2, 2, 2).requires_grad_(True)
    scores = (real * weight).flatten(1).sum(1)
    assert r1_penalty(scores, real).item() == pytest.approx(0.5 * 8 * 0.25, rel=1e-6)
    # Packed in pairs, one judged sample holds two inputs: the squared norms add up.
    points = torch.randn(6, 2).requires_grad_(True)
    packed = points.reshape(3, 4) @ torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert r1_penalty(packed, points).item() == pytest.approx(0.5 * 30, rel=1e-6)


@pytest.mark.parametrize("pack", [1, 2])
def test_r1_penalty_enters_the_discriminator_loss(pack):
    values = {}
    for gamma in (0.0, 3.0):
        variant, dataset, _ = build_variant(small("gan", pack=pack, options={"r1": gamma}))
        batch = dataset.get_batch(torch.arange(16))
        torch.manual_seed(1)
        loss, terms = variant.loss_fns(batch)["D"]()
        loss.backward()
        grads = [p.grad.clone() for p in variant.discriminator.parameters()]
        values[gamma] = (loss.item(), {k: v.item() for k, v in terms.items()}, grads)
    loss0, terms0, grads0 = values[0.0]
    loss3, terms3, grads3 = values[3.0]
    assert "r1" not in terms0
    assert terms3["r1"] > 0.0
    assert loss3 == pytest.approx(terms3["bce"] + terms3["r1"], rel=1e-5)
    assert terms3["bce"] == pytest.approx(terms0["bce"], rel=1e-5)
    # The penalty's own gradient reaches D's weights (it was built with create_graph).
    assert any(not torch.allclose(a, b) for a, b in zip(grads0, grads3, strict=True))
