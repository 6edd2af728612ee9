"""Mode-regularised GANs (Che et al. 2017): an encoder E maps data to noise space, and
G(E(x)) is asked to reconstruct x, so that every mode of the data has a preimage in z."""

from __future__ import annotations

import torch
from torch import nn

from gan_core.losses import bce_d, g_non_saturating, log_d, pack
from gan_core.player import Player
from gan_core.variants import register
from gan_core.variants.adversarial import AdversarialVariant, _total


def distance(x: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
    """d(x, G(E(x))): squared error averaged over a sample's dimensions, then the batch."""
    return (x - reconstruction).pow(2).flatten(1).mean(dim=1).mean()


@register
class MRGAN(AdversarialVariant):
    """Mode-regularised GAN.

    D: the cross-entropy between x and G(z). G and E, one player with one optimizer, minimise
    -log D(G(z)) + lambda1 d(x, G(E(x))) + lambda2 log D(G(E(x))) (Che et al. 2017, eq. 4;
    the first term does not depend on E, so E minimises the paper's T_E).
    """

    name = "mrgan"
    description = "mode-regularised GAN (Che 2017): encoder, reconstruction, mode regulariser"
    option_defaults = {"lambda1": 0.2, "lambda2": 0.4}

    zero_allowed = ("lambda1", "lambda2")

    def build_players(self) -> list[Player]:
        self.encoder = self.build_discriminator(out_dim=self.config.z_dim, packed=False)
        self.autoencoder = nn.ModuleDict({"generator": self.generator, "encoder": self.encoder})
        lr_d = self.config.lr_d or self.lr[0]
        lr_g = self.config.lr_g or self.lr[1]
        return [Player("D", self.discriminator, self.make_optimizer(self.discriminator, lr_d)),
                Player("G", self.autoencoder, self.make_optimizer(self.autoencoder, lr_g))]

    def d_loss_terms(self, real, fake_x, fake_y):
        real_logits, fake_logits = self.score_pair(real, fake_x, fake_y)
        return {"bce": bce_d(real_logits, fake_logits)}

    def g_loss_terms(self, real, fake_x, fake_y):
        fake_logits, _ = self.discriminate(fake_x)
        reconstruction = self.generator(self.encoder(real["x"])[0])
        rec_logits, _ = self.discriminate(reconstruction)
        return {"non-saturating": g_non_saturating(fake_logits),
                "reconstruction": float(self.options["lambda1"]) * distance(real["x"],
                                                                            reconstruction),
                "mode_regularizer": float(self.options["lambda2"]) * log_d(rec_logits).mean()}


@register
class MDGAN(MRGAN):
    """Manifold-diffusion GAN, the two-step training of Che et al. 2017, each round:

    1. manifold step: D_manifold tells x from G(E(x)); G and E minimise
       lambda1 d(x, G(E(x))) - log D_manifold(G(E(x)));
    2. diffusion step: D_diffusion tells G(E(x)) (as real) from G(z); G minimises
       -log D_diffusion(G(z)).

    Players in update order: D_manifold, manifold (G and E), D_diffusion, diffusion (G, with an
    optimizer of its own).
    """

    name = "mdgan"
    description = "manifold-diffusion GAN (Che 2017): two-step manifold and diffusion training"
    option_defaults = {"lambda1": 0.2}

    def build_players(self) -> list[Player]:
        self.encoder = self.build_discriminator(out_dim=self.config.z_dim, packed=False)
        self.autoencoder = nn.ModuleDict({"generator": self.generator, "encoder": self.encoder})
        self.diffusion_discriminator = self.build_discriminator(**self.d_kwargs())
        lr_d = self.config.lr_d or self.lr[0]
        lr_g = self.config.lr_g or self.lr[1]
        opt = self.make_optimizer
        return [Player("D_manifold", self.discriminator, opt(self.discriminator, lr_d)),
                Player("manifold", self.autoencoder, opt(self.autoencoder, lr_g)),
                Player("D_diffusion", self.diffusion_discriminator,
                       opt(self.diffusion_discriminator, lr_d)),
                Player("diffusion", self.generator, opt(self.generator, lr_g))]

    def schedule(self) -> dict[str, int]:
        return {player.name: 1 for player in self._players}

    def _diffuse(self, x, labels=None):
        return self.diffusion_discriminator(pack(x, self.config.pack))

    def loss_fns(self, batch: dict[str, torch.Tensor]) -> dict:
        real = self.slices(batch)[0]["x"]
        n = len(real)
        lambda1 = float(self.options["lambda1"])

        def d_manifold():
            with torch.no_grad():
                reconstruction = self.generator(self.encoder(real)[0])
            real_logits, _ = self.discriminate(real)
            rec_logits, _ = self.discriminate(reconstruction)
            return _total({"bce": bce_d(real_logits, rec_logits)})

        def manifold():
            reconstruction = self.generator(self.encoder(real)[0])
            rec_logits, _ = self.discriminate(reconstruction)
            return _total({"reconstruction": lambda1 * distance(real, reconstruction),
                           "non-saturating": g_non_saturating(rec_logits)})

        def d_diffusion():
            with torch.no_grad():
                reconstruction = self.generator(self.encoder(real)[0])
                fake = self.generator(self.sample_z(n))
            rec_logits, _ = self._diffuse(reconstruction)
            fake_logits, _ = self._diffuse(fake)
            return _total({"bce": bce_d(rec_logits, fake_logits)})

        def diffusion():
            fake_logits, _ = self._diffuse(self.generator(self.sample_z(n)))
            return _total({"non-saturating": g_non_saturating(fake_logits)})

        return {"D_manifold": d_manifold, "manifold": manifold, "D_diffusion": d_diffusion,
                "diffusion": diffusion}
