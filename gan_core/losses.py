"""GAN losses as small functions; each returns a scalar and its docstring gives the equation.

Shapes: `real` and `fake` are discriminator outputs (N,) on real and generated (packed) inputs:
logits for the cross-entropy losses, unbounded critic values for WGAN and hinge, energies for
EBGAN. Packing (PacGAN, Lin et al. 2018) groups m consecutive samples into one discriminator
input; `pack` does it for points, images and one-hot labels alike.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from gan_core.errors import ConfigError


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """Concatenate groups of m consecutive samples along the feature/channel axis.

    (N, D) -> (N/m, m*D); (N, C, H, W) -> (N/m, m*C, H, W). m = 1 returns x unchanged.
    """
    if m == 1:
        return x
    if x.shape[0] % m:
        raise ConfigError(f"cannot pack a batch of {x.shape[0]} samples in groups of {m}; use "
                          "a batch size that is a multiple of pack")
    return x.reshape(x.shape[0] // m, m * x.shape[1], *x.shape[2:])


def bce_d(real: torch.Tensor, fake: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """Discriminator cross-entropy: -t log D(x) - (1 - t) log(1 - D(x)) - log(1 - D(G(z))).

    `real_target` < 1 is one-sided label smoothing (Salimans et al. 2016): only the real
    targets are softened, fakes keep target 0.
    """
    return (F.binary_cross_entropy_with_logits(real, torch.full_like(real, real_target))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


def g_saturating(fake: torch.Tensor) -> torch.Tensor:
    """Goodfellow et al. 2014's minimax generator loss: mean log(1 - D(G(z))) = -softplus(l)."""
    return -F.softplus(fake).mean()


def g_non_saturating(fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss: mean -log D(G(z)) = softplus(-l)."""
    return F.softplus(-fake).mean()


def log_d(logits: torch.Tensor) -> torch.Tensor:
    """log D = log sigmoid(l) = -softplus(-l), elementwise."""
    return -F.softplus(-logits)


def lsgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Least squares (Mao et al. 2017, a-b-c = 0-1-1): 0.5 (D(x) - 1)^2 + 0.5 D(G(z))^2."""
    return 0.5 * (real - 1.0).pow(2).mean() + 0.5 * fake.pow(2).mean()


def lsgan_g(fake: torch.Tensor) -> torch.Tensor:
    """Least-squares generator loss: 0.5 (D(G(z)) - 1)^2."""
    return 0.5 * (fake - 1.0).pow(2).mean()


def wasserstein_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Critic loss (Arjovsky et al. 2017): mean C(G(z)) - mean C(x) (minimised)."""
    return fake.mean() - real.mean()


def wasserstein_g(fake: torch.Tensor) -> torch.Tensor:
    """Generator loss of WGAN, WGAN-GP and the hinge GAN: -mean C(G(z))."""
    return -fake.mean()


def hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Hinge loss (Miyato et al. 2018): mean relu(1 - D(x)) + mean relu(1 + D(G(z)))."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's penalty (Gulrajani et al. 2017): mean (||grad C(x_hat)||_2 - 1)^2.

    x_hat = e x + (1 - e) G(z) with one e ~ U[0, 1] per sample. The norm is taken over ALL of a
    sample's dimensions (channels, height and width together), not per channel or per row.

    Args:
        critic: maps inputs (N, ...) to values (N,).
        real: real inputs (N, ...), as the critic sees them (packed if packing).
        fake: generated inputs of the same shape, detached.
    """
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    e = torch.rand(shape, device=real.device, dtype=real.dtype)
    x_hat = (e * real + (1.0 - e) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(2, dim=1) - 1.0).pow(2).mean()


def r1_penalty(scores: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Mescheder et al. 2018's R1 regulariser on real data: 0.5 mean ||grad_x D(x)||_2^2.

    The norm is over all of a judged sample's dimensions; with packing a judged sample is a
    group of m inputs, so the squared norms of a group's gradients are added up.

    Args:
        scores: D's logits (N/m,) computed from `inputs` with the graph kept.
        inputs: the real inputs (N, ...) that were set to require gradients.
    """
    (grad,) = torch.autograd.grad(scores.sum(), inputs, create_graph=True)
    return 0.5 * grad.pow(2).sum() / scores.shape[0]


def pull_away(codes: torch.Tensor) -> torch.Tensor:
    """EBGAN's pull-away term (Zhao et al. 2017): mean over i != j of cos^2(s_i, s_j).

    PT = 1 / (N (N - 1)) * sum_{i != j} (s_i . s_j / (|s_i| |s_j|))^2, codes (N, F), N >= 2.
    """
    n = codes.shape[0]
    if n < 2:
        raise ConfigError(f"the pull-away term needs at least 2 samples, got {n}")
    unit = F.normalize(codes.flatten(1), dim=1)
    cosine = unit @ unit.t()
    return (cosine.pow(2).sum() - cosine.diagonal().pow(2).sum()) / (n * (n - 1))


def feature_matching(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """Salimans et al. 2016: ||mean f(x) - mean f(G(z))||_2^2 over the batch, features (N, F)."""
    return (real_features.mean(dim=0) - fake_features.mean(dim=0)).pow(2).sum()
