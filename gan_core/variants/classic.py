"""Cross-entropy and least-squares GANs: gan, dcgan, cgan, improved-gan, lsgan."""

from __future__ import annotations

from gan_core.errors import ConfigError
from gan_core.losses import (
    bce_d,
    feature_matching,
    g_non_saturating,
    g_saturating,
    lsgan_d,
    lsgan_g,
    r1_penalty,
)
from gan_core.variants import register
from gan_core.variants.adversarial import AdversarialVariant

G_LOSSES = {"saturating": g_saturating, "non-saturating": g_non_saturating}


@register
class VanillaGAN(AdversarialVariant):
    """Goodfellow et al. 2014. D minimises the cross-entropy; G minimises log(1 - D(G(z)))
    ("saturating", the minimax game) or -log D(G(z)) ("non-saturating", option g_loss).

    Option r1 (default 0, off): adds Mescheder et al. 2018's R1 penalty, r1 / 2 times the
    squared norm of D's gradient on real samples, to D's loss. On the 2-D mixtures it stops the
    mode dropping of both generator losses (see the benchmark).
    """

    name = "gan"
    description = ("vanilla GAN (Goodfellow 2014); --g-loss saturating|non-saturating, "
                   "--option r1=GAMMA for the R1 penalty")
    option_defaults = {"g_loss": "non-saturating", "r1": 0.0}
    zero_allowed = ("r1",)

    @classmethod
    def check_options(cls, options: dict) -> None:
        super().check_options(options)
        g_loss = options.get("g_loss", cls.option_defaults.get("g_loss"))
        if g_loss not in G_LOSSES:
            raise ConfigError(f"g_loss {g_loss!r} must be one of {sorted(G_LOSSES)}")

    def d_loss_terms(self, real, fake_x, fake_y):
        gamma = float(self.options["r1"])
        if gamma:
            real = {**real, "x": real["x"].detach().requires_grad_(True)}
        real_logits, fake_logits = self.score_pair(real, fake_x, fake_y)
        terms = {"bce": bce_d(real_logits, fake_logits)}
        if gamma:
            terms["r1"] = gamma * r1_penalty(real_logits, real["x"])
        return terms

    def g_loss_terms(self, real, fake_x, fake_y):
        fake_logits, _ = self.discriminate(fake_x, fake_y)
        return {self.options["g_loss"]: G_LOSSES[self.options["g_loss"]](fake_logits)}


@register
class DCGAN(VanillaGAN):
    """Radford et al. 2016: the DCGAN networks (see `gan_core.networks`), Adam(2e-4, 0.5),
    the non-saturating generator loss. Images only."""

    name = "dcgan"
    description = "DCGAN (Radford 2016): convolutional G and D with batch norm; images only"
    data_kinds = ("images",)


@register
class ConditionalGAN(VanillaGAN):
    """Mirza and Osindero 2014: G(z, y) and D(x, y) both see the one-hot label y (MLPs: it is
    concatenated to the input; convolutional D: as K constant input maps). Generated samples'
    labels are drawn uniformly."""

    name = "cgan"
    kind = "conditional"
    description = "conditional GAN (Mirza 2014): labels in both players"


@register
class ImprovedGAN(AdversarialVariant):
    """Salimans et al. 2016's techniques for the generator-discriminator game:

    - feature matching: G minimises ||mean f(x) - mean f(G(z))||^2 on D's last hidden layer;
    - minibatch discrimination in D (option minibatch_kernels);
    - one-sided label smoothing: real targets `real_target` (0.9), fake targets 0.

    Departure: historical averaging and virtual batch norm are not included.
    """

    name = "improved-gan"
    description = ("improved GAN (Salimans 2016): feature matching, minibatch discrimination, "
                   "one-sided label smoothing")
    option_defaults = {"real_target": 0.9, "minibatch_kernels": 16}
    zero_allowed = ("minibatch_kernels",)

    def d_kwargs(self) -> dict:
        return {"minibatch": int(self.options["minibatch_kernels"])}

    def d_loss_terms(self, real, fake_x, fake_y):
        real_logits, fake_logits = self.score_pair(real, fake_x, fake_y)
        return {"bce": bce_d(real_logits, fake_logits, float(self.options["real_target"]))}

    def g_loss_terms(self, real, fake_x, fake_y):
        real_features = self.d_features(real["x"], real.get("y"))
        fake_features = self.d_features(fake_x, fake_y)
        return {"feature_matching": feature_matching(real_features.detach(), fake_features)}


@register
class LSGAN(AdversarialVariant):
    """Mao et al. 2017: least-squares losses with targets a = 0 (fake), b = c = 1 (real)."""

    name = "lsgan"
    description = "least-squares GAN (Mao 2017)"

    def d_loss_terms(self, real, fake_x, fake_y):
        real_scores, fake_scores = self.score_pair(real, fake_x, fake_y)
        return {"least_squares": lsgan_d(real_scores, fake_scores)}

    def g_loss_terms(self, real, fake_x, fake_y):
        fake_scores, _ = self.discriminate(fake_x)
        return {"least_squares": lsgan_g(fake_scores)}
