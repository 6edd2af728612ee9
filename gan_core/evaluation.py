"""Evaluate a trained variant with the metrics its data allows (`gan_core.metrics`)."""

from __future__ import annotations

import numpy as np
import torch

from gan_core.errors import ConfigError
from gan_core.i2i_evaluation import I2I_MODELS, evaluate_i2i
from gan_core.metrics import MIXTURE_SAMPLES, image_metrics, inception_fid, mixture_metrics
from gan_core.variants import Variant

GENERATE_BATCH = 500


@torch.no_grad()
def generate_many(variant: Variant, n: int, labels: torch.Tensor | None = None) -> torch.Tensor:
    """`n` samples on the CPU, generated in batches of 500 (labels (n,) for conditional)."""
    parts = []
    for start in range(0, n, GENERATE_BATCH):
        count = min(GENERATE_BATCH, n - start)
        if variant.kind == "conditional":
            chunk = None if labels is None else labels[start:start + count]
            parts.append(variant.generate(count, labels=chunk).cpu())
        else:
            parts.append(variant.generate(count).cpu())
    return torch.cat(parts)


def evaluate_variant(variant: Variant, seed: int = 0,
                     inception_weights: str | None = None) -> dict[str, float]:
    """The metrics of a trained variant on its own data set.

    2-D mixtures: modes covered and high-quality share over 2,500 samples. Digits: classifier
    distances with their real-against-real floors, class coverage, label KL and, for
    conditional variants, conditional accuracy. Any image data with `inception_weights`: the
    Inception FID as well. The image-to-image and multi-stage variants get their held-out
    figures from `gan_core.i2i_evaluation.evaluate_i2i` instead.

    Args:
        variant: a trained variant (see `gan_core.run.load_run`).
        seed: seeds the noise of the evaluated samples.
        inception_weights: a TorchScript Inception file (see `gan_core.metrics.inception_fid`).
    """
    from gan_core.data import make_dataset

    info = variant.data_info
    if variant.name in I2I_MODELS:
        return evaluate_i2i(variant, seed=seed)
    torch.manual_seed(seed)
    if info.kind == "points":
        if "modes" not in info.extra:
            raise ConfigError(f"data {info.name!r} has no known modes to evaluate against")
        points = generate_many(variant, MIXTURE_SAMPLES).double().numpy()
        return mixture_metrics(points, np.asarray(info.extra["modes"]), info.extra["sigma"])
    if info.kind != "images":
        raise ConfigError(f"no metrics here for {info.kind} data ({info.name!r})")
    dataset, _ = make_dataset(variant.config)
    real = dataset.tensors["x"]
    count = (len(real) + 1) // 2
    labels = torch.arange(count) % info.num_classes if variant.kind == "conditional" else None
    samples = generate_many(variant, count, labels)
    result: dict[str, float] = {}
    if info.name == "digits":
        from gan_core.digits_classifier import load_classifier

        classifier = load_classifier(info.image_size)
        result.update(image_metrics(samples, real, classifier, labels))
        result["classifier_accuracy"] = classifier.test_accuracy
    if inception_weights:
        result["inception_fid"] = inception_fid(samples, real, inception_weights)
    if not result:
        raise ConfigError(f"data {info.name!r} has no download-free metric; pass "
                          "--inception-weights FILE for an Inception FID")
    return result
