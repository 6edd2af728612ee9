"""`AdversarialVariant`: the generator-against-discriminator layout most variants share.

Subclasses choose the discriminator (`d_kwargs`), optimizers and the two losses
(`d_loss_terms`, `g_loss_terms`); this class builds the networks for the data (MLPs for points,
DCGAN-style for images, or as `config.network` says), packs discriminator inputs (PacGAN),
hands the discriminator a fresh slice of the batch for each of its steps, and detaches the
fakes of the discriminator's loss.
"""

from __future__ import annotations

from abc import abstractmethod

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.errors import ConfigError
from gan_core.losses import pack
from gan_core.networks import ConvDiscriminator, ConvGenerator, MLPDiscriminator, MLPGenerator
from gan_core.player import Player
from gan_core.variants.base import DataInfo, GanConfig, Variant


class AdversarialVariant(Variant):
    """A generator G and a discriminator D updated in the order [D, G].

    Class attributes (defaults of the published setups; config values override them):
        lr: (lr_d, lr_g).
        betas: Adam's betas.
        optimizer: "adam" or "rmsprop".
        n_critic: discriminator steps per generator step.
    """

    lr: tuple[float, float] = (2e-4, 2e-4)
    betas: tuple[float, float] = (0.5, 0.999)
    optimizer: str = "adam"
    n_critic: int = 1

    def __init__(self, config: GanConfig, data_info: DataInfo):
        super().__init__(config, data_info)
        network = config.network
        if network == "auto":
            network = "conv" if data_info.is_image else "mlp"
        if network == "mlp" and data_info.is_image:
            raise ConfigError(f"network 'mlp' is for 2-D points; data {data_info.name!r} holds "
                              "images: use --network conv or auto")
        if network == "conv" and not data_info.is_image:
            raise ConfigError(f"network 'conv' is for images; data {data_info.name!r} holds "
                              "points: use --network mlp or auto")
        self.network = network
        self.conditional = self.kind == "conditional"
        self.num_classes = data_info.num_classes if self.conditional else 0
        self.generator = self.build_generator()
        self.discriminator = self.build_discriminator(**self.d_kwargs())
        self._players = self.build_players()

    # -- networks -------------------------------------------------------------------------

    def d_kwargs(self) -> dict:
        """Extra discriminator arguments (norm, spectral, minibatch, out_dim)."""
        return {}

    def build_generator(self) -> nn.Module:
        """G for the data: z (N, z_dim) [+ one-hot] -> samples."""
        c, info = self.config, self.data_info
        if self.network == "mlp":
            return MLPGenerator(c.z_dim, info.dim, c.width, self.num_classes)
        return ConvGenerator(c.z_dim, info.channels, info.image_size, c.width, self.num_classes)

    def build_discriminator(self, norm: str = "batch", spectral: bool = False,
                            minibatch: int = 0, out_dim: int = 1, packed: bool = True) -> nn.Module:
        """D (or an encoder, with out_dim = z_dim and packed = False) for the data."""
        c, info = self.config, self.data_info
        m = c.pack if packed else 1
        cond = self.num_classes * m
        if self.network == "mlp":
            return MLPDiscriminator(info.dim * m, c.width, cond, spectral, minibatch, out_dim)
        return ConvDiscriminator(info.channels * m, info.image_size, c.width, cond, norm,
                                 spectral, minibatch, out_dim)

    def make_optimizer(self, module: nn.Module, lr: float) -> torch.optim.Optimizer:
        """The variant's optimizer over `module`'s parameters."""
        if self.optimizer == "rmsprop":
            return torch.optim.RMSprop(module.parameters(), lr=lr)
        betas = self.config.betas or self.betas
        return torch.optim.Adam(module.parameters(), lr=lr, betas=betas)

    def build_players(self) -> list[Player]:
        """[D, G] with their optimizers; subclasses add hooks or players."""
        lr_d = self.config.lr_d or self.lr[0]
        lr_g = self.config.lr_g or self.lr[1]
        return [Player("D", self.discriminator, self.make_optimizer(self.discriminator, lr_d)),
                Player("G", self.generator, self.make_optimizer(self.generator, lr_g))]

    def players(self) -> list[Player]:
        return self._players

    def schedule(self) -> dict[str, int]:
        return {"D": self.n_critic, "G": 1}

    # -- helpers --------------------------------------------------------------------------

    def sample_z(self, n: int) -> torch.Tensor:
        """Noise z ~ N(0, I), (n, z_dim), on the variant's device."""
        return torch.randn(n, self.config.z_dim, device=self.device)

    def onehot(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        """One-hot labels (N, K) as floats, or None for unconditional variants."""
        if not self.conditional:
            return None
        return F.one_hot(labels, self.num_classes).float()

    def fake_labels(self, n: int) -> torch.Tensor | None:
        """Uniformly drawn labels for generated samples (conditional variants), else None."""
        if not self.conditional:
            return None
        return torch.randint(self.num_classes, (n,), device=self.device)

    def _packed(self, x: torch.Tensor, labels: torch.Tensor | None):
        """D's inputs: `x` and the one-hot labels (or None), packed in groups of `pack`."""
        m = self.config.pack
        onehot = self.onehot(labels)
        return pack(x, m), None if onehot is None else pack(onehot, m)

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None):
        """D on packed `x` (N, ...): returns (scores (N/m,), features (N/m, F))."""
        return self.discriminator(*self._packed(x, labels))

    def d_features(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """D's last hidden layer on packed `x` (N/m, F), skipping the head (and the minibatch
        features, whose pairwise distances cost more than the rest of D)."""
        return self.discriminator.features(*self._packed(x, labels))

    def score_pair(self, real: dict, fake_x: torch.Tensor, fake_y=None):
        """D's scores of the real batch and of the fakes (labels used by conditional variants
        only): ((N/m,), (N/m,))."""
        return (self.discriminate(real["x"], real.get("y"))[0],
                self.discriminate(fake_x, fake_y)[0])

    def slices(self, batch: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        """Split the round's batch into `batch_multiple()` batches of `batch_size`."""
        size = self.config.batch_size
        count = max(1, len(batch["x"]) // size)
        return [{k: v[i * size:(i + 1) * size] for k, v in batch.items()} for i in range(count)]

    # -- losses ---------------------------------------------------------------------------

    @abstractmethod
    def d_loss_terms(self, real: dict, fake_x: torch.Tensor, fake_y) -> dict[str, torch.Tensor]:
        """The discriminator's loss terms; their sum is minimised. `fake_x` is detached."""

    @abstractmethod
    def g_loss_terms(self, real: dict, fake_x: torch.Tensor, fake_y) -> dict[str, torch.Tensor]:
        """The generator's loss terms; their sum is minimised."""

    def loss_fns(self, batch: dict[str, torch.Tensor]) -> dict:
        """D's and G's losses for this round. Each D step takes the next batch slice and fresh
        noise. The last D step of the round generates its fakes with G's graph kept (D sees
        them detached) and the G step reuses them, so that one round runs G forward once per D
        step, as the usual single-loop DCGAN code does."""
        slices = self.slices(batch)
        steps = iter(range(10**9))
        d_steps = self.schedule().get("D", 1)
        kept: dict = {}

        def d_loss():
            step = next(steps)
            real = slices[step % len(slices)]
            n = len(real["x"])
            fake_y = self.fake_labels(n)
            with torch.set_grad_enabled(step + 1 == d_steps):
                fake_x = self.generator(self.sample_z(n), self.onehot(fake_y))
            if fake_x.requires_grad:
                kept["fake"] = (fake_x, fake_y)
            return _total(self.d_loss_terms(real, fake_x.detach(), fake_y))

        def g_loss():
            real = slices[0]
            if "fake" in kept:
                fake_x, fake_y = kept.pop("fake")
            else:
                fake_y = self.fake_labels(len(real["x"]))
                fake_x = self.generator(self.sample_z(len(real["x"])), self.onehot(fake_y))
            return _total(self.g_loss_terms(real, fake_x, fake_y))

        return {"D": d_loss, "G": g_loss}

    @torch.no_grad()
    def generate(self, n: int, batch: dict | None = None, labels: torch.Tensor | None = None):
        """`n` samples; conditional variants take `labels` (n,) or draw them uniformly."""
        was_training = self.generator.training
        self.generator.eval()
        try:
            if self.conditional and labels is None:
                labels = self.fake_labels(n)
            onehot = self.onehot(labels.to(self.device)) if self.conditional else None
            return self.generator(self.sample_z(n), onehot)
        finally:
            self.generator.train(was_training)


def _total(terms: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
    loss = sum(terms.values())
    return loss, {name: value.detach() for name, value in terms.items()}
