"""Losses of the image-to-image and multi-stage GANs, each returning its terms separately.

Every loss is a small `nn.Module` whose forward returns `(total, {term: value})`, the shape a
`TwoPlayerTrainer` loss function returns. Critic outputs are logits of any shape (PatchGAN
maps are averaged over their patches). Images are (N, C, H, W) in [-1, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.errors import ConfigError

ADVERSARIAL = ("bce", "lsgan", "wgan")
DISTANCES = ("l1", "l2")


def adversarial(logits: torch.Tensor, target_real: bool, mode: str) -> torch.Tensor:
    """Mean adversarial loss of critic outputs towards "real" or "fake".

    - "bce": binary cross-entropy on sigmoid(logits) (for a generator, target_real=True is
      the non-saturating loss -log D(G(.))).
    - "lsgan": least squares, (D - 1)^2 towards real, D^2 towards fake (Mao et al. 2017).
    - "wgan": -D towards real, +D towards fake (Arjovsky et al. 2017; the critic is linear).
    """
    if mode == "bce":
        target = torch.ones_like(logits) if target_real else torch.zeros_like(logits)
        return F.binary_cross_entropy_with_logits(logits, target)
    if mode == "lsgan":
        return (logits - 1.0).pow(2).mean() if target_real else logits.pow(2).mean()
    if mode == "wgan":
        return -logits.mean() if target_real else logits.mean()
    raise ConfigError(f"adversarial loss {mode!r} is not one of {ADVERSARIAL}")


def distance(x: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    """Mean absolute ("l1") or squared ("l2") difference of two same-shaped tensors."""
    if kind == "l1":
        return (x - y).abs().mean()
    if kind == "l2":
        return (x - y).pow(2).mean()
    raise ConfigError(f"reconstruction distance {kind!r} is not one of {DISTANCES}")


class CriticLoss(nn.Module):
    """A critic's loss on real and (detached) fake outputs.

    L_D = weight * (adv(D(real), real) + adv(D(fake), fake)). pix2pix and CycleGAN halve it
    (weight 0.5) "to slow the rate at which D learns relative to G"; under "wgan" it is the
    critic's estimate of minus the Wasserstein distance.

    Shapes:
        real_logits, fake_logits: any shape -> scalar total; terms "real", "fake".
    """

    def __init__(self, mode: str = "bce", weight: float = 0.5):
        super().__init__()
        adversarial(torch.zeros(1), True, mode)
        self.mode, self.weight = mode, weight

    def forward(self, real_logits: torch.Tensor, fake_logits: torch.Tensor):
        real = adversarial(real_logits, True, self.mode)
        fake = adversarial(fake_logits, False, self.mode)
        return self.weight * (real + fake), {"real": real, "fake": fake}


class Pix2PixGeneratorLoss(nn.Module):
    """pix2pix's generator objective: adv(D(a, G(a)), real) + lambda * ||b - G(a)||_1.

    Shapes:
        fake_logits: PatchGAN map (N, 1, h, w); fake, target: (N, C, H, W) -> scalar; terms
        "adv", "l1" (the unweighted mean absolute error).
    """

    def __init__(self, lambda_l1: float = 100.0, mode: str = "bce"):
        super().__init__()
        self.lambda_l1, self.mode = lambda_l1, mode

    def forward(self, fake_logits: torch.Tensor, fake: torch.Tensor, target: torch.Tensor):
        adv = adversarial(fake_logits, True, self.mode)
        l1 = distance(fake, target, "l1")
        return adv + self.lambda_l1 * l1, {"adv": adv, "l1": l1}


class TwoWayGeneratorLoss(nn.Module):
    """The generators' objective of the two-way translators (CycleGAN, DualGAN, DiscoGAN).

        L_G = adv(D_B(G(a))) + adv(D_A(F(b)))
              + lambda_cycle * (d(F(G(a)), a) + d(G(F(b)), b))
              + lambda_identity * (d(G(b), b) + d(F(a), a))

    CycleGAN: lsgan, l1, lambda_cycle 10, identity 0.5 * lambda_cycle (its code's default).
    DualGAN: wgan, l1, a large reconstruction weight, no identity term.
    DiscoGAN: bce, l2 reconstruction, weight 1, no identity term.

    Args:
        mode: adversarial loss (see `adversarial`).
        distance: "l1" or "l2" for the reconstruction and identity terms.
        lambda_cycle: weight of the two reconstruction terms.
        lambda_identity: weight of the identity terms (0 skips them; the caller then passes
            None for `same_b` and `same_a`).

    Shapes:
        logits: any; images (N, C, H, W) -> scalar; terms "adv_ab", "adv_ba", "cycle_a",
        "cycle_b" and, when used, "identity" (unweighted).
    """

    def __init__(self, mode: str, distance_kind: str = "l1", lambda_cycle: float = 10.0,
                 lambda_identity: float = 0.0):
        super().__init__()
        distance(torch.zeros(1), torch.zeros(1), distance_kind)
        self.mode, self.distance = mode, distance_kind
        self.lambda_cycle, self.lambda_identity = lambda_cycle, lambda_identity

    def forward(self, logits_b: torch.Tensor, logits_a: torch.Tensor, real_a: torch.Tensor,
                real_b: torch.Tensor, cycled_a: torch.Tensor, cycled_b: torch.Tensor,
                same_a: torch.Tensor | None = None, same_b: torch.Tensor | None = None):
        terms = {"adv_ab": adversarial(logits_b, True, self.mode),
                 "adv_ba": adversarial(logits_a, True, self.mode),
                 "cycle_a": distance(cycled_a, real_a, self.distance),
                 "cycle_b": distance(cycled_b, real_b, self.distance)}
        total = terms["adv_ab"] + terms["adv_ba"] + self.lambda_cycle * (
            terms["cycle_a"] + terms["cycle_b"])
        if self.lambda_identity > 0:
            if same_a is None or same_b is None:
                raise ConfigError("the identity term needs F(a) and G(b); pass same_a and "
                                  "same_b, or set lambda_identity to 0")
            terms["identity"] = (distance(same_a, real_a, self.distance)
                                 + distance(same_b, real_b, self.distance))
            total = total + self.lambda_identity * terms["identity"]
        return total, terms


class MatchingAwareCriticLoss(nn.Module):
    """GAN-CLS's discriminator objective (Reed et al. 2016, algorithm 1).

    The critic scores (real image, right condition) s_r, (real image, wrong condition) s_w and
    (fake image, right condition) s_f; it maximises log s_r + (log(1 - s_w) + log(1 - s_f)) / 2,
    that is, minimises

        L_D = BCE(s_r, 1) + (BCE(s_w, 0) + BCE(s_f, 0)) / 2.

    Shapes:
        three (N,) logit vectors -> scalar; terms "right", "wrong", "fake".
    """

    def forward(self, right: torch.Tensor, wrong: torch.Tensor, fake: torch.Tensor):
        terms = {"right": adversarial(right, True, "bce"),
                 "wrong": adversarial(wrong, False, "bce"),
                 "fake": adversarial(fake, False, "bce")}
        return terms["right"] + 0.5 * (terms["wrong"] + terms["fake"]), terms


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)), averaged over batch and dimensions (StackGAN's).

    Shapes:
        mu, logvar (N, D) -> scalar; 0 exactly when mu = 0 and logvar = 0.
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean()


class ImagePool:
    """A buffer of past generated images (Shrivastava et al. 2017; CycleGAN's default 50).

    `query` returns a batch of the same size: each image is, with probability one half once the
    pool is full, swapped for a stored past fake (which the new one replaces); otherwise it is
    returned as is. Draws come from torch's global generator, so a resumed run that restores
    the RNG and `state_dict()` continues identically.

    Args:
        size: images kept; 0 turns the pool off (`query` returns its input).
    """

    def __init__(self, size: int = 50):
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ConfigError(f"image pool size {size!r} must be an integer >= 0 (0: no pool)")
        self.size = size
        self.images: list[torch.Tensor] = []

    @torch.no_grad()
    def query(self, images: torch.Tensor) -> torch.Tensor:
        """A mix of `images` (N, C, H, W) and stored ones, detached, same shape."""
        if self.size == 0:
            return images.detach()
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif float(torch.rand(())) < 0.5:
                index = int(torch.randint(self.size, ()))
                out.append(self.images[index].to(image.device))
                self.images[index] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict:
        """The stored images, on the CPU."""
        return {"size": self.size, "images": [image.cpu() for image in self.images]}

    def load_state_dict(self, state: dict, device: torch.device | None = None) -> None:
        """Restore `state_dict()` output, moving the images to `device`."""
        if state["size"] != self.size:
            raise ConfigError(f"saved image pool holds up to {state['size']} images, this one "
                              f"{self.size}; resume with the same pool_size option")
        self.images = [image.to(device) if device else image for image in state["images"]]


class ClippedRMSprop(torch.optim.RMSprop):
    """RMSProp that clamps every parameter to [-clip, clip] after each step (WGAN's critic).

    Clipping inside the optimizer's step keeps the trainer's single update path: the weights are
    within the bound after every critic step, including the last one before a checkpoint.
    """

    def __init__(self, params, lr: float = 5e-5, clip: float = 0.01, **kwargs):
        if not clip > 0:
            raise ConfigError(f"weight clip {clip!r} must be a positive number (WGAN: 0.01)")
        super().__init__(params, lr=lr, **kwargs)
        self.clip = float(clip)

    @torch.no_grad()
    def step(self, closure=None):
        loss = super().step(closure)
        for group in self.param_groups:
            for param in group["params"]:
                param.clamp_(-self.clip, self.clip)
        return loss
