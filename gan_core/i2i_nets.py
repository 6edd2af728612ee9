"""Networks of the image-to-image GANs: U-Net and encoder-decoder generators, the ResNet
generator, and the PatchGAN discriminator.

Images are (N, C, H, W) tensors in [-1, 1] with H = W a power of two (16 or 32 px in the tests).
Widths are small on purpose: these nets train on a shared CPU. Norm layers are batch norm
(pix2pix), instance norm (CycleGAN) or none (a Wasserstein critic must not normalise over the
batch, as the WGAN-GP paper notes).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_core.errors import ConfigError

NORMS = ("batch", "instance", "none")


def norm_layer(kind: str, channels: int) -> nn.Module:
    """A 2-D normalisation layer over `channels`: "batch", "instance" (affine) or "none"."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise ConfigError(f"norm {kind!r} is not one of {NORMS}")


def check_size(size: int, smallest: int = 4) -> int:
    """`log2(size)`, after checking that `size` is a power of two of at least `smallest` px."""
    if isinstance(size, bool) or not isinstance(size, int) or size < smallest or (
            size & (size - 1)):
        raise ConfigError(f"image size {size!r} must be a power of two >= {smallest} px "
                          "(16 or 32 suit these networks)")
    return int(math.log2(size))


class UNetGenerator(nn.Module):
    """Encoder-decoder with skip connections (pix2pix's generator, Isola et al. 2017).

    The encoder halves the resolution with 4x4 stride-2 convolutions down to 1x1; the decoder
    doubles it with 4x4 transposed convolutions and, when `skips` is on, concatenates the
    encoder's feature map of the same resolution before each up step. Dropout (p = 0.5) in the
    innermost decoder layers is pix2pix's only noise source, as in the paper.

    Args:
        in_channels: channels of the input image.
        out_channels: channels of the output image (Tanh, in [-1, 1]).
        size: input side in px (power of two >= 4).
        width: channels after the first convolution; doubles per level, capped at 8 * width.
        skips: False gives the plain encoder-decoder (DiscoGAN's generator shape).
        norm: "batch", "instance" or "none".
        dropout: dropout probability in the two innermost decoder layers.

    Shapes:
        (N, in_channels, size, size) -> (N, out_channels, size, size).
    """

    def __init__(self, in_channels: int, out_channels: int, size: int, width: int = 16,
                 skips: bool = True, norm: str = "batch", dropout: float = 0.5):
        super().__init__()
        levels = check_size(size, smallest=4)
        self.skips = skips
        chans = [min(width * 2**i, width * 8) for i in range(levels)]
        self.down = nn.ModuleList()
        previous = in_channels
        for i, ch in enumerate(chans):
            parts = [] if i == 0 else [nn.LeakyReLU(0.2)]
            parts.append(nn.Conv2d(previous, ch, 4, 2, 1, bias=norm != "batch"))
            if 0 < i < levels - 1:
                parts.append(norm_layer(norm, ch))
            self.down.append(nn.Sequential(*parts))
            previous = ch
        self.up = nn.ModuleList()
        for i in reversed(range(levels)):
            target = out_channels if i == 0 else chans[i - 1]
            fan_in = chans[i] * (2 if skips and i < levels - 1 else 1)
            parts = [nn.ReLU(), nn.ConvTranspose2d(fan_in, target, 4, 2, 1)]
            if i > 0:
                parts.append(norm_layer(norm, target))
                if i >= levels - 2 and dropout > 0:
                    parts.append(nn.Dropout(dropout))
            else:
                parts.append(nn.Tanh())
            self.up.append(nn.Sequential(*parts))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        features = []
        out = image
        for layer in self.down:
            out = layer(out)
            features.append(out)
        features.pop()
        for layer in self.up:
            out = layer(out)
            if self.skips and features:
                out = torch.cat([out, features.pop()], dim=1)
            elif features:
                features.pop()
        return out


class ResidualBlock(nn.Module):
    """Two reflection-padded 3x3 convolutions with a skip: x + F(x); shape unchanged."""

    def __init__(self, channels: int, norm: str = "instance"):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), norm_layer(norm, channels),
            nn.ReLU(), nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3),
            norm_layer(norm, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """CycleGAN's generator (Zhu et al. 2017, after Johnson et al. 2016).

    A 7x7 convolution, `downsamples` stride-2 3x3 convolutions, `blocks` residual blocks, as
    many stride-2 transposed convolutions, and a 7x7 convolution with Tanh. The paper uses 2
    down-samplings and 6 or 9 blocks at 128 or 256 px; the defaults here suit 16-32 px.

    Shapes:
        (N, in_channels, H, W) -> (N, out_channels, H, W), H and W divisible by 2**downsamples.
    """

    def __init__(self, in_channels: int, out_channels: int, width: int = 16, blocks: int = 3,
                 downsamples: int = 2, norm: str = "instance"):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7), norm_layer(norm, width),
                  nn.ReLU()]
        ch = width
        for _ in range(downsamples):
            layers += [nn.Conv2d(ch, ch * 2, 3, 2, 1), norm_layer(norm, ch * 2), nn.ReLU()]
            ch *= 2
        layers += [ResidualBlock(ch, norm) for _ in range(blocks)]
        for _ in range(downsamples):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 3, 2, 1, output_padding=1),
                       norm_layer(norm, ch // 2), nn.ReLU()]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image)


class PatchDiscriminator(nn.Module):
    """PatchGAN (pix2pix): a fully convolutional critic that scores overlapping patches.

    `layers` stride-2 4x4 convolutions (LeakyReLU 0.2, norm after the first), then a stride-1
    3x3 convolution to `width * 2**layers` channels and an unpadded 3x3 one to a single logit
    per patch: a 2x2 map at 16 px with `layers=2`, 6x6 at 32 px.
    Pass the condition concatenated to the image on the channel axis for a conditional
    critic (pix2pix judges the (input, output) pair).

    Shapes:
        (N, in_channels, H, W) -> (N, 1, H / 2**layers - 2, W / 2**layers - 2) logits
        (no sigmoid: the loss module decides).
    """

    def __init__(self, in_channels: int, width: int = 16, layers: int = 2, norm: str = "batch"):
        super().__init__()
        parts: list[nn.Module] = []
        ch, previous = width, in_channels
        for i in range(layers):
            parts.append(nn.Conv2d(previous, ch, 4, 2, 1, bias=i == 0 or norm != "batch"))
            if i > 0:
                parts.append(norm_layer(norm, ch))
            parts.append(nn.LeakyReLU(0.2))
            previous, ch = ch, ch * 2
        parts += [nn.Conv2d(previous, ch, 3, 1, 1), norm_layer(norm, ch), nn.LeakyReLU(0.2),
                  nn.Conv2d(ch, 1, 3, 1, 0)]
        self.net = nn.Sequential(*parts)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image)


class TwoWay(nn.Module):
    """Two networks, one per direction, held as one player's model (A -> B and B -> A).

    CycleGAN, DualGAN and DiscoGAN train both generators with one optimizer, and both
    discriminators with another; one module per player keeps the trainer's two-player shape.
    """

    def __init__(self, a_to_b: nn.Module, b_to_a: nn.Module):
        super().__init__()
        self.a_to_b, self.b_to_a = a_to_b, b_to_a
