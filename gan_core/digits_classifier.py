"""A small digits classifier whose features the image metrics use; trained on first use and
cached, so nothing is downloaded.

It is trained on 1,500 of scikit-learn's 1,797 digits (seed 0) upscaled like the "digits" data
set, and its accuracy on the other 297 is stored with the weights. The cache is
`$GAN_CORE_CACHE/digits_classifier_{size}px.pt` (default `~/.cache/gan_core`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_core.data import digits_tensors

log = logging.getLogger(__name__)

FEATURES = 128
TRAIN_COUNT = 1500
EPOCHS = 12


def cache_dir() -> Path:
    """Folder of cached classifiers: $GAN_CORE_CACHE, else ~/.cache/gan_core."""
    return Path(os.environ.get("GAN_CORE_CACHE") or Path.home() / ".cache" / "gan_core")


class DigitsClassifier(nn.Module):
    """Images (N, 1, S, S) in [-1, 1] -> (features (N, 128), logits (N, 10))."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
            nn.Flatten(), nn.Linear(64 * 16, FEATURES), nn.ReLU())
        self.head = nn.Linear(FEATURES, 10)
        self.test_accuracy = float("nan")

    def forward(self, images: torch.Tensor):
        features = self.body(images)
        return features, self.head(features)

    @torch.no_grad()
    def features_and_logits(self, images: torch.Tensor,
                            batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Features (N, 128) and logits (N, 10) as float64 arrays (eval mode, CPU)."""
        self.eval()
        feats, logits = [], []
        for start in range(0, len(images), batch_size):
            f, out = self(images[start:start + batch_size].float().cpu())
            feats.append(f.double().numpy())
            logits.append(out.double().numpy())
        return np.concatenate(feats), np.concatenate(logits)


def train_classifier(image_size: int, seed: int = 0) -> DigitsClassifier:
    """Train a classifier on 1,500 digits at image_size px; sets its `test_accuracy`."""
    images, labels = digits_tensors(image_size)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(images), generator=generator)
    train_idx, test_idx = order[:TRAIN_COUNT], order[TRAIN_COUNT:]
    torch.manual_seed(seed)
    model = DigitsClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    for _ in range(EPOCHS):
        for batch in train_idx[torch.randperm(TRAIN_COUNT, generator=generator)].split(64):
            # Small random shifts make the features less brittle to generator artefacts.
            x = torch.roll(images[batch], shifts=tuple(torch.randint(-1, 2, (2,),
                                                                     generator=generator)),
                           dims=(2, 3))
            _, logits = model(x)
            loss = nn.functional.cross_entropy(logits, labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    _, logits = model.features_and_logits(images[test_idx])
    model.test_accuracy = float((logits.argmax(1) == labels[test_idx].numpy()).mean())
    return model


def load_classifier(image_size: int, folder: str | os.PathLike | None = None) -> DigitsClassifier:
    """The cached classifier for image_size px, trained and cached on first use."""
    path = Path(folder or cache_dir()) / f"digits_classifier_{image_size}px.pt"
    model = DigitsClassifier()
    if path.is_file():
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(saved["model"])
            model.test_accuracy = float(saved["test_accuracy"])
            return model.eval()
        except Exception as err:  # a damaged cache is rebuilt, never trusted
            log.warning("the cached digits classifier %s is unreadable (%s); training it again",
                        path, type(err).__name__)
    log.info("training the %d px digits classifier for the metrics (cached at %s)",
             image_size, path)
    state = torch.get_rng_state()
    try:
        model = train_classifier(image_size)
    finally:
        torch.set_rng_state(state)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "test_accuracy": model.test_accuracy}, temp)
    os.replace(temp, path)
    log.info("digits classifier: %.1f %% accuracy on 297 held-out digits",
             100 * model.test_accuracy)
    return model.eval()
