"""The registry of GAN variants: `VARIANTS[name]` is a `Variant` subclass.

A module defines a variant with `@register` on its class (keyed by `cls.name`) and is imported
below so that the registry is complete on import; `advgrasp gan train --model` lists its keys.
"""

from __future__ import annotations

from gan_core.errors import ConfigError
from gan_core.variants.base import KINDS, DataInfo, GanConfig, Variant

VARIANTS: dict[str, type[Variant]] = {}


def register(cls: type[Variant]) -> type[Variant]:
    """Class decorator: add `cls` to `VARIANTS` under `cls.name`."""
    if not cls.name:
        raise ConfigError(f"variant class {cls.__name__} has no name")
    if cls.kind not in KINDS:
        raise ConfigError(f"variant {cls.name!r} has kind {cls.kind!r}; use one of {KINDS}")
    if cls.name in VARIANTS and VARIANTS[cls.name] is not cls:
        raise ConfigError(f"variant name {cls.name!r} is registered twice "
                          f"({VARIANTS[cls.name].__name__} and {cls.__name__})")
    VARIANTS[cls.name] = cls
    return cls


from gan_core.variants import (  # noqa: E402, F401
    classic,
    energy,
    image2image,
    matching,
    multistage,
    regularized,
    wasserstein,
)

__all__ = ["KINDS", "VARIANTS", "DataInfo", "GanConfig", "Variant", "register"]
