"""Generators, discriminators and encoders for points (MLPs) and images (DCGAN-style).

Conventions: a generator maps z (N, z_dim) (plus a one-hot label (N, K) when conditional) to
points (N, dim) or images (N, C, H, W) in [-1, 1] (Tanh). A discriminator maps a (possibly
packed, see `gan_core.losses.pack`) input to `(scores (N,), features (N, F))`; the scores are
logits or critic values, the features are the last hidden layer (for feature matching).

The convolutional pair follows DCGAN (Radford et al. 2016): strided convolutions instead of
pooling, transposed convolutions in G, batch norm in both (not on D's input layer nor G's
output layer), no fully connected hidden layers, ReLU and Tanh in G, LeakyReLU(0.2) in D. At
32 px with width 64: z -> 4x4x256 -> 8x8x128 -> 16x16x64 -> 32x32xC, and D mirrors it.
Batch norm uses `BN_EPS` and `BN_MOMENTUM`, passed by keyword.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

BN_EPS = 1e-5
BN_MOMENTUM = 0.1
LEAK = 0.2


def _levels(image_size: int) -> int:
    # Resolution doublings from 4x4 to image_size.
    return int(math.log2(image_size // 4))


def _sn(layer: nn.Module, spectral: bool) -> nn.Module:
    return spectral_norm(layer) if spectral else layer


def init_dcgan_weights(module: nn.Module) -> None:
    """DCGAN's initialisation: conv weights N(0, 0.02), batch-norm scale N(1, 0.02), bias 0."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)) and hasattr(layer, "weight"):
            weight = layer.parametrizations.weight.original if hasattr(
                layer, "parametrizations") else layer.weight
            nn.init.normal_(weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. 2016, section 3.2: each sample sees how close it is to the others.

    f (N, A) -> M = f T reshaped (N, B, C); c_b(i, j) = exp(-||M_ib - M_jb||_1);
    o(f_i)_b = sum_{j != i} c_b(i, j); returns [f, o(f)] (N, A + B).
    """

    def __init__(self, in_features: int, kernels: int = 16, kernel_dim: int = 8):
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        m = (features @ self.T).view(-1, self.kernels, self.kernel_dim).transpose(0, 1)
        l1 = torch.cdist(m, m, p=1)  # (B, N, N), without an (N, N, B, C) intermediate
        closeness = torch.exp(-l1).sum(dim=2).t() - 1.0  # drop c_b(i, i) = 1
        return torch.cat([features, closeness], dim=1)


class MLPGenerator(nn.Module):
    """z (N, z_dim) [+ one-hot (N, K)] -> points (N, out_dim); three ReLU hidden layers."""

    def __init__(self, z_dim: int, out_dim: int, width: int, cond_dim: int = 0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(z_dim + cond_dim, width), nn.ReLU(),
            nn.Linear(width, width), nn.ReLU(),
            nn.Linear(width, width), nn.ReLU(),
            nn.Linear(width, out_dim))

    def forward(self, z: torch.Tensor, onehot: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z if onehot is None else torch.cat([z, onehot], dim=1))


class MLPDiscriminator(nn.Module):
    """x (N, in_dim) [+ one-hot] -> (scores (N,) or (N, out_dim), features (N, width)).

    Args:
        in_dim: input size (dim x pack).
        width: hidden units.
        cond_dim: one-hot size appended to the input (0: none).
        spectral: spectral norm on every linear layer.
        minibatch: minibatch-discrimination kernels before the head (0: none).
        out_dim: head outputs (1 for a discriminator, z_dim for an encoder).
    """

    def __init__(self, in_dim: int, width: int, cond_dim: int = 0, spectral: bool = False,
                 minibatch: int = 0, out_dim: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            _sn(nn.Linear(in_dim + cond_dim, width), spectral), nn.LeakyReLU(LEAK),
            _sn(nn.Linear(width, width), spectral), nn.LeakyReLU(LEAK),
            _sn(nn.Linear(width, width), spectral), nn.LeakyReLU(LEAK))
        self.minibatch = MinibatchDiscrimination(width, minibatch) if minibatch else None
        self.out_dim = out_dim
        self.head = _sn(nn.Linear(width + minibatch, out_dim), spectral)

    def features(self, x: torch.Tensor, onehot: torch.Tensor | None = None) -> torch.Tensor:
        """The last hidden layer (N, width), without the minibatch features or the head."""
        return self.body(x if onehot is None else torch.cat([x, onehot], dim=1))

    def forward(self, x: torch.Tensor, onehot: torch.Tensor | None = None):
        features = self.features(x, onehot)
        hidden = features if self.minibatch is None else self.minibatch(features)
        scores = self.head(hidden)
        return (scores.squeeze(1) if self.out_dim == 1 else scores), features


class ConvGenerator(nn.Module):
    """DCGAN generator: z (N, z_dim) [+ one-hot] -> images (N, channels, size, size).

    Channels halve at each doubling, ending at `width` before the output layer.
    """

    def __init__(self, z_dim: int, channels: int, image_size: int, width: int,
                 cond_dim: int = 0):
        super().__init__()
        levels = _levels(image_size)
        widths = [width * 2 ** (levels - 1 - k) for k in range(levels)]
        layers = [nn.ConvTranspose2d(z_dim + cond_dim, widths[0], 4, 1, 0, bias=False),
                  nn.BatchNorm2d(widths[0], eps=BN_EPS, momentum=BN_MOMENTUM), nn.ReLU(True)]
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=False):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor, onehot: torch.Tensor | None = None) -> torch.Tensor:
        z = z if onehot is None else torch.cat([z, onehot], dim=1)
        return self.net(z[:, :, None, None])


class ConvDiscriminator(nn.Module):
    """DCGAN discriminator mirroring `ConvGenerator`: images -> (scores, features).

    Args:
        channels: input channels (C x pack).
        image_size: input side in pixels.
        width: channels of the first convolution (doubled at each halving).
        cond_dim: one-hot label maps appended as input channels (0: none).
        norm: "batch" (DCGAN) or "none" (WGAN-GP's critic, spectral norm).
        spectral: spectral norm on every convolution.
        minibatch: minibatch-discrimination kernels on the features (0: none).
        out_dim: head outputs (1 for a discriminator, z_dim for an encoder).
    """

    def __init__(self, channels: int, image_size: int, width: int, cond_dim: int = 0,
                 norm: str = "batch", spectral: bool = False, minibatch: int = 0,
                 out_dim: int = 1):
        super().__init__()
        levels = _levels(image_size)
        widths = [width * 2 ** k for k in range(levels)]
        layers = [_sn(nn.Conv2d(channels + cond_dim, widths[0], 4, 2, 1), spectral),
                  nn.LeakyReLU(LEAK, True)]
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=False):
            layers.append(_sn(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=norm != "batch"), spectral))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM))
            layers.append(nn.LeakyReLU(LEAK, True))
        self.body = nn.Sequential(*layers)
        features = widths[-1] * 16
        self.minibatch = MinibatchDiscrimination(features, minibatch) if minibatch else None
        self.out_dim = out_dim
        if minibatch:
            self.head = _sn(nn.Linear(features + minibatch, out_dim), spectral)
        else:
            self.head = _sn(nn.Conv2d(widths[-1], out_dim, 4, 1, 0), spectral)
        init_dcgan_weights(self)

    def hidden(self, x: torch.Tensor, onehot: torch.Tensor | None = None) -> torch.Tensor:
        """The last convolution's maps (N, C, 4, 4), labels joined as constant input maps."""
        if onehot is not None:
            maps = onehot[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
            x = torch.cat([x, maps], dim=1)
        return self.body(x)

    def features(self, x: torch.Tensor, onehot: torch.Tensor | None = None) -> torch.Tensor:
        """The last hidden layer, flattened (N, F), without the minibatch features or head."""
        return self.hidden(x, onehot).flatten(1)

    def forward(self, x: torch.Tensor, onehot: torch.Tensor | None = None):
        hidden = self.hidden(x, onehot)
        features = hidden.flatten(1)
        if self.minibatch is not None:
            scores = self.head(self.minibatch(features))
        else:
            scores = self.head(hidden).flatten(1)
        return (scores.squeeze(1) if self.out_dim == 1 else scores), features


class AutoencoderDiscriminator(nn.Module):
    """EBGAN's discriminator: energy = mean squared reconstruction error of an autoencoder.

    Returns `(energy (N,), code (N, F))`; the code feeds the pull-away term. For points the
    encoder and decoder are MLPs, for images a DCGAN encoder (to 4x4) and generator mirror.
    """

    def __init__(self, in_shape: tuple[int, ...], width: int):
        super().__init__()
        if len(in_shape) == 1:
            self.encoder = nn.Sequential(nn.Linear(in_shape[0], width), nn.LeakyReLU(LEAK),
                                         nn.Linear(width, width))
            self.decoder = nn.Sequential(nn.LeakyReLU(LEAK), nn.Linear(width, width),
                                         nn.LeakyReLU(LEAK), nn.Linear(width, in_shape[0]))
        else:
            channels, size = in_shape[0], in_shape[1]
            body = ConvDiscriminator(channels, size, width, norm="batch").body
            self.encoder = body
            levels = _levels(size)
            widths = [width * 2 ** (levels - 1 - k) for k in range(levels)]
            layers = []
            for c_in, c_out in zip(widths[:-1], widths[1:], strict=False):
                layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
                           nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM),
                           nn.ReLU(True)]
            layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
            self.decoder = nn.Sequential(*layers)
            init_dcgan_weights(self)

    def forward(self, x: torch.Tensor, onehot: torch.Tensor | None = None):
        code = self.encoder(x)
        energy = (self.decoder(code) - x).pow(2).flatten(1).mean(dim=1)
        return energy, code.flatten(1)
