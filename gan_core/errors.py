"""Errors raised by gan_core. Each message names the offending value and what to do about it."""

from __future__ import annotations


class GanCoreError(Exception):
    """Base class of every error gan_core raises on purpose."""


class ConfigError(GanCoreError, ValueError):
    """A trainer, player or schedule setting is outside what gan_core supports."""


class DeviceError(GanCoreError, RuntimeError):
    """The requested device is unknown or not available on this machine."""


class UnknownPlayerError(GanCoreError, KeyError):
    """A player name that the trainer does not have."""

    def __str__(self) -> str:
        # KeyError quotes its argument; this message is a sentence, not a key.
        return str(self.args[0]) if self.args else ""


class LossFnError(GanCoreError, TypeError):
    """A loss function returned something other than `(scalar loss, {term: value})`."""


class CheckpointError(GanCoreError):
    """A checkpoint is missing, truncated, corrupt, foreign, too new, or for other players.

    The message names the file and what to do (restore an earlier one, start afresh, rebuild the
    trainer with the matching players).
    """


class NonFiniteLossError(GanCoreError, FloatingPointError):
    """A player's loss (or its gradient norm) is NaN or infinite; no step was taken.

    Args:
        message: names the player, the loss term and its value.
        player: the player's name, when known.
        term: the loss term that is not finite ("loss" when no single term is to blame).
        value: the offending value.
    """

    def __init__(self, message: str, *, player: str | None = None, term: str | None = None,
                 value: float | None = None):
        super().__init__(message)
        self.player, self.term, self.value = player, term, value
