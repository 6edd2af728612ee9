"""The matching-aware critic (Reed et al. 2016) and GAN-CLS, plus the stage bookkeeping that
the multi-stage variants share (`gan_core.variants.multistage`).

Data are labelled images ({"x": (N, C, S, S) in [-1, 1], "y": (N,) int64}); the condition is
the one-hot label, standing in for the papers' text embeddings. Networks are in
`gan_core.i2i_stages`, losses in `gan_core.i2i_losses`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.i2i_losses import MatchingAwareCriticLoss, adversarial
from gan_core.i2i_stages import ConditionalCritic, ConditionedGenerator
from gan_core.player import Player
from gan_core.variants import register
from gan_core.variants.base import DataInfo, GanConfig, Variant


def wrong_labels(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """For each label, a different one drawn uniformly from the other K - 1 classes."""
    shift = torch.randint(1, num_classes, labels.shape, device=labels.device)
    return (labels + shift) % num_classes


def adam(module: nn.Module, lr: float, betas) -> torch.optim.Optimizer:
    """Adam over `module`'s parameters (every player here uses it, DCGAN's betas by default)."""
    return torch.optim.Adam(module.parameters(), lr=lr, betas=betas)


def eval_mode(modules: list[nn.Module]) -> list[bool]:
    """Put `modules` in eval mode; returns their previous `training` flags to restore."""
    states = [m.training for m in modules]
    for m in modules:
        m.eval()
    return states


class StagedVariant(Variant):
    """Bookkeeping shared by the variants that train stage by stage (or in one stage).

    `rounds` counts calls of `loss_fns` (one per training round) and is saved as extra state.
    The stage boundaries follow `config.iterations`, so a resume may not change them.
    """

    stages = 1
    schedule_follows_iterations = True

    def __init__(self, config: GanConfig, data_info: DataInfo):
        super().__init__(config, data_info)
        self.rounds = 0
        self.betas = config.betas or (0.5, 0.999)

    def current_stage(self) -> int:
        """The stage this round trains: rounds split evenly over the stages, in order."""
        per_stage = max(1, self.config.iterations // self.stages)
        return min(self.rounds // per_stage, self.stages - 1)

    def onehot(self, labels: torch.Tensor) -> torch.Tensor:
        return F.one_hot(labels, self.data_info.num_classes).float()

    def players(self) -> list[Player]:
        return self._players

    def extra_state(self) -> dict:
        return {"rounds": self.rounds}

    def load_extra_state(self, state: dict) -> None:
        self.rounds = int(state["rounds"])


class MatchingAware(StagedVariant):
    """The matching-aware critic step shared by GAN-CLS and StackGAN's stages."""

    kind = "conditional"
    data_kinds = ("images",)
    matching = MatchingAwareCriticLoss()

    def matching_losses(self, critic, generator_fn, real: torch.Tensor, labels: torch.Tensor):
        """(d_loss, g_loss) closures: D sees (real, right), (real, wrong), (fake, right)."""
        right = self.onehot(labels)

        def d_loss():
            wrong = self.onehot(wrong_labels(labels, self.data_info.num_classes))
            with torch.no_grad():
                fake, _ = generator_fn(right)
            return self.matching(critic(real, right), critic(real, wrong), critic(fake, right))

        def g_loss():
            fake, extra = generator_fn(right)
            terms = {"adv": adversarial(critic(fake, right), True, "bce"), **extra}
            return sum(terms.values()), terms

        return d_loss, g_loss

    @torch.no_grad()
    def critic_scores(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The (final) critic's logits for (image, label) pairs, (N,), in eval mode."""
        critic = self.critics[-1]
        state = eval_mode([critic])[0]
        try:
            return critic(images.to(self.device), self.onehot(labels.to(self.device)))
        finally:
            critic.train(state)

    def labels_for(self, n: int, labels: torch.Tensor | None) -> torch.Tensor:
        if labels is None:
            return torch.randint(self.data_info.num_classes, (n,), device=self.device)
        return labels[:n].to(self.device)


@register
class GanCls(MatchingAware):
    """GAN-CLS (Reed et al. 2016): a conditional DCGAN-style G(z, c) and a matching-aware
    critic D(x, c) trained on (real, right c), (real, wrong c) and (fake, right c) with
    L_D = BCE(s_r, 1) + (BCE(s_w, 0) + BCE(s_f, 0)) / 2 (the paper's
    log s_r + (log(1 - s_w) + log(1 - s_f)) / 2, maximised); G minimises -log s_f.
    Adam(2e-4, (0.5, 0.999)). No GAN-INT (interpolated embeddings): labels do not interpolate.
    """

    name = "gan-cls"
    description = "GAN-CLS (Reed 2016): matching-aware D on right/wrong/fake pairs; labels"

    def __init__(self, config: GanConfig, data_info: DataInfo):
        super().__init__(config, data_info)
        k, ch, size = data_info.num_classes, data_info.channels, data_info.image_size
        self.generator = ConditionedGenerator(config.z_dim, k, ch, size, config.width)
        self.critics = nn.ModuleList([ConditionalCritic(ch, size, k, config.width)])
        self._players = [
            Player("D", self.critics[0], adam(self.critics[0], config.lr_d or 2e-4, self.betas)),
            Player("G", self.generator, adam(self.generator, config.lr_g or 2e-4, self.betas))]

    def loss_fns(self, batch: dict[str, torch.Tensor]) -> dict:
        n = len(batch["x"])

        def generator_fn(condition):
            z = torch.randn(n, self.config.z_dim, device=condition.device)
            return self.generator(z, condition), {}

        d_loss, g_loss = self.matching_losses(self.critics[0], generator_fn, batch["x"],
                                              batch["y"])
        self.rounds += 1
        return {"D": d_loss, "G": g_loss}

    @torch.no_grad()
    def generate(self, n: int, batch: dict | None = None,
                 labels: torch.Tensor | None = None) -> torch.Tensor:
        """`n` images (n, C, S, S) of `labels` (n,) (uniform labels when None)."""
        labels = self.labels_for(n, labels)
        state = eval_mode([self.generator])[0]
        try:
            z = torch.randn(n, self.config.z_dim, device=self.device)
            return self.generator(z, self.onehot(labels))
        finally:
            self.generator.train(state)
