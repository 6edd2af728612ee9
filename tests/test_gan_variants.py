"""Each GAN variant trains on the shared trainer, with value checks of its parts."""

import pytest
import torch

from gan_core.errors import ConfigError
from gan_core.losses import bce_d, g_non_saturating, g_saturating, pack
from gan_core.networks import MinibatchDiscrimination
from gan_core.run import build_variant, load_run, train
from gan_core.training import TwoPlayerTrainer
from gan_core.variants import VARIANTS, GanConfig

torch.set_num_threads(1)
MINE = ["cgan", "dcgan", "ebgan", "gan", "improved-gan", "lsgan", "mdgan", "mrgan", "sngan",
        "wgan", "wgan-gp"]


def small(model, data="ring", **kw):
    values = dict(model=model, data=data, batch_size=16, width=8, z_dim=8, image_size=16,
                  iterations=2, device="cpu", checkpoint_every=1000, log_every=1)
    values.update(kw)
    return GanConfig(**values)


@pytest.mark.parametrize("model", MINE)
def test_variant_trains_saves_and_generates(tmp_path, model):
    data_sets = [d for d in ("ring", "digits") if
                 {"ring": "points", "digits": "images"}[d] in VARIANTS[model].data_kinds]
    for data in data_sets:
        path = train(small(model, data), tmp_path / data)
        variant = load_run(path)
        samples = variant.generate(6)
        assert samples.shape == ((6, 2) if data == "ring" else (6, 1, 16, 16))
        assert torch.isfinite(samples).all()
        rows = (tmp_path / data / "metrics.csv").read_text().splitlines()
        assert len(rows) == 3  # header and one row per round


def test_generator_losses_have_their_values():
    logits = torch.tensor([0.0, 2.0])
    # log(1 - sigmoid(l)) and -log sigmoid(l), averaged.
    assert g_saturating(logits).item() == pytest.approx(
        torch.log(1 - torch.sigmoid(logits)).mean().item(), rel=1e-6)
    assert g_non_saturating(logits).item() == pytest.approx(
        -torch.log(torch.sigmoid(logits)).mean().item(), rel=1e-6)


def test_gan_uses_the_chosen_generator_loss():
    for g_loss in ("saturating", "non-saturating"):
        variant, dataset, _ = build_variant(small("gan", options={"g_loss": g_loss}))
        _, terms = variant.loss_fns(dataset.get_batch(torch.arange(16)))["G"]()
        assert list(terms) == [g_loss]
    with pytest.raises(ConfigError, match="'hinge' must be one of"):
        small("gan", options={"g_loss": "hinge"}).validate()


def test_one_sided_label_smoothing_softens_only_real_targets():
    zero = torch.zeros(3)
    big = torch.full((3,), 20.0)
    # Real logits of 20 with target 0.9 cost about 0.1 * 20; fakes at -20 cost nothing.
    assert bce_d(big, -big, real_target=0.9).item() == pytest.approx(2.0, abs=0.01)
    assert bce_d(zero, zero).item() == pytest.approx(2 * 0.6931, abs=1e-3)


def test_minibatch_discrimination_counts_close_neighbours():
    layer = MinibatchDiscrimination(4, kernels=3, kernel_dim=2)
    same = torch.ones(5, 4)
    out = layer(same)
    assert out.shape == (5, 7)
    assert torch.allclose(out[:, 4:], torch.full((5, 3), 4.0))  # 4 identical others each
    features = torch.randn(6, 4)
    m = (features @ layer.T).view(6, 3, 2)
    direct = torch.exp(-(m[:, None] - m[None]).abs().sum(3)).sum(1) - 1.0
    assert torch.allclose(layer(features)[:, 4:], direct, atol=1e-5)


def test_pack_groups_consecutive_samples():
    points = torch.arange(12.0).reshape(6, 2)
    assert pack(points, 3).tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]
    images = torch.randn(4, 1, 2, 2)
    assert torch.equal(pack(images, 2)[1, 1], images[3, 0])


def test_packing_feeds_the_discriminator_m_samples():
    variant, dataset, _ = build_variant(small("gan", pack=4))
    assert variant.discriminator.body[0].in_features == 8
    scores, _ = variant.discriminate(dataset.get_batch(torch.arange(16))["x"])
    assert scores.shape == (4,)


def test_conditional_generator_follows_the_label():
    variant, _, info = build_variant(small("cgan", "digits"))
    assert info.num_classes == 10
    torch.manual_seed(0)
    z = torch.randn(2, 8)
    onehot = torch.eye(10)[[3, 7]]
    variant.generator.eval()
    same_z = variant.generator(z[[0, 0]], onehot)
    assert not torch.allclose(same_z[0], same_z[1])
    samples = variant.generate(4, labels=torch.tensor([1, 2, 3, 4]))
    assert samples.shape == (4, 1, 16, 16)


def test_ebgan_margin_is_zero_beyond_the_margin():
    variant, dataset, _ = build_variant(small("ebgan", options={"margin": 0.0}))
    _, terms = variant.loss_fns(dataset.get_batch(torch.arange(16)))["D"]()
    assert terms["margin"].item() == 0.0
    assert terms["real_energy"].item() > 0.0


def test_mrgan_generator_player_trains_the_encoder_too():
    variant, dataset, _ = build_variant(small("mrgan"))
    g_player = variant.players()[1]
    encoder_params = {id(p) for p in variant.encoder.parameters()}
    optimised = {id(p) for group in g_player.optimizer.param_groups for p in group["params"]}
    assert encoder_params <= optimised
    trainer = TwoPlayerTrainer(variant.players(), variant.schedule(), device="cpu")
    values = trainer.update("G", variant.loss_fns(dataset.get_batch(torch.arange(16)))["G"])
    assert {"non-saturating", "reconstruction", "mode_regularizer"} <= set(values)
    assert values["mode_regularizer"] < 0  # lambda2 * log D, D in (0, 1)


@pytest.mark.parametrize("config,message", [
    (dict(model="nope"), "model 'nope' is not a GAN variant"),
    (dict(model="gan", pack=3, batch_size=16),
     r"batch_size \(--batch-size\) 16 is not a multiple of pack \(--pack\) 3"),
    (dict(model="lsgan", options={"g_loss": "saturating"}), "has no option"),
    (dict(model="gan", image_size=24), r"image_size \(--image-size\) = 24 must be a power of two"),
    (dict(model="gan", lr_g=-1.0), r"lr_g \(--lr-g\) = -1.0 must be a positive number"),
    (dict(model="gan", betas=(0.5, 1.5)), "betas"),
])
def test_bad_configs_are_refused_with_the_value(config, message):
    with pytest.raises(ConfigError, match=message):
        GanConfig(**config).validate()


def test_variants_refuse_data_they_cannot_use():
    with pytest.raises(ConfigError, match="does not train on points"):
        build_variant(small("dcgan", "ring"))
    with pytest.raises(ConfigError, match="network 'conv' is for images"):
        build_variant(small("gan", "ring", network="conv"))


def test_resume_refuses_a_changed_config(tmp_path):
    train(small("gan"), tmp_path)
    with pytest.raises(ConfigError, match="width=8 \\(now 16\\)"):
        train(small("gan", width=16), tmp_path)
