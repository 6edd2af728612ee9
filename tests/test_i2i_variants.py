"""The image-to-image and multi-stage variants on the shared trainer: a run each, detached
fakes, stage-by-stage training, clipping, exact resume, the CLI, and (slow) their checks."""

import json

import pytest
import torch
from conftest import straight_and_resumed_runs

from advgrasp.cli import main as cli_main
from gan_core.errors import ConfigError
from gan_core.run import build_variant, load_run, train
from gan_core.training import TwoPlayerTrainer
from gan_core.variants import VARIANTS, GanConfig
from gan_core.variants.matching import wrong_labels

torch.set_num_threads(1)

DATA = {"pix2pix": "edges2digits", "cyclegan": "digits2inverted", "dualgan": "digits2inverted",
        "discogan": "digits2inverted", "lapgan": "digits-train", "stackgan": "digits-train",
        "gan-cls": "digits-train"}
GENERATORS = {"pix2pix": "G", "cyclegan": "G", "dualgan": "G", "discogan": "G", "lapgan": "G0",
              "stackgan": "G1", "gan-cls": "G"}


def small(model, **kw):
    values = dict(model=model, data=DATA[model], batch_size=8, width=8, z_dim=8, image_size=16,
                  iterations=2, device="cpu", checkpoint_every=1000, log_every=1)
    values.update(kw)
    return GanConfig(**values)


def first_batch(variant, dataset):
    return dataset.get_batch(torch.arange(variant.config.batch_size * variant.batch_multiple()))


@pytest.mark.parametrize("model", sorted(DATA))
def test_each_variant_trains_saves_and_generates(tmp_path, model):
    path = train(small(model), tmp_path / model)
    variant = load_run(path)
    assert torch.load(path, weights_only=False)["state"]["step"] == 2
    if variant.kind in ("paired", "unpaired"):
        out = variant.generate(4)
        assert out.shape == (4, variant.data_info.channels_b, 16, 16)
    else:
        out = variant.generate(4)
        assert out.shape == (4, 1, 16, 16)
    assert torch.isfinite(out).all() and out.abs().max() <= 1.0


def test_help_lists_every_variant(capsys):
    with pytest.raises(SystemExit):
        cli_main(["gan", "train", "--help"])
    text = capsys.readouterr().out
    for model in DATA:
        assert f"  {model} " in text
    assert set(DATA) <= set(VARIANTS)


@pytest.mark.parametrize("model", sorted(DATA))
def test_critic_step_uses_detached_fakes(model):
    variant, dataset, _ = build_variant(small(model))
    trainer = TwoPlayerTrainer(variant.players(), variant.schedule(), device="cpu")
    critic_name = GENERATORS[model].replace("G", "D")
    generator = trainer.player(GENERATORS[model]).model
    before = [p.detach().clone() for p in generator.parameters()]
    trainer.update(critic_name, variant.loss_fns(first_batch(variant, dataset))[critic_name])
    assert all(p.grad is None for p in generator.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, generator.parameters(), strict=True))


def _snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def _same(before, module):
    return all(torch.equal(a, b) for a, b in zip(before, module.parameters(), strict=True))


@pytest.mark.parametrize("model,first,later", [("lapgan", ["D0", "G0"], ["D2", "G2"]),
                                               ("stackgan", ["D1", "G1"], ["D2", "G2"])])
def test_stages_train_one_after_the_other(model, first, later):
    variant, dataset, _ = build_variant(small(model, iterations=6))
    trainer = TwoPlayerTrainer(variant.players(), variant.schedule(), device="cpu")
    names = [p.name for p in variant.players()]
    before = {name: _snapshot(trainer.player(name).model) for name in names}
    trainer.round(variant.loss_fns(first_batch(variant, dataset)))
    changed = {name for name in names if not _same(before[name], trainer.player(name).model)}
    assert changed == set(first)
    variant.rounds = 5
    before = {name: _snapshot(trainer.player(name).model) for name in names}
    trainer.round(variant.loss_fns(first_batch(variant, dataset)))
    changed = {name for name in names if not _same(before[name], trainer.player(name).model)}
    assert changed == set(later)


def test_dualgan_critics_stay_clipped_and_step_twice():
    variant, dataset, _ = build_variant(small("dualgan"))
    trainer = TwoPlayerTrainer(variant.players(), variant.schedule(), device="cpu")
    trainer.round(variant.loss_fns(first_batch(variant, dataset)))
    assert trainer.updates == {"D": 2, "G": 1}
    assert max(p.abs().max().item() for p in variant.critics.parameters()) <= 0.01


