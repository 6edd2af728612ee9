"""Multi-stage GANs: LAPGAN and StackGAN.

Both train on labelled images ({"x": (N, C, S, S) in [-1, 1], "y": (N,) int64}); StackGAN's
condition is the one-hot label (standing in for the paper's text embedding). Networks are in
`gan_core.i2i_stages`, losses in `gan_core.i2i_losses`.

Both train their stages one after the other, as the papers do: the rounds are split evenly
between the stages, and each round only the current stage's players step (`loss_fns` leaves the
others out). The round counter is part of the variant's extra state, so a resumed run continues
in the right stage.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.errors import ConfigError
from gan_core.i2i_losses import adversarial, gaussian_kl
from gan_core.i2i_stages import (
    CoarseCritic,
    CoarseGenerator,
    ConditionalCritic,
    ConditioningAugmentation,
    LaplacianCritic,
    LaplacianStage,
    RefineGenerator,
    StageGenerator,
    downsample,
    upsample,
)
from gan_core.player import Player
from gan_core.variants import register
from gan_core.variants.base import DataInfo, GanConfig
from gan_core.variants.matching import MatchingAware, StagedVariant, adam, eval_mode


@register
class LAPGAN(StagedVariant):
    """LAPGAN (Denton et al. 2015): a Laplacian pyramid of GANs.

    Level 0 is an MLP GAN generating the coarsest image (side S / 2**levels). Level k >= 1
    generates the band-pass residual h_k = I_k - u(d(I_k)) given the up-sampled coarser image
    u(d(I_k)) and a noise plane (d: 2x2 average pooling, u: bilinear up-sampling); its critic
    judges (h, u(d(I_k))). Each level trains on real pyramids, level by level; sampling
    chains them: I_0 = G_0(z), I_k = u(I_{k-1}) + G_k(u(I_{k-1})). Cross-entropy losses,
    Adam(2e-4, (0.5, 0.999)).

    Options: levels (2: 4 -> 8 -> 16 px at S = 16).
    """

    name = "lapgan"
    kind = "unconditional"
    data_kinds = ("images",)
    option_defaults = {"levels": 2}
    description = "LAPGAN (Denton 2015): Laplacian pyramid of residual GANs, level by level"

    @classmethod
    def check_options(cls, options: dict) -> None:
        super().check_options(options)
        levels = options.get("levels", 2)
        if isinstance(levels, bool) or not isinstance(levels, int) or not 1 <= levels <= 3:
            raise ConfigError(f"option levels = {levels!r} must be 1, 2 or 3")

    def __init__(self, config: GanConfig, data_info: DataInfo):
        super().__init__(config, data_info)
        levels, size, ch = int(self.options["levels"]), data_info.image_size, data_info.channels
        if size // 2**levels < 4:
            raise ConfigError(f"lapgan with {levels} levels at {size} px leaves a coarsest "
                              f"image of {size // 2**levels} px; use fewer levels (>= 4 px)")
        self.stages = levels + 1
        self.coarse_size = size // 2**levels
        lr_d, lr_g = config.lr_d or 2e-4, config.lr_g or 2e-4
        self.generators = nn.ModuleList([CoarseGenerator(config.z_dim, ch, self.coarse_size)])
        self.critics = nn.ModuleList([CoarseCritic(ch, self.coarse_size)])
        for level in range(1, self.stages):
            self.generators.append(LaplacianStage(ch, width=2 * config.width))
            self.critics.append(LaplacianCritic(ch, self.coarse_size * 2**level, config.width))
        self._players = []
        for level in range(self.stages):
            self._players += [
                Player(f"D{level}", self.critics[level],
                       adam(self.critics[level], lr_d, self.betas)),
                Player(f"G{level}", self.generators[level],
                       adam(self.generators[level], lr_g, self.betas))]

    def pyramid(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Low-pass images from coarsest (level 0) to finest (the input)."""
        levels = [images]
        for _ in range(self.stages - 1):
            levels.insert(0, downsample(levels[0]))
        return levels

    def loss_fns(self, batch: dict[str, torch.Tensor]) -> dict:
        level = self.current_stage()
        self.rounds += 1
        real = self.pyramid(batch["x"])[level]
        critic, generator = self.critics[level], self.generators[level]
        n = len(real)
        if level == 0:
            def fake_fn():
                return generator(torch.randn(n, self.config.z_dim, device=real.device))
            judge, real_in = critic, real
        else:
            coarse_up = upsample(downsample(real))

            def fake_fn():
                return generator(coarse_up)

            def judge(residual):
                return critic(residual, coarse_up)

            real_in = real - coarse_up

        def d_loss():
            with torch.no_grad():
                fake = fake_fn()
            real_term = adversarial(judge(real_in), True, "bce")
            fake_term = adversarial(judge(fake), False, "bce")
            return real_term + fake_term, {"real": real_term, "fake": fake_term}

        def g_loss():
            adv = adversarial(judge(fake_fn()), True, "bce")
            return adv, {"adv": adv}

        return {f"D{level}": d_loss, f"G{level}": g_loss}

    @torch.no_grad()
    def refine(self, level: int, coarse: torch.Tensor) -> torch.Tensor:
        """Level `level`'s image from the coarser image `coarse` (N, C, s, s) -> (N, C, 2s, 2s)."""
        generator = self.generators[level]
        state = eval_mode([generator])[0]
        try:
            coarse_up = upsample(coarse)
            return (coarse_up + generator(coarse_up)).clamp(-1.0, 1.0)
        finally:
            generator.train(state)

    @torch.no_grad()
    def generate(self, n: int, batch: dict | None = None) -> torch.Tensor:
        """`n` images (n, C, S, S), generated coarse to fine through every level."""
        coarse = self.generators[0]
        state = eval_mode([coarse])[0]
        try:
            image = coarse(torch.randn(n, self.config.z_dim, device=self.device))
        finally:
            coarse.train(state)
        for level in range(1, self.stages):
            image = self.refine(level, image)
        return image


