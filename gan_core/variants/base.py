"""The configuration of a GAN run and the `Variant` interface every GAN variant implements.

A variant owns its networks and losses; `gan_core.run.train` owns the loop, which is the shared
`gan_core.training.TwoPlayerTrainer`. Each training round the runner draws one batch (a dict of
tensors, see `gan_core.data`), asks the variant for one loss function per player
(`loss_fns(batch)`) and lets the trainer step the players in the order of `players()`, each
`schedule()[name]` times.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field

import torch

from gan_core.errors import ConfigError
from gan_core.player import Player
from gan_core.training import LossFn

KINDS = ("unconditional", "conditional", "paired", "unpaired")


def _setting(name: str) -> str:
    """A GanConfig field with its command-line flag, for messages read by both kinds of user."""
    return f"{name} (--{name.replace('_', '-')})"


@dataclass
class DataInfo:
    """What a data set holds, so that a variant can size its networks.

    Attributes:
        name: the data set's registry name.
        kind: "points" (x: (N, dim) float), "images" (x: (N, C, H, W) in [-1, 1]), "paired"
            or "unpaired" (a and b: images).
        dim: size of one point (2-D mixtures: 2); 0 for images.
        channels: image channels C (0 for points); for paired/unpaired data, those of `a`.
        image_size: image side H = W in pixels (0 for points).
        num_classes: number of labels in "y" (0 when the data set has none).
        channels_b: channels of `b` for paired/unpaired data (0 otherwise).
        extra: anything else a data set wants to tell (e.g. the mixture's modes).
    """

    name: str
    kind: str
    dim: int = 0
    channels: int = 0
    image_size: int = 0
    num_classes: int = 0
    channels_b: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def is_image(self) -> bool:
        """Whether the samples are images (not 2-D points)."""
        return self.kind != "points"


def check_numbers(options: dict, names: tuple[str, ...], allow_zero: tuple[str, ...] = (),
                    integers: tuple[str, ...] = ()) -> None:
    """Refuse option values that are not numbers (`integers`: ints) > 0 (`allow_zero`: >= 0).

    Options arrive from `--option KEY=VALUE` as JSON values, so a string must be refused here.
    """
    for name in names:
        if name not in options:
            continue
        value = options[name]
        kinds = (int,) if name in integers else (int, float)
        bound = ">= 0" if name in allow_zero else "> 0"
        if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(
                value) or not (value >= 0 if name in allow_zero else value > 0):
            noun = "an integer" if name in integers else "a finite number"
            raise ConfigError(f"option {name} = {value!r} must be {noun} {bound}")


FOLDER_DATA = ("folder", "pairs", "unpaired")
"""The data sets read from `data_dir`."""


@dataclass
class GanConfig:
    """Everything that shapes a GAN run; each field is a `advgrasp gan train` option.

    Attributes:
        model: variant name, a key of `gan_core.variants.VARIANTS`.
        data: data set name, a key of `gan_core.data.DATASETS`.
        image_size: side of the training images in pixels (images only; 16 or 32 for digits).
        batch_size: samples per discriminator update (a multiple of `pack`).
        iterations: training rounds (one generator step each, plus the critic steps).
        lr_g: generator learning rate; None uses the variant's published default.
        lr_d: discriminator (critic) learning rate; None uses the variant's default.
        betas: Adam's (beta1, beta2); None uses the variant's default.
        z_dim: size of the generator's noise vector z.
        width: network width: hidden units of the MLPs, or the channels of the last
            convolution of the DCGAN-style networks (doubled at each smaller resolution).
        seed: seeds Python, NumPy and torch.
        pack: PacGAN packing degree m: the discriminator judges m samples at once (1: off).
        device: "auto", "cpu", "cuda", "cuda:N" or "mps".
        mixed_precision: float16 autocast on CUDA (ignored elsewhere).
        network: "auto" (MLP for points, convolutional for images), "mlp" or "conv".
        data_dir: folder of images for the "folder" data set (and paired/unpaired sets).
        lr_decay: "none" (fixed learning rates) or "linear" (fixed for the first half of the
            iterations, then falling linearly to zero; it sharpens the samples of 2-D mixtures).
        checkpoint_every: rounds between checkpoints (and a last one at the end).
        log_every: rounds between rows of metrics.csv.
        options: variant-specific values (for example {"g_loss": "saturating"} for `gan`,
            {"clip": 0.01} for `wgan`); each variant documents and validates its keys.
    """

    model: str = "gan"
    data: str = "ring"
    image_size: int = 32
    batch_size: int = 64
    iterations: int = 2000
    lr_g: float | None = None
    lr_d: float | None = None
    betas: tuple[float, float] | None = None
    z_dim: int = 64
    width: int = 128
    seed: int = 0
    pack: int = 1
    device: str = "auto"
    mixed_precision: bool = True
    network: str = "auto"
    data_dir: str | None = None
    lr_decay: str = "none"
    checkpoint_every: int = 500
    log_every: int = 50
    options: dict = field(default_factory=dict)

    def validate(self) -> GanConfig:
        """Check every value; returns self.

        Raises:
            ConfigError: naming the bad value and the fix.
        """
        from gan_core.data import DATASETS
        from gan_core.variants import VARIANTS

        if self.model not in VARIANTS:
            raise ConfigError(f"model {self.model!r} is not a GAN variant; choose one of "
                              f"{sorted(VARIANTS)}")
        if self.data not in DATASETS:
            raise ConfigError(f"data {self.data!r} is not a data set; choose one of "
                              f"{sorted(DATASETS)}")
        for name in ("image_size", "batch_size", "iterations", "z_dim", "width", "pack",
                     "checkpoint_every", "log_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{_setting(name)} = {value!r} must be a positive integer")
        if self.image_size < 8 or self.image_size & (self.image_size - 1):
            raise ConfigError(f"{_setting('image_size')} = {self.image_size} must be a power "
                              "of two >= 8 (e.g. 16 or 32)")
        if self.batch_size % self.pack:
            raise ConfigError(f"{_setting('batch_size')} {self.batch_size} is not a multiple of "
                              f"{_setting('pack')} {self.pack}; use e.g. {self.pack * 16}")
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{_setting(name)} = {value!r} must be a positive number "
                                  "(leave it unset for the variant's default)")
        if self.betas is not None:
            betas = tuple(self.betas)
            if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
                raise ConfigError(f"betas = {self.betas!r} must be two numbers in [0, 1), "
                                  "e.g. (0.5, 0.999)")
            self.betas = (float(betas[0]), float(betas[1]))
        if self.lr_decay not in ("none", "linear"):
            raise ConfigError(f"{_setting('lr_decay')} {self.lr_decay!r} must be 'none' or "
                              "'linear'")
        if self.data_dir is not None and self.data not in FOLDER_DATA:
            raise ConfigError(f"data_dir applies to data {', '.join(FOLDER_DATA)} only; data "
                              f"{self.data!r} is built in: drop --data-dir, or use --data folder")
        if self.network not in ("auto", "mlp", "conv"):
            raise ConfigError(f"network {self.network!r} must be 'auto', 'mlp' or 'conv'")
        if not isinstance(self.options, dict):
            raise ConfigError(f"options = {self.options!r} must be a dict of variant settings")
        VARIANTS[self.model].check_options(self.options)
        return self

    def to_dict(self) -> dict:
        """Plain values (for JSON and checkpoints)."""
        values = asdict(self)
        values["betas"] = None if self.betas is None else list(self.betas)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> GanConfig:
        """Rebuild a config from `to_dict` output; unknown keys are refused."""
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"unknown GanConfig fields {unknown}; known are "
                              f"{sorted(cls.__dataclass_fields__)}")
        values = dict(values)
        if values.get("betas") is not None:
            values["betas"] = tuple(values["betas"])
        return cls(**values)


class Variant(ABC):
    """A GAN variant: its networks, optimizers, update schedule and losses.

    Subclasses set the class attributes and implement `players`, `loss_fns` and `generate`;
    `__init__` builds the networks (on the CPU; the trainer moves them to its device).

    Class attributes:
        name: the registry key and `--model` value.
        kind: "unconditional", "conditional", "paired" or "unpaired".
        data_kinds: the `DataInfo.kind` values the variant accepts.
        option_defaults: variant-specific options and their defaults (`GanConfig.options`).
        description: one line for `--help`.

    Args:
        config: the run's validated `GanConfig`.
        data_info: what the data set holds (`gan_core.data.make_dataset`).
    """

    name: str = ""
    kind: str = "unconditional"
    data_kinds: tuple[str, ...] = ("points", "images")
    option_defaults: dict = {}
    description: str = ""

    def __init__(self, config: GanConfig, data_info: DataInfo):
        if data_info.kind not in self.data_kinds:
            raise ConfigError(f"model {self.name!r} does not train on {data_info.kind} data "
                              f"({data_info.name!r}); it accepts {list(self.data_kinds)} data")
        if self.kind == "conditional" and data_info.num_classes < 1:
            raise ConfigError(f"model {self.name!r} is conditional but data "
                              f"{data_info.name!r} has no labels; use 'digits16' or 'digits32'")
        self.config, self.data_info = config, data_info
        self.options = {**self.option_defaults, **config.options}

    @classmethod
    def check_options(cls, options: dict) -> None:
        """Refuse option keys this variant does not know, and values of its numeric options
        (those with a number as default) that are not numbers > 0 (>= 0 for the names in
        `zero_allowed`; whole numbers where the default is one). Subclasses check the rest."""
        unknown = sorted(set(options) - set(cls.option_defaults))
        if unknown:
            from gan_core.variants import VARIANTS

            known = (f"its options are {sorted(cls.option_defaults)}" if cls.option_defaults
                     else "it takes no --option")
            others = sorted(name for name, v in VARIANTS.items()
                            if set(unknown) <= set(v.option_defaults))
            where = f"; {unknown} belong to --model {', '.join(others)}" if others else ""
            raise ConfigError(f"model {cls.name!r} has no option(s) {unknown}; {known}{where}")
        numeric = {k: v for k, v in cls.option_defaults.items()
                   if isinstance(v, int | float) and not isinstance(v, bool)}
        check_numbers(options, tuple(numeric), allow_zero=cls.zero_allowed,
                      integers=tuple(k for k, v in numeric.items() if isinstance(v, int)))

    zero_allowed: tuple[str, ...] = ()
    """Numeric options that may be 0 (a weight that switches its term off, for example)."""

    schedule_follows_iterations = False
    """True where the variant lays a schedule out over `config.iterations` (stages), so a
    resumed run may not change them."""

    @abstractmethod
    def players(self) -> list[Player]:
        """The players in update order (for a GAN, the discriminator first)."""

    def schedule(self) -> dict[str, int]:
        """Optimizer steps per round for each player (n_critic); default one each."""
        return {player.name: 1 for player in self.players()}

    @abstractmethod
    def loss_fns(self, batch: dict[str, torch.Tensor]) -> dict[str, LossFn]:
        """One loss function per player for this round's `batch` (already on the device).

        The batch holds `batch_multiple()` times `batch_size` samples when a player steps
        several times per round; each step then takes its own slice.
        """

    @abstractmethod
    @torch.no_grad()
    def generate(self, n: int, batch: dict | None = None) -> torch.Tensor:
        """`n` samples (points (n, dim) or images (n, C, H, W) in [-1, 1]), or for
        image-to-image variants the translations of `batch`."""

    def batch_multiple(self) -> int:
        """How many `batch_size` slices the runner draws per round (the largest step count)."""
        return max(1, *self.schedule().values())

    def extra_state(self) -> dict:
        """State beside the players' weights and optimizers (e.g. an image pool)."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        """Restore what `extra_state` returned."""
        if state:
            raise ConfigError(f"model {self.name!r} keeps no extra state but the checkpoint "
                              f"holds {sorted(state)}; it was written by another variant")

    @property
    def device(self) -> torch.device:
        """Where the variant's networks live (set by the trainer)."""
        return next(self.players()[0].model.parameters()).device