def test_cyclegan_identity_term_and_pool_are_on():
    variant, dataset, _ = build_variant(small("cyclegan"))
    trainer = TwoPlayerTrainer(variant.players(), variant.schedule(), device="cpu")
    metrics = trainer.round(variant.loss_fns(first_batch(variant, dataset)))
    assert metrics["G/identity"] > 0
    assert len(variant.pools["a"].images) == len(variant.pools["b"].images) == 8
    terms = ("G/adv_ab", "G/adv_ba", "G/cycle_a", "G/cycle_b", "G/identity")
    expected = metrics["G/adv_ab"] + metrics["G/adv_ba"] + 10.0 * (
        metrics["G/cycle_a"] + metrics["G/cycle_b"]) + 5.0 * metrics["G/identity"]
    assert all(t in metrics for t in terms)
    assert metrics["G/loss"] == pytest.approx(expected, rel=1e-5)


def test_wrong_labels_always_differ():
    torch.manual_seed(0)
    labels = torch.arange(10).repeat(100)
    wrong = wrong_labels(labels, 10)
    assert not (wrong == labels).any()
    assert set(wrong.tolist()) == set(range(10))


def _weights(path):
    return torch.load(path, weights_only=False)["state"]["players"]


@pytest.mark.parametrize("model", ["cyclegan", "stackgan", "lapgan"])
def test_killed_and_resumed_run_ends_with_the_same_weights(tmp_path, model):
    config = dict(iterations=6, checkpoint_every=3)
    straight, resumed = straight_and_resumed_runs(
        tmp_path, lambda: small(model, **config))
    a, b = _weights(straight), _weights(resumed)
    for name in a:
        for key, tensor in a[name]["model"].items():
            assert torch.equal(tensor, b[name]["model"][key]), (name, key)
    extra = torch.load(resumed, weights_only=False)["state"]["extra"]["variant"]
    if model == "cyclegan":
        assert len(extra["pools"]["a"]["images"]) == 48
    else:
        assert extra["rounds"] == 6


def test_cli_trains_samples_and_refuses_a_mismatched_data_kind(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["gan", "train", "--model", "pix2pix", "--data", "digits2edges", "--iterations", "2",
            "--batch-size", "8", "--width", "8", "--image-size", "16", "--out", str(out),
            "--device", "cpu", "--no-progress"]
    assert cli_main(args) == 0
    assert cli_main(["gan", "sample", str(out), "--count", "8", "--out",
                     str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0
    capsys.readouterr()
    assert cli_main(["gan", "evaluate", str(out), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {"l1", "psnr_db", "frechet", "frechet_floor"}
    assert 0 < figures["l1"] < 2 and figures["frechet"] > figures["frechet_floor"] > 0
    bad = ["gan", "train", "--model", "cyclegan", "--data", "digits-train", "--out",
           str(tmp_path / "bad"), "--device", "cpu", "--no-progress", "--iterations", "1"]
    code = cli_main(bad)
    assert code != 0
    assert "does not train on images data" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["cyclegan", "gan-cls", "lapgan", "stackgan"])
def test_held_out_figures_of_an_untrained_variant(model):
    from gan_core.i2i_evaluation import evaluate_i2i

    variant, _, _ = build_variant(small(model))
    figures = evaluate_i2i(variant)
    assert all(value == value for value in figures.values())  # no NaN
    expected = {"cyclegan": {"cycle_a", "l1_true", "frechet"},
                "gan-cls": {"match_auc", "conditional_accuracy", "frechet"},
                "lapgan": {"level1_frechet", "level2_upsample_frechet", "frechet"},
                "stackgan": {"stage1_frechet", "match_auc", "frechet"}}[model]
    assert expected <= set(figures)
    assert figures["frechet"] > figures["frechet_floor"] > 0
    if "match_auc" in figures:
        assert 0.0 <= figures["match_auc"] <= 1.0


@pytest.mark.parametrize("model,options,message", [
    ("cyclegan", {"blocks": "three"}, "option blocks = 'three' must be an integer > 0"),
    ("cyclegan", {"pool_size": -1}, "option pool_size = -1 must be an integer >= 0"),
    ("dualgan", {"clip": 0}, "option clip = 0 must be a finite number > 0"),
    ("pix2pix", {"norm": "group"}, "option norm = 'group'"),
    ("stackgan", {"kl_weight": -1.0}, "option kl_weight = -1.0 must be a finite number >= 0"),
    ("lapgan", {"levels": 5}, "option levels = 5 must be 1, 2 or 3"),
    ("discogan", {"clip": 0.01}, r"has no option\(s\) \['clip'\]")])
def test_bad_options_are_refused_with_their_value(model, options, message):
    with pytest.raises(ConfigError, match=message):
        small(model, options=options).validate()