@register
class StackGAN(MatchingAware):
    """StackGAN (Zhang et al. 2017): stage I draws a low-resolution image from (z, c_hat),
    stage II refines it to full resolution from (stage I image, c_hat'); each stage has its own
    conditioning augmentation (c_hat ~ N(mu(c), sigma(c)^2), KL term of weight kl_weight in
    the generator loss) and a matching-aware critic. Stage I trains for the first half of the
    rounds, stage II (stage I frozen) for the second, as in the paper.

    Options: stage1_size (S / 2, i.e. 8 px at 16 px; the paper goes 64 -> 256 px, 4x, but a
    4 px stage I is too poor to refine: in `benchmarks/bench_i2i.py` stage II then scored a
    Frechet distance of 324 against stage I's 245, at 8 px 30 against 74), kl_weight (1.0),
    code_dim (16, the conditioning code's size).
    """

    name = "stackgan"
    description = "StackGAN (Zhang 2017): stage I low-res + stage II refine, conditioning aug."
    option_defaults = {"stage1_size": 0, "kl_weight": 1.0, "code_dim": 16}
    stages = 2

    zero_allowed = ("stage1_size", "kl_weight")

    def __init__(self, config: GanConfig, data_info: DataInfo):
        super().__init__(config, data_info)
        k, ch, size = data_info.num_classes, data_info.channels, data_info.image_size
        low = int(self.options["stage1_size"]) or size // 2
        if low < 4 or size % low or (size // low) & (size // low - 1):
            raise ConfigError(f"stage1_size {low} must be >= 4 px and divide {size} px by a "
                              "power of two (e.g. stage1_size 8 at 16 px)")
        code, width = int(self.options["code_dim"]), config.width
        self.low_size, self.kl_weight = low, float(self.options["kl_weight"])
        self.stage1 = nn.ModuleDict({"ca": ConditioningAugmentation(k, code),
                                     "g": StageGenerator(config.z_dim, code, ch, low, width)})
        self.stage2 = nn.ModuleDict({"ca": ConditioningAugmentation(k, code),
                                     "g": RefineGenerator(ch, code, size // low, width)})
        self.critics = nn.ModuleList([ConditionalCritic(ch, low, k, width),
                                      ConditionalCritic(ch, size, k, width)])
        lr_d, lr_g = config.lr_d or 2e-4, config.lr_g or 2e-4
        self._players = [
            Player("D1", self.critics[0], adam(self.critics[0], lr_d, self.betas)),
            Player("G1", self.stage1, adam(self.stage1, lr_g, self.betas)),
            Player("D2", self.critics[1], adam(self.critics[1], lr_d, self.betas)),
            Player("G2", self.stage2, adam(self.stage2, lr_g, self.betas))]

    def stage_one(self, z: torch.Tensor, condition: torch.Tensor):
        """Stage I images (N, C, s, s) and the KL term of its conditioning augmentation."""
        code, mu, logvar = self.stage1["ca"](condition)
        return self.stage1["g"](z, code), gaussian_kl(mu, logvar)

    def stage_two(self, low: torch.Tensor, condition: torch.Tensor):
        """Stage II images (N, C, S, S) refined from `low`, and its KL term."""
        code, mu, logvar = self.stage2["ca"](condition)
        return self.stage2["g"](low, code), gaussian_kl(mu, logvar)

    def loss_fns(self, batch: dict[str, torch.Tensor]) -> dict:
        stage = self.current_stage()
        self.rounds += 1
        real, n = batch["x"], len(batch["x"])
        if stage == 0:
            real = F.interpolate(real, size=self.low_size, mode="area")

        def generator_fn(condition):
            z = torch.randn(n, self.config.z_dim, device=condition.device)
            if stage == 0:
                fake, kl = self.stage_one(z, condition)
            else:
                with torch.no_grad():
                    states = eval_mode([self.stage1])
                    low, _ = self.stage_one(z, condition)
                    self.stage1.train(states[0])
                fake, kl = self.stage_two(low, condition)
            return fake, {"kl": self.kl_weight * kl}

        d_loss, g_loss = self.matching_losses(self.critics[stage], generator_fn, real, batch["y"])
        return {f"D{stage + 1}": d_loss, f"G{stage + 1}": g_loss}

    @torch.no_grad()
    def generate(self, n: int, batch: dict | None = None, labels: torch.Tensor | None = None,
                 stage: int = 2) -> torch.Tensor:
        """`n` images of `labels`: stage II (n, C, S, S), or stage I (n, C, s, s) if stage=1."""
        labels = self.labels_for(n, labels)
        modules = [self.stage1, self.stage2]
        states = eval_mode(modules)
        try:
            z = torch.randn(n, self.config.z_dim, device=self.device)
            low, _ = self.stage_one(z, self.onehot(labels))
            return low if stage == 1 else self.stage_two(low, self.onehot(labels))[0]
        finally:
            for module, state in zip(modules, states, strict=True):
                module.train(state)
