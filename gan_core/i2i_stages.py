"""Networks of the multi-stage GANs: Laplacian pyramid stages (LAPGAN), stacked stages with
conditioning augmentation (StackGAN), and the conditional critic that GAN-CLS makes
matching-aware.

Images are (N, C, H, W) in [-1, 1]; a condition is a (N, cond_dim) float vector (a one-hot class
label or an attribute vector, standing in for the papers' text embeddings).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.i2i_nets import ResidualBlock, check_size


def downsample(image: torch.Tensor) -> torch.Tensor:
    """The pyramid's reduce step: 2x2 average pooling, (N, C, H, W) -> (N, C, H/2, W/2)."""
    return F.avg_pool2d(image, 2)


def upsample(image: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """The pyramid's expand step ("plain upsampling"): bilinear, (N, C, H, W) -> x `factor`."""
    return F.interpolate(image, scale_factor=factor, mode="bilinear", align_corners=False)


class ConditioningAugmentation(nn.Module):
    """StackGAN's conditioning augmentation (Zhang et al. 2017, section 3.1).

    The condition embedding phi is mapped to a Gaussian N(mu(phi), diag(sigma(phi)^2)) and a
    sample c = mu + sigma * eps, eps ~ N(0, I), conditions the generator; the generator loss
    adds KL(N(mu, sigma^2) || N(0, I)) so that the condition manifold stays smooth.

    Shapes:
        condition (N, cond_dim) -> (c, mu, logvar), each (N, out_dim).
    """

    def __init__(self, cond_dim: int, out_dim: int = 16):
        super().__init__()
        self.fc = nn.Linear(cond_dim, out_dim * 2)
        self.out_dim = out_dim

    def forward(self, condition: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = F.leaky_relu(self.fc(condition), 0.2).chunk(2, dim=1)
        c = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return c, mu, logvar


def _up_block(in_ch: int, out_ch: int) -> nn.Sequential:
    # StackGAN up-samples by nearest neighbour and a 3x3 convolution (no transposed conv).
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                         nn.Conv2d(in_ch, out_ch, 3, 1, 1, bias=False), nn.BatchNorm2d(out_ch),
                         nn.ReLU())


class StageGenerator(nn.Module):
    """A low-resolution generator: (z, condition code) -> image (StackGAN stage I, GAN-CLS's G).

    A linear layer to a 4x4 map of `width * 2**k` channels, then nearest up-sampling blocks
    that halve the channels up to `size`, then a 3x3 convolution with Tanh.

    Shapes:
        z (N, z_dim), code (N, code_dim) -> (N, channels, size, size).
    """

    def __init__(self, z_dim: int, code_dim: int, channels: int, size: int, width: int = 16):
        super().__init__()
        steps = check_size(size, smallest=4) - 2
        top = width * 2**steps
        self.fc = nn.Sequential(nn.Linear(z_dim + code_dim, top * 16, bias=False),
                                nn.BatchNorm1d(top * 16), nn.ReLU())
        self.top = top
        self.ups = nn.Sequential(*[_up_block(top // 2**i, top // 2**(i + 1))
                                   for i in range(steps)])
        self.out = nn.Sequential(nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        x = self.fc(torch.cat([z, code], dim=1)).view(-1, self.top, 4, 4)
        return self.out(self.ups(x))


class RefineGenerator(nn.Module):
    """StackGAN stage II: a low-resolution image and a condition code -> a larger image.

    The image is encoded (3x3 convolutions), the code is replicated spatially and joined on the
    channel axis, residual blocks mix them, and `log2(factor)` up-sampling blocks reach the
    output size.

    Shapes:
        low (N, C, s, s), code (N, code_dim) -> (N, C, s * factor, s * factor).
    """

    def __init__(self, channels: int, code_dim: int, factor: int = 4, width: int = 16,
                 blocks: int = 2):
        super().__init__()
        steps = check_size(factor, smallest=2)
        top = width * 2**steps
        self.encode = nn.Sequential(nn.Conv2d(channels, top, 3, 1, 1), nn.ReLU())
        self.join = nn.Sequential(nn.Conv2d(top + code_dim, top, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(top), nn.ReLU())
        self.blocks = nn.Sequential(*[ResidualBlock(top, "batch") for _ in range(blocks)])
        self.ups = nn.Sequential(*[_up_block(top // 2**i, top // 2**(i + 1))
                                   for i in range(steps)])
        self.out = nn.Sequential(nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, low: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        x = self.encode(low)
        tiled = code[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        x = self.blocks(self.join(torch.cat([x, tiled], dim=1)))
        return self.out(self.ups(x))


class ConditionalCritic(nn.Module):
    """A critic of (image, condition) pairs: StackGAN's D at either stage and GAN-CLS's D.

    Stride-2 4x4 convolutions take the image down to 4x4; the condition, compressed by a linear
    layer with LeakyReLU (as Reed et al. compress the text embedding), is replicated over the 4x4
    map and joined on the channel axis; a 1x1 convolution mixes them and a 4x4 one gives the
    logit. Without `cond_dim` it is an unconditional critic.

    Shapes:
        image (N, C, size, size), condition (N, cond_dim) or None -> (N,) logits.
    """

    def __init__(self, channels: int, size: int, cond_dim: int = 0, width: int = 16,
                 embed_dim: int = 16):
        super().__init__()
        steps = check_size(size, smallest=4) - 2
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2)]
        ch = width
        for _ in range(steps):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2),
                       nn.LeakyReLU(0.2)]
            ch *= 2
        self.image = nn.Sequential(*layers)
        self.embed = (nn.Sequential(nn.Linear(cond_dim, embed_dim), nn.LeakyReLU(0.2))
                      if cond_dim else None)
        joined = ch + (embed_dim if cond_dim else 0)
        self.head = nn.Sequential(nn.Conv2d(joined, ch, 1), nn.LeakyReLU(0.2),
                                  nn.Conv2d(ch, 1, 4))

    def forward(self, image: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        x = self.image(image)
        if self.embed is not None:
            code = self.embed(condition)[:, :, None, None].expand(-1, -1, 4, 4)
            x = torch.cat([x, code], dim=1)
        return self.head(x).flatten()


class LaplacianStage(nn.Module):
    """One LAPGAN level's generator (Denton et al. 2015): the band-pass residual h given the
    up-sampled coarser image l and a noise plane.

    Denton's CIFAR-10 level generators are a few 3x3 convolutions on (l, noise) stacked as
    channels; so is this one. The output is linear (a residual, not an image).

    Shapes:
        coarse_up (N, C, s, s) -> residual (N, C, s, s); the fine image is coarse_up + residual.
    """

    def __init__(self, channels: int, width: int = 32, layers: int = 3):
        super().__init__()
        parts: list[nn.Module] = []
        previous = channels + 1
        for _ in range(layers - 1):
            parts += [nn.Conv2d(previous, width, 3, 1, 1), nn.BatchNorm2d(width), nn.ReLU()]
            previous = width
        parts.append(nn.Conv2d(previous, channels, 3, 1, 1))
        self.net = nn.Sequential(*parts)

    def forward(self, coarse_up: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        if noise is None:
            noise = torch.randn_like(coarse_up[:, :1])
        return self.net(torch.cat([coarse_up, noise], dim=1))


class LaplacianCritic(nn.Module):
    """A LAPGAN level's discriminator: is h a real residual for the coarse image l?

    Shapes:
        residual (N, C, s, s), coarse_up (N, C, s, s) -> (N,) logits.
    """

    def __init__(self, channels: int, size: int, width: int = 16):
        super().__init__()
        self.critic = ConditionalCritic(channels * 2, size, width=width)

    def forward(self, residual: torch.Tensor, coarse_up: torch.Tensor) -> torch.Tensor:
        return self.critic(torch.cat([residual, coarse_up], dim=1))


class CoarseGenerator(nn.Module):
    """The pyramid's coarsest level: z -> a small image, a two-hidden-layer MLP (as Denton's).

    Shapes:
        z (N, z_dim) -> (N, C, size, size).
    """

    def __init__(self, z_dim: int, channels: int, size: int, hidden: int = 256):
        super().__init__()
        self.shape = (channels, size, size)
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                 nn.ReLU(), nn.Linear(hidden, channels * size * size), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *self.shape)


class CoarseCritic(nn.Module):
    """MLP critic of the coarsest level: (N, C, size, size) -> (N,) logits."""

    def __init__(self, channels: int, size: int, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(channels * size * size, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image).flatten()


class ConditionedGenerator(nn.Module):
    """GAN-CLS's generator: the condition compressed by a linear layer with LeakyReLU (as
    Reed et al. compress the text embedding), joined to z, then `StageGenerator`.

    Shapes:
        z (N, z_dim), condition (N, K) -> (N, C, S, S).
    """

    def __init__(self, z_dim: int, cond_dim: int, channels: int, size: int, width: int,
                 embed_dim: int = 16):
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(cond_dim, embed_dim), nn.LeakyReLU(0.2))
        self.body = StageGenerator(z_dim, embed_dim, channels, size, width)

    def forward(self, z: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return self.body(z, self.embed(condition))
