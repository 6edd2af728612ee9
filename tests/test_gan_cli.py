"""`advgrasp gan` through the real CLI with tiny budgets, and the offline metrics."""

import json

import numpy as np
import pytest
import torch
from conftest import cli_fails
from PIL import Image

from advgrasp.cli import build_parser, main
from gan_core.data import DATASETS, mixture_points, ring_modes
from gan_core.errors import ConfigError
from gan_core.metrics import frechet_distance, kernel_distance, label_metrics, mixture_metrics
from gan_core.variants import VARIANTS

torch.set_num_threads(1)
TINY = ["--iterations", "2", "--batch-size", "16", "--width", "8", "--z-dim", "8", "--threads", "1",
        "--device", "cpu", "--no-progress"]


@pytest.fixture(autouse=True)
def classifier_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("GAN_CORE_CACHE", str(tmp_path_factory.getbasetemp() / "gan_cache"))


def test_help_lists_every_registered_variant(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["gan", "train", "--help"])
    text = capsys.readouterr().out
    for name in VARIANTS:
        assert name in text


def test_train_sample_evaluate_on_the_ring(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["gan", "train", "--model", "gan", "--g-loss", "saturating", "--pack", "2",
                 "--data", "ring", "--out", str(run), *TINY]) == 0
    assert "to 2 iterations" in capsys.readouterr().out
    assert json.loads((run / "config.json").read_text())["options"] == {"g_loss": "saturating"}
    assert main(["gan", "sample", str(run / "checkpoint.pt"), "--count", "100"]) == 0
    assert Image.open(run / "samples.png").size[0] > 100
    capsys.readouterr()
    assert main(["gan", "evaluate", str(run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 0 <= result["modes"] <= 8 and 0.0 <= result["high_quality"] <= 1.0


def test_conditional_digits_grid_folder_and_metrics(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["gan", "train", "--model", "cgan", "--data", "digits", "--image-size", "8",
                 "--out", str(run), *TINY]) == 0
    assert main(["gan", "sample", str(run), "--count", "16", "--out",
                 str(tmp_path / "grid.png")]) == 0
    assert Image.open(tmp_path / "grid.png").size == (4 * 10 + 2, 4 * 10 + 2)
    assert main(["gan", "sample", str(run), "--count", "3", "--folder",
                 str(tmp_path / "images")]) == 0
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [
        "00000.png", "00001.png", "00002.png"]
    assert Image.open(tmp_path / "images" / "00000.png").size == (8, 8)
    capsys.readouterr()
    assert main(["gan", "evaluate", str(run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["frechet"] > result["frechet_floor"] > 0
    assert 0.0 <= result["conditional_accuracy"] <= 1.0
    assert result["classifier_accuracy"] > 0.8


def test_inception_fid_uses_the_given_torchscript_file(tmp_path, capsys):
    class Features(torch.nn.Module):
        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return images.float().mean(dim=(2, 3))

    weights = tmp_path / "features.pt"
    torch.jit.script(Features()).save(str(weights))
    run = tmp_path / "run"
    main(["gan", "train", "--model", "dcgan", "--data", "digits", "--image-size", "8",
          "--out", str(run), *TINY])
    capsys.readouterr()
    assert main(["gan", "evaluate", str(run), "--json", "--inception-weights",
                 str(weights)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["inception_fid"] > 0


def test_render_objects_then_train_on_the_folder(tmp_path, capsys):
    folder = tmp_path / "objects"
    assert main(["gan", "render-objects", "--out", str(folder), "--count", "2",
                 "--object-set", "assets", "--split", "all", "--image-size", "48"]) == 0
    images = sorted(folder.iterdir())
    assert len(images) == 2 and Image.open(images[0]).size == (48, 48)
    assert main(["gan", "train", "--model", "dcgan", "--data", "folder", "--data-dir",
                 str(folder), "--image-size", "16", "--out", str(tmp_path / "run"), *TINY]) == 0


def test_folder_data_without_images_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="holds no images"):
        from gan_core.variants import GanConfig
        DATASETS["folder"](GanConfig(data="folder", data_dir=str(tmp_path)))


def test_mixture_metrics_on_known_points():
    points, _ = mixture_points("ring", 2500, seed=0)
    assert mixture_metrics(points, ring_modes(), 0.01) == {
        "modes": 8.0, "high_quality": pytest.approx(0.99, abs=0.01)}
    # All samples on one mode: one mode covered; halfway between modes: none is high quality.
    assert mixture_metrics(np.tile(ring_modes()[:1], (2500, 1)), ring_modes(), 0.01) == {
        "modes": 1.0, "high_quality": 1.0}
    assert mixture_metrics(np.zeros((2500, 2)), ring_modes(), 0.01)["high_quality"] == 0.0


def test_frechet_and_kernel_distances_have_known_values():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    # Same covariance, means 2 apart on one axis: Frechet distance is |mu_a - mu_b|^2 = 4.
    assert frechet_distance(a, a + [2.0, 0, 0]) == pytest.approx(4.0, abs=1e-6)
    # Scaled copy: covariance 4I against I, trace term 3 * (1 + 4 - 2 * 2) = 3.
    assert frechet_distance(a, 2 * a) == pytest.approx(3.0 + 0.0, rel=0.05)
    assert abs(kernel_distance(a[:2000], a[2000:])) < 0.02
    assert kernel_distance(a, a + 1.0) > 0.5


def test_label_metrics_values():
    assert label_metrics(np.arange(10).repeat(5), 10) == {"class_coverage": 1.0,
                                                          "label_kl": pytest.approx(0.0)}
    one = label_metrics(np.zeros(50, dtype=int), 10)
    assert one["class_coverage"] == 0.1 and one["label_kl"] == pytest.approx(np.log(10))


def test_a_scheduled_run_cannot_be_extended_and_a_refused_resume_changes_nothing(tmp_path,
                                                                                 capsys):
    run = tmp_path / "run"
    train = ["gan", "train", "--model", "gan", "--data", "ring", "--out", str(run), *TINY]
    assert main([*train, "--lr-decay", "linear"]) == 0
    config = (run / "config.json").read_text()
    checkpoint = (run / "checkpoint.pt").read_bytes()
    err = cli_fails([*train, "--lr-decay", "linear", "--iterations", "4"], capsys,
                    "iterations=2 (now 4)")
    assert "cannot be extended" in err
    cli_fails([*train, "--lr-decay", "linear", "--model", "lsgan"], capsys,
              "model='gan' (now 'lsgan')")
    assert (run / "config.json").read_text() == config
    assert (run / "checkpoint.pt").read_bytes() == checkpoint
    # Without a schedule, more iterations extend the run; fewer than done are refused.
    plain = tmp_path / "plain"
    train = ["gan", "train", "--model", "gan", "--data", "ring", "--out", str(plain), *TINY]
    assert main(train) == 0 and main([*train, "--iterations", "4"]) == 0
    cli_fails([*train, "--iterations", "3"], capsys, "already at round 4")
    # Naming an option's default value is no change; another value is.
    assert main([*train, "--iterations", "4", "--option", "r1=0"]) == 0
    cli_fails([*train, "--iterations", "4", "--option", "r1=0.1"], capsys, "r1")


@pytest.mark.parametrize("option,message", [
    ("clip=abc", "option clip = 'abc' must be a finite number > 0"),
    ("clip=-1", "option clip = -1 must be a finite number > 0"),
    ("clip=[1, 2]", "option clip = [1, 2] must be a finite number > 0"),
    ("clip=Infinity", "option clip = inf must be a finite number > 0"),
    ("clip=1e999", "option clip = inf must be a finite number > 0"),
])
def test_bad_option_values_are_refused_before_training(tmp_path, capsys, option, message):
    run = tmp_path / "run"
    cli_fails(["gan", "train", "--model", "wgan", "--option", option, "--out", run, *TINY],
              capsys, message)
    assert not run.exists()


def test_unusable_paths_and_counts_get_one_line_errors(tmp_path, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.png")
    (folder / "b.png").write_text("not an image")
    err = cli_fails(["gan", "train", "--model", "gan", "--data", "folder", "--data-dir", folder,
                     "--image-size", "8", "--out", tmp_path / "r", *TINY], capsys,
                    "cannot read image")
    assert "b.png" in err
    a_file = tmp_path / "file"
    a_file.write_text("")
    cli_fails(["gan", "train", "--model", "gan", "--out", a_file / "sub", *TINY], capsys,
              str(a_file))
    run = tmp_path / "run"
    assert main(["gan", "train", "--model", "gan", "--out", str(run), *TINY]) == 0
    cli_fails(["gan", "sample", run, "--count", "0"], capsys, "--count 0 must be at least 1")
    cli_fails(["gan", "sample", run, "--out", tmp_path / "x.txt"], capsys,
              "must name a .png file")
    cli_fails(["gan", "train", "--model", "gan", "--out", run, *TINY, "--threads", "0"], capsys,
              "--threads 0 must be at least 1")


def test_options_that_do_not_apply_are_refused(tmp_path, capsys):
    cli_fails(["gan", "train", "--model", "gan", "--data", "ring", "--data-dir", tmp_path,
               "--out", tmp_path / "r", *TINY], capsys,
              "data_dir applies to data folder, pairs, unpaired only")
    run = tmp_path / "run"
    assert main(["gan", "train", "--model", "gan", "--out", str(run), *TINY]) == 0
    weights = tmp_path / "inception.pt"
    weights.write_bytes(b"")
    cli_fails(["gan", "evaluate", run, "--inception-weights", weights], capsys,
              "--inception-weights applies to image models")
