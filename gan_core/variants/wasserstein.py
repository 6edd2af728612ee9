"""Critic-based GANs: wgan (weight clipping), wgan-gp (gradient penalty), sngan (hinge loss
with spectral norm). The critics have no sigmoid: their outputs are unbounded scores."""

from __future__ import annotations

import torch

from gan_core.losses import gradient_penalty, hinge_d, pack, wasserstein_d, wasserstein_g
from gan_core.player import Player
from gan_core.variants import register
from gan_core.variants.adversarial import AdversarialVariant


@register
class WGAN(AdversarialVariant):
    """Arjovsky et al. 2017: critic loss mean C(G(z)) - mean C(x), n_critic = 5, RMSProp with
    lr 5e-5, and every critic weight clipped to [-clip, clip] (0.01) after each critic step."""

    name = "wgan"
    description = "Wasserstein GAN (Arjovsky 2017): weight clipping, n_critic 5, RMSProp"
    option_defaults = {"clip": 0.01}
    lr = (5e-5, 5e-5)
    optimizer = "rmsprop"
    n_critic = 5

    def build_players(self) -> list[Player]:
        critic, generator = super().build_players()
        critic.after_step = self.clip_critic
        return [critic, generator]

    @torch.no_grad()
    def clip_critic(self) -> None:
        """Clamp every critic parameter to [-clip, clip]."""
        bound = float(self.options["clip"])
        for parameter in self.discriminator.parameters():
            parameter.clamp_(-bound, bound)

    def d_loss_terms(self, real, fake_x, fake_y):
        real_scores, fake_scores = self.score_pair(real, fake_x, fake_y)
        return {"wasserstein": wasserstein_d(real_scores, fake_scores)}

    def g_loss_terms(self, real, fake_x, fake_y):
        fake_scores, _ = self.discriminate(fake_x)
        return {"wasserstein": wasserstein_g(fake_scores)}


@register
class WGANGP(WGAN):
    """Gulrajani et al. 2017: the WGAN losses plus penalty_weight (10) times the gradient
    penalty; no clipping, no batch norm in the critic, Adam(1e-4, betas (0, 0.9)), n_critic 5."""

    name = "wgan-gp"
    description = "WGAN with gradient penalty (Gulrajani 2017)"
    option_defaults = {"penalty_weight": 10.0}

    zero_allowed = ("penalty_weight",)
    lr = (1e-4, 1e-4)
    betas = (0.0, 0.9)
    optimizer = "adam"

    def d_kwargs(self) -> dict:
        return {"norm": "none"}

    def build_players(self) -> list[Player]:
        return AdversarialVariant.build_players(self)

    def d_loss_terms(self, real, fake_x, fake_y):
        terms = super().d_loss_terms(real, fake_x, fake_y)
        m = self.config.pack
        penalty = gradient_penalty(lambda x: self.discriminator(x)[0], pack(real["x"], m),
                                   pack(fake_x, m))
        terms["gradient_penalty"] = float(self.options["penalty_weight"]) * penalty
        return terms


@register
class SNGAN(AdversarialVariant):
    """Miyato et al. 2018: spectral norm on every discriminator layer (no batch norm in D) and
    the hinge loss; G minimises -mean D(G(z))."""

    name = "sngan"
    description = "hinge loss with spectral norm (Miyato 2018)"

    def d_kwargs(self) -> dict:
        return {"norm": "none", "spectral": True}

    def d_loss_terms(self, real, fake_x, fake_y):
        real_scores, fake_scores = self.score_pair(real, fake_x, fake_y)
        return {"hinge": hinge_d(real_scores, fake_scores)}

    def g_loss_terms(self, real, fake_x, fake_y):
        fake_scores, _ = self.discriminate(fake_x)
        return {"hinge": wasserstein_g(fake_scores)}
