"""Image-to-image GANs: pix2pix (paired), and CycleGAN, DualGAN, DiscoGAN (unpaired, two-way).

Batches are {"a": (N, C_a, H, W), "b": (N, C_b, H, W)} in [-1, 1] (see `gan_core.i2i_data`).
`generate(n, batch)` translates `batch["a"][:n]` from A to B (and `translate_back` goes B -> A
for the two-way variants). Networks are in `gan_core.i2i_nets`, losses in `gan_core.i2i_losses`.

The two-way variants share one machinery (`TwoWayVariant`): player "D" holds both critics
(D_A judges domain A, D_B domain B) and player "G" both generators (G: A -> B, F: B -> A), each
pair with one optimizer; they differ in networks, adversarial loss, reconstruction distance,
weights and optimizer.
"""

from __future__ import annotations

from abc import abstractmethod

import torch
from torch import nn

from gan_core.errors import ConfigError
from gan_core.i2i_losses import (
    ClippedRMSprop,
    CriticLoss,
    ImagePool,
    Pix2PixGeneratorLoss,
    TwoWayGeneratorLoss,
)
from gan_core.i2i_nets import NORMS, PatchDiscriminator, ResnetGenerator, TwoWay, UNetGenerator
from gan_core.i2i_stages import ConditionalCritic
from gan_core.player import Player
from gan_core.variants import register
from gan_core.variants.base import DataInfo, GanConfig, Variant


