"""Energy-based GAN (Zhao et al. 2017): the discriminator is an autoencoder whose
reconstruction error is the energy of a sample."""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from gan_core.losses import pull_away
from gan_core.networks import AutoencoderDiscriminator
from gan_core.variants import register
from gan_core.variants.adversarial import AdversarialVariant


@register
class EBGAN(AdversarialVariant):
    """EBGAN with the margin loss and the pull-away term.

    D minimises D(x) + max(0, margin - D(G(z))); G minimises D(G(z)) + pt_weight * PT(S),
    where D(.) is the mean squared reconstruction error (per sample, so the margin does not
    depend on the image size) and S are the autoencoder codes of the generated batch
    (`gan_core.losses.pull_away`). Departure: the paper sums the squared error; with the mean,
    margin 1.0 plays the role of the paper's per-image margins.
    """

    name = "ebgan"
    description = "energy-based GAN (Zhao 2017): autoencoder D, margin loss, pull-away term"
    option_defaults = {"margin": 1.0, "pt_weight": 0.1}

    zero_allowed = ("margin", "pt_weight")

    def build_discriminator(self, **_) -> nn.Module:
        c, info = self.config, self.data_info
        m = c.pack
        shape = (info.channels * m, info.image_size) if self.network == "conv" else (info.dim * m,)
        return AutoencoderDiscriminator(shape, c.width)

    def d_loss_terms(self, real, fake_x, fake_y):
        real_energy, fake_energy = self.score_pair(real, fake_x, fake_y)
        margin = float(self.options["margin"])
        return {"real_energy": real_energy.mean(),
                "margin": F.relu(margin - fake_energy).mean()}

    def g_loss_terms(self, real, fake_x, fake_y):
        fake_energy, codes = self.discriminate(fake_x)
        return {"fake_energy": fake_energy.mean(),
                "pull_away": float(self.options["pt_weight"]) * pull_away(codes)}
