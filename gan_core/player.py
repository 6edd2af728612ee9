"""A player of the two-player game: a model, its optimizer, clipping and EMA options."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from gan_core.errors import ConfigError, LossFnError


@dataclass
class Player:
    """One side of the game: a model, its optimizer and its update options.

    Attributes:
        name: unique within a trainer; metrics are reported as "name/term". No "/" allowed.
        model: the player's network; the trainer moves it to the training device.
        optimizer: steps the player's parameters (built on `model.parameters()`).
        grad_clip_norm: if set, the total L2 norm of the gradients over the optimizer's
            parameters is clipped to this value before each step.
        ema_decay: if set, in [0, 1): after each step `ema_model` (a copy of `model` without
            gradients) is updated as ema = decay * ema + (1 - decay) * weights; buffers (such as
            batch-norm statistics) are copied.
        after_step: if set, called with no arguments right after each optimizer step of this
            player (for example WGAN's weight clipping).
        ema_model: the EMA copy, made here when `ema_decay` is set, else None.
    """

    name: str
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    grad_clip_norm: float | None = None
    ema_decay: float | None = None
    after_step: Callable[[], None] | None = None
    ema_model: torch.nn.Module | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name or "/" in self.name:
            raise ConfigError(f"player name {self.name!r} must be a non-empty string without '/'")
        if not isinstance(self.model, torch.nn.Module):
            raise ConfigError(f"player {self.name!r}: model is a {type(self.model).__name__}, "
                              "expected a torch.nn.Module")
        if not isinstance(self.optimizer, torch.optim.Optimizer):
            raise ConfigError(f"player {self.name!r}: optimizer is a "
                              f"{type(self.optimizer).__name__}, expected a torch.optim.Optimizer")
        clip = self.grad_clip_norm
        if clip is not None and not (math.isfinite(clip) and clip > 0):
            raise ConfigError(f"player {self.name!r}: grad_clip_norm {clip!r} must be a positive "
                              "number, or None for no clipping")
        decay = self.ema_decay
        if decay is not None and not (0.0 <= decay < 1.0):
            raise ConfigError(f"player {self.name!r}: ema_decay {decay!r} must be in [0, 1) "
                              "(typically 0.999), or None for no EMA")
        if self.after_step is not None and not callable(self.after_step):
            raise ConfigError(f"player {self.name!r}: after_step {self.after_step!r} must be "
                              "callable with no arguments, or None")
        if decay is not None:
            self.ema_model = copy.deepcopy(self.model).requires_grad_(False)

    @torch.no_grad()
    def update_ema(self) -> None:
        """Move `ema_model` one step towards the current weights (no-op without EMA)."""
        if self.ema_model is None:
            return
        weight = 1.0 - self.ema_decay
        for ema, live in zip(self.ema_model.parameters(), self.model.parameters(), strict=True):
            ema.lerp_(live.detach(), weight)
        for ema, live in zip(self.ema_model.buffers(), self.model.buffers(), strict=True):
            ema.copy_(live)


def check_loss_output(name: str, returned: object) -> tuple[torch.Tensor, dict[str, float]]:
    """Check what a player's loss function returned and read its terms.

    Args:
        name: the player, for messages.
        returned: `(loss, {term: value})` or the loss alone; the loss is a one-element tensor
            that requires grad, each term a number or a one-element tensor.

    Returns:
        The loss as a 0-d tensor, and every term as a float plus "loss" (the total).

    Raises:
        LossFnError: anything else was returned.
    """
    loss, terms = (returned, {}) if isinstance(returned, torch.Tensor) else (None, None)
    if isinstance(returned, tuple) and len(returned) == 2:
        loss, terms = returned
    if not isinstance(loss, torch.Tensor) or not isinstance(terms, dict):
        raise LossFnError(f"loss_fn of player {name!r} returned {type(returned).__name__}; "
                          "return (scalar loss tensor, {term: value}) or the loss alone")
    if loss.numel() != 1:
        raise LossFnError(f"loss_fn of player {name!r} returned a loss of shape "
                          f"{tuple(loss.shape)}; reduce it to a scalar, e.g. with .mean()")
    if not loss.requires_grad:
        raise LossFnError(f"the loss of player {name!r} does not require grad: it depends on "
                          "no parameter (computed under no_grad, or from detached tensors?)")
    values = {}
    for term, value in terms.items():
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.detach().float().item()
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise LossFnError(f"loss term {term!r} of player {name!r} is {value!r}; terms "
                              "must be numbers or one-element tensors")
        values[str(term)] = float(value)
    values["loss"] = loss.detach().float().item()
    return loss.reshape(()), values