def _slices(batch: dict[str, torch.Tensor], size: int) -> list[dict[str, torch.Tensor]]:
    # The runner draws batch_multiple() * batch_size samples; each critic step gets its own.
    count = max(1, len(batch["a"]) // size)
    return [{k: v[i * size:(i + 1) * size] for k, v in batch.items()} for i in range(count)]


@register
class Pix2Pix(Variant):
    """pix2pix (Isola et al. 2017): a U-Net generator with skips, a PatchGAN critic on the
    (input, output) pair, and L_G = BCE(D(a, G(a)), 1) + lambda_l1 * |b - G(a)|_1 (lambda 100);
    the critic's loss is halved; Adam(2e-4, betas (0.5, 0.999)).

    Departure: samples are drawn with the networks in eval mode (no test-time dropout, batch
    norm with running statistics), so a translation is deterministic.

    Options: lambda_l1 (100), norm ("batch"), patch_layers (2 stride-2 critic layers).
    `config.width` is the channels of the first convolution of both networks.
    """

    name = "pix2pix"
    kind = "paired"
    data_kinds = ("paired",)
    option_defaults = {"lambda_l1": 100.0, "norm": "batch", "patch_layers": 2}
    zero_allowed = ("lambda_l1",)
    description = "pix2pix (Isola 2017): U-Net G, PatchGAN D on (input, output), + L1; paired"

    @classmethod
    def check_options(cls, options: dict) -> None:
        super().check_options(options)
        if options.get("norm", "batch") not in NORMS:
            raise ConfigError(f"option norm = {options['norm']!r} must be one of {NORMS}")

    def __init__(self, config: GanConfig, data_info: DataInfo):
        super().__init__(config, data_info)
        c_a, c_b, size = data_info.channels, data_info.channels_b, data_info.image_size
        self.generator = UNetGenerator(c_a, c_b, size, config.width, norm=self.options["norm"])
        self.critic = PatchDiscriminator(c_a + c_b, config.width,
                                         int(self.options["patch_layers"]), self.options["norm"])
        betas = config.betas or (0.5, 0.999)
        self._players = [
            Player("D", self.critic, torch.optim.Adam(self.critic.parameters(),
                                                      lr=config.lr_d or 2e-4, betas=betas)),
            Player("G", self.generator, torch.optim.Adam(self.generator.parameters(),
                                                         lr=config.lr_g or 2e-4, betas=betas))]
        self.critic_loss = CriticLoss("bce", weight=0.5)
        self.generator_loss = Pix2PixGeneratorLoss(float(self.options["lambda_l1"]))

    def players(self) -> list[Player]:
        return self._players

    def loss_fns(self, batch: dict[str, torch.Tensor]) -> dict:
        a, b = batch["a"], batch["b"]

        def d_loss():
            with torch.no_grad():
                fake = self.generator(a)
            return self.critic_loss(self.critic(torch.cat([a, b], 1)),
                                    self.critic(torch.cat([a, fake], 1)))

        def g_loss():
            fake = self.generator(a)
            return self.generator_loss(self.critic(torch.cat([a, fake], 1)), fake, b)

        return {"D": d_loss, "G": g_loss}

    @torch.no_grad()
    def generate(self, n: int, batch: dict | None = None) -> torch.Tensor:
        """Translations G(a) of `batch["a"][:n]` (default: the held-out inputs), (n, C_b, H, W)."""
        return _run_eval(self.generator, _inputs(self, n, batch))


def _inputs(variant: Variant, n: int, batch: dict | None) -> torch.Tensor:
    # Without a batch (`advgrasp gan sample`), translate the data set's held-out inputs.
    if batch is None:
        from gan_core.i2i_data import held_out

        batch = held_out(variant.config)
    if "a" not in batch or len(batch["a"]) < n:
        raise ConfigError(f"model {variant.name!r} translates images: pass a batch with at "
                          f"least {n} images under 'a'")
    return batch["a"][:n].to(variant.device)


def _run_eval(network: nn.Module, images: torch.Tensor) -> torch.Tensor:
    was_training = network.training
    network.eval()
    try:
        return network(images)
    finally:
        network.train(was_training)


class TwoWayVariant(Variant):
    """Shared machinery of the unpaired translators; subclasses pick networks and losses.

    Class attributes:
        adversarial_mode: "bce", "lsgan" or "wgan".
        distance_kind: "l1" or "l2" for reconstruction and identity.
        critic_weight: factor of the critic's loss (0.5 halves it).
        n_critic: critic steps per generator step.
        optimizer: "adam" or "rmsprop_clip" (RMSProp with weight clipping of the critics).
        lr, betas: learning rate of both players, Adam's betas.
    """

    kind = "unpaired"
    data_kinds = ("unpaired", "paired")
    adversarial_mode = "lsgan"
    distance_kind = "l1"
    critic_weight = 0.5
    n_critic = 1
    optimizer = "adam"
    lr = 2e-4
    betas = (0.5, 0.999)
    option_defaults = {"lambda_cycle": 10.0, "lambda_identity": 0.0, "pool_size": 0}

    zero_allowed = ("lambda_identity", "pool_size")

    def __init__(self, config: GanConfig, data_info: DataInfo):
        super().__init__(config, data_info)
        c_a, c_b = data_info.channels, data_info.channels_b
        identity = float(self.options["lambda_identity"])
        if identity > 0 and c_a != c_b:
            raise ConfigError(f"lambda_identity {identity} needs domains with the same channels "
                              f"(A has {c_a}, B {c_b}); set lambda_identity to 0")
        self.generators = TwoWay(self.build_generator(c_a, c_b), self.build_generator(c_b, c_a))
        self.critics = TwoWay(self.build_critic(c_a), self.build_critic(c_b))
        self._players = [Player("D", self.critics, self.make_optimizer(self.critics, "d")),
                         Player("G", self.generators, self.make_optimizer(self.generators, "g"))]
        self.critic_loss = CriticLoss(self.adversarial_mode, self.critic_weight)
        self.generator_loss = TwoWayGeneratorLoss(
            self.adversarial_mode, self.distance_kind, float(self.options["lambda_cycle"]),
            identity)
        self.pools = {"a": ImagePool(int(self.options["pool_size"])),
                      "b": ImagePool(int(self.options["pool_size"]))}

    @abstractmethod
    def build_generator(self, c_in: int, c_out: int) -> nn.Module:
        """One direction's generator, (N, c_in, S, S) -> (N, c_out, S, S)."""

    @abstractmethod
    def build_critic(self, channels: int) -> nn.Module:
        """One domain's critic, (N, channels, S, S) -> logits."""

    def make_optimizer(self, module: nn.Module, side: str) -> torch.optim.Optimizer:
        lr = (self.config.lr_d if side == "d" else self.config.lr_g) or self.lr
        if self.optimizer == "rmsprop_clip":
            if side == "d":
                return ClippedRMSprop(module.parameters(), lr=lr, clip=self.options["clip"])
            return torch.optim.RMSprop(module.parameters(), lr=lr)
        return torch.optim.Adam(module.parameters(), lr=lr, betas=self.config.betas or self.betas)

    def players(self) -> list[Player]:
        return self._players

    def schedule(self) -> dict[str, int]:
        return {"D": self.n_critic, "G": 1}

    def loss_fns(self, batch: dict[str, torch.Tensor]) -> dict:
        slices = _slices(batch, self.config.batch_size)
        steps = iter(range(10**9))
        g_ab, g_ba = self.generators.a_to_b, self.generators.b_to_a
        d_a, d_b = self.critics.a_to_b, self.critics.b_to_a

        def d_loss():
            real = slices[next(steps) % len(slices)]
            with torch.no_grad():
                fake_b, fake_a = g_ab(real["a"]), g_ba(real["b"])
            loss_b, terms_b = self.critic_loss(d_b(real["b"]), d_b(self.pools["b"].query(fake_b)))
            loss_a, terms_a = self.critic_loss(d_a(real["a"]), d_a(self.pools["a"].query(fake_a)))
            terms = {f"{k}_b": v for k, v in terms_b.items()}
            terms.update({f"{k}_a": v for k, v in terms_a.items()})
            return loss_a + loss_b, terms

        def g_loss():
            a, b = slices[0]["a"], slices[0]["b"]
            fake_b, fake_a = g_ab(a), g_ba(b)
            same = (g_ba(a), g_ab(b)) if self.generator_loss.lambda_identity > 0 else (None, None)
            return self.generator_loss(d_b(fake_b), d_a(fake_a), a, b, g_ba(fake_b), g_ab(fake_a),
                                       *same)

        return {"D": d_loss, "G": g_loss}

    @torch.no_grad()
    def generate(self, n: int, batch: dict | None = None) -> torch.Tensor:
        """Translations G(a) of `batch["a"][:n]` (default: held-out inputs) into domain B."""
        return _run_eval(self.generators.a_to_b, _inputs(self, n, batch))

    @torch.no_grad()
    def translate_back(self, images: torch.Tensor) -> torch.Tensor:
        """F(b): images of domain B (N, C_b, H, W) translated into domain A."""
        return _run_eval(self.generators.b_to_a, images.to(self.device))

    def extra_state(self) -> dict:
        return {"pools": {side: pool.state_dict() for side, pool in self.pools.items()}}

    def load_extra_state(self, state: dict) -> None:
        for side, pool in self.pools.items():
            pool.load_state_dict(state["pools"][side], self.device)


@register
class CycleGAN(TwoWayVariant):
    """CycleGAN (Zhu et al. 2017): ResNet generators both ways, PatchGAN critics with instance
    norm, least-squares adversarial loss, cycle loss (L1, lambda 10), identity loss (weight
    0.5 * lambda, its code's default for photo tasks), a pool of 50 past fakes per critic,
    Adam(2e-4, (0.5, 0.999)), critic loss halved.

    Options: lambda_cycle (10), lambda_identity (5), pool_size (50), blocks (2 residual blocks
    at the 4x4 bottleneck of 16 px images; the paper uses 6 at 128 px, 9 at 256 px).
    """

    name = "cyclegan"
    description = "CycleGAN (Zhu 2017): ResNet Gs, PatchGANs, LSGAN, cycle + identity, pool"
    option_defaults = {"lambda_cycle": 10.0, "lambda_identity": 5.0, "pool_size": 50,
                       "blocks": 2}

    def build_generator(self, c_in: int, c_out: int) -> nn.Module:
        return ResnetGenerator(c_in, c_out, self.config.width, int(self.options["blocks"]))

    def build_critic(self, channels: int) -> nn.Module:
        return PatchDiscriminator(channels, self.config.width, 2, norm="instance")


@register
class DualGAN(TwoWayVariant):
    """DualGAN (Yi et al. 2017): U-Net generators both ways, Wasserstein critics (no sigmoid,
    weights clipped to [-clip, clip] after every critic step, RMSProp 5e-5), L1 reconstruction
    with a large weight, no identity term, 2 critic steps per generator step.

    Options: lambda_cycle (reconstruction weight, 100), clip (0.01).
    """

    name = "dualgan"
    description = "DualGAN (Yi 2017): U-Net Gs, Wasserstein critics with clipping, L1 recon"
    adversarial_mode = "wgan"
    critic_weight = 1.0
    n_critic = 2
    optimizer = "rmsprop_clip"
    lr = 5e-5
    option_defaults = {"lambda_cycle": 100.0, "lambda_identity": 0.0, "pool_size": 0,
                       "clip": 0.01}

    def build_generator(self, c_in: int, c_out: int) -> nn.Module:
        return UNetGenerator(c_in, c_out, self.data_info.image_size, self.config.width)

    def build_critic(self, channels: int) -> nn.Module:
        return PatchDiscriminator(channels, self.config.width, 2, norm="batch")


@register
class DiscoGAN(TwoWayVariant):
    """DiscoGAN (Kim et al. 2017): encoder-decoder generators (no skips), convolutional critics
    giving one logit per image, the cross-entropy GAN loss, and a squared-error (L2)
    reconstruction loss of weight 1 each way; Adam(2e-4, (0.5, 0.999)); no pool, no identity.

    Options: lambda_cycle (1).
    """

    name = "discogan"
    description = "DiscoGAN (Kim 2017): encoder-decoder Gs, BCE, L2 reconstruction"
    adversarial_mode = "bce"
    distance_kind = "l2"
    critic_weight = 1.0
    option_defaults = {"lambda_cycle": 1.0, "lambda_identity": 0.0, "pool_size": 0}

    def build_generator(self, c_in: int, c_out: int) -> nn.Module:
        return UNetGenerator(c_in, c_out, self.data_info.image_size, self.config.width,
                             skips=False, dropout=0.0)

    def build_critic(self, channels: int) -> nn.Module:
        return ConditionalCritic(channels, self.data_info.image_size, width=self.config.width)
