"""Object renders from `envs` and their depth images, written by the CLI as A/B pairs, train
pix2pix through `--data pairs` (gan_core itself never imports envs)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from advgrasp.cli import main as cli_main
from gan_core.i2i_data import folder_pairs

torch.set_num_threads(1)


def test_rendered_rgb_depth_pairs_train_pix2pix(tmp_path, capsys):
    pairs = tmp_path / "pairs"
    assert cli_main(["gan", "render-objects", "--pairs", "--count", "3", "--image-size", "48",
                     "--object-set", "assets", "--split", "all", "--out", str(pairs)]) == 0
    names = sorted(p.name for p in (pairs / "A").iterdir())
    assert names == sorted(p.name for p in (pairs / "B").iterdir()) and len(names) == 3
    with Image.open(pairs / "A" / names[0]) as rgb, Image.open(pairs / "B" / names[0]) as depth:
        assert rgb.mode == "RGB" and depth.mode == "L" and depth.size == (48, 48)
        # The object stands above the tray: some pixels have height, the tray has none.
        heights = np.asarray(depth)
        assert heights.max() > heights.min()
    data = folder_pairs(pairs, 16)
    assert data["a"].shape == data["b"].shape == (3, 3, 16, 16)
    run = tmp_path / "run"
    assert cli_main(["gan", "train", "--model", "pix2pix", "--data", "pairs", "--data-dir",
                     str(pairs), "--image-size", "16", "--batch-size", "2", "--width", "8",
                     "--iterations", "2", "--out", str(run), "--device", "cpu",
                     "--no-progress"]) == 0
    assert (run / "checkpoint.pt").is_file()


def test_gan_core_imports_neither_envs_nor_pybullet():
    code = ("import sys, gan_core.run, gan_core.i2i_evaluation, gan_core.variants; "
            "print(sorted(m for m in ('envs', 'pybullet', 'pygame', 'advgrasp') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
