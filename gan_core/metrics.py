"""Sample-quality metrics that need no download.

2-D mixtures (as in the VEEGAN and PacGAN papers): a sample is *high quality* when it lies
within 3 sigma of its nearest mode; a mode is *covered* when at least `min_count` (20, as in
PacGAN) of 2,500 samples are high-quality samples nearest to it.

Images: features of a small classifier trained on scikit-learn's digits
(`gan_core.digits_classifier`), Frechet and kernel distances between generated and real
features, computed in float64 with a fixed sample count; the same distances between two
disjoint halves of the real data are printed beside them as the floor a perfect generator would
reach. Also: class coverage, KL divergence of the predicted label histogram from uniform, and
for conditional samples the share the classifier labels as asked. These distances are NOT
comparable to published FIDs, which use Inception-v3 features (`inception_fid` does, given a
weights file).
"""

from __future__ import annotations

import numpy as np
import torch

from gan_core.errors import ConfigError

MIXTURE_SAMPLES = 2500


def mixture_metrics(points: np.ndarray, modes: np.ndarray, sigma: float,
                    min_count: int = 20) -> dict[str, float]:
    """Modes covered and high-quality share of 2-D samples.

    Args:
        points: samples (N, 2).
        modes: the mixture's means (K, 2).
        sigma: the components' standard deviation.
        min_count: high-quality samples a mode needs to count as covered.

    Returns:
        {"modes": modes covered (0..K), "high_quality": share of samples within 3 sigma of
        their nearest mode (0..1)}.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ConfigError(f"points of shape {points.shape} must be (N, 2)")
    distances = np.linalg.norm(points[:, None, :] - np.asarray(modes)[None], axis=2)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(points)), nearest] <= 3.0 * sigma
    counts = np.bincount(nearest[good], minlength=len(modes))
    return {"modes": float((counts >= min_count).sum()), "high_quality": float(good.mean())}


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to feature sets a (N, F) and b (M, F).

    |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2), in float64, with
    the matrix square roots from symmetric eigendecompositions (negative round-off
    eigenvalues are clipped to 0).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = root_a @ cov_b @ root_a
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)


def kernel_distance(a: np.ndarray, b: np.ndarray, subsets: int = 50, subset_size: int = 200,
                    seed: int = 0) -> float:
    """Kernel distance (KID, Binkowski et al. 2018): unbiased MMD^2 with the kernel
    k(x, y) = (x.y / F + 1)^3, averaged over `subsets` random subsets, float64."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    size = min(subset_size, len(a), len(b))
    rng = np.random.default_rng(seed)
    dim = a.shape[1]
    total = 0.0
    for _ in range(subsets):
        x = a[rng.choice(len(a), size, replace=False)]
        y = b[rng.choice(len(b), size, replace=False)]
        kxx, kyy = (x @ x.T / dim + 1) ** 3, (y @ y.T / dim + 1) ** 3
        kxy = (x @ y.T / dim + 1) ** 3
        off = size * (size - 1)
        total += ((kxx.sum() - np.trace(kxx)) / off + (kyy.sum() - np.trace(kyy)) / off
                  - 2 * kxy.mean())
    return float(total / subsets)


def label_metrics(predicted: np.ndarray, num_classes: int) -> dict[str, float]:
    """Class coverage and KL(label histogram || uniform) of predicted labels (N,).

    A class counts as covered when it receives at least a tenth of its uniform share.
    """
    counts = np.bincount(np.asarray(predicted), minlength=num_classes).astype(np.float64)
    share = counts / counts.sum()
    covered = (share >= 0.1 / num_classes).sum()
    nonzero = share > 0
    kl = float((share[nonzero] * np.log(share[nonzero] * num_classes)).sum())
    return {"class_coverage": float(covered / num_classes), "label_kl": kl}


def image_metrics(samples: torch.Tensor, real: torch.Tensor, classifier,
                  labels: torch.Tensor | None = None) -> dict[str, float]:
    """Distances of generated images to real ones on `classifier`'s features, with floors.

    The real images are split (fixed permutation, seed 0) into halves A and B; the scores are
    distances between `len(A)` generated images and B, the floors those between A and B.

    Args:
        samples: generated images (N, C, H, W) in [-1, 1], N >= len(real) // 2 + 1.
        real: real images (M, C, H, W) in [-1, 1].
        classifier: a `DigitsClassifier` (features and predictions).
        labels: the labels asked for when `samples` are conditional (N,), else None.

    Returns:
        frechet, frechet_floor, kernel, kernel_floor, class_coverage, label_kl and, with
        labels, conditional_accuracy.
    """
    order = torch.randperm(len(real), generator=torch.Generator().manual_seed(0))
    half_a, half_b = real[order[: (len(real) + 1) // 2]], real[order[(len(real) + 1) // 2:]]
    count = len(half_a)
    if len(samples) < count:
        raise ConfigError(f"{len(samples)} samples given; the metrics use {count} (half of the "
                          f"{len(real)} real images): generate at least {count}")
    samples = samples[:count]
    feats_fake, logits = classifier.features_and_logits(samples)
    feats_a, _ = classifier.features_and_logits(half_a)
    feats_b, _ = classifier.features_and_logits(half_b)
    result = {"frechet": frechet_distance(feats_fake, feats_b),
              "frechet_floor": frechet_distance(feats_a, feats_b),
              "kernel": kernel_distance(feats_fake, feats_b),
              "kernel_floor": kernel_distance(feats_a, feats_b),
              "samples": float(count)}
    predicted = logits.argmax(axis=1)
    result.update(label_metrics(predicted, logits.shape[1]))
    if labels is not None:
        result["conditional_accuracy"] = float((predicted == labels[:count].numpy()).mean())
    return result


@torch.no_grad()
def inception_fid(samples: torch.Tensor, real: torch.Tensor, weights: str,
                  batch_size: int = 50) -> float:
    """FID with Inception-v3 features from a TorchScript file the user supplies.

    The file must hold a TorchScript module mapping uint8 images (N, 3, H, W) in 0..255 to
    features (N, F) when called as `module(images, return_features=True)` (the convention of
    the Inception file used by NVIDIA's StyleGAN2-ADA metrics), or with `module(images)`.
    Nothing is downloaded: without such a file there is no Inception FID.
    """
    from pathlib import Path

    if not Path(weights).is_file():
        raise ConfigError(f"Inception weights file {weights!r} not found; pass an existing "
                          "TorchScript file (nothing is downloaded)")
    try:
        module = torch.jit.load(weights, map_location="cpu").eval()
    except (RuntimeError, ValueError, OSError) as err:
        raise ConfigError(f"Inception weights file {weights!r} is not a TorchScript module "
                          f"({type(err).__name__}); pass the TorchScript Inception file "
                          "itself") from None

    def features(images: torch.Tensor) -> np.ndarray:
        parts = []
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size].float().cpu()
            if chunk.shape[1] == 1:
                chunk = chunk.expand(-1, 3, -1, -1)
            chunk = ((chunk.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
            try:
                out = module(chunk, return_features=True)
            except (RuntimeError, TypeError):
                out = module(chunk)
            parts.append(out.double().reshape(len(chunk), -1).numpy())
        return np.concatenate(parts)

    return frechet_distance(features(samples), features(real))
