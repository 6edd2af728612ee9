"""Train any registered GAN variant on the shared `TwoPlayerTrainer`, and load a saved run.

A run folder holds `checkpoint.pt` (players, optimizers, RNG states, the batch sampler, the
variant's extra state and the `GanConfig`), `config.json` (the same config, readable) and
`metrics.csv` / TensorBoard events. Training resumes exactly from the checkpoint: a run that
is stopped and resumed ends with the same weights as one that ran through.

Launched by `torchrun --nproc_per_node N`, every process trains on its own batches and the
trainer averages gradients over the processes (gloo on CPU, NCCL on CUDA); only rank 0 writes
the checkpoint and the logs.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import torch

from gan_core.checkpoint import read_checkpoint
from gan_core.data import make_dataset
from gan_core.errors import CheckpointError, ConfigError
from gan_core.training import TwoPlayerTrainer, choose_device, linear_decay, set_seed
from gan_core.variants import VARIANTS, DataInfo, GanConfig, Variant

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
# Changing these does not change what a resumed run computes.
RESUMABLE = {"iterations", "checkpoint_every", "log_every", "device"}
"""Settings a resumed run may change; any other change is refused. `iterations` is fixed too
when a schedule is laid out over the run (`lr_decay`, and the stage-by-stage variants)."""


class BatchSampler:
    """Draws batches of a dataset with replacement from its own seeded generator.

    Args:
        dataset: items are dicts of tensors; a `get_batch(indices)` method is used when present.
        batch_size: samples per draw.
        seed: seeds the generator (different per process under torchrun).
    """

    def __init__(self, dataset, batch_size: int, seed: int):
        self.dataset, self.batch_size = dataset, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def next(self) -> dict[str, torch.Tensor]:
        """One batch dict of `batch_size` samples."""
        indices = torch.randint(len(self.dataset), (self.batch_size,), generator=self.generator)
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(indices)
        return torch.utils.data.default_collate([self.dataset[int(i)] for i in indices])

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


def build_variant(config: GanConfig) -> tuple[Variant, object, DataInfo]:
    """Validate `config`, seed, build its data set and its variant (on the CPU)."""
    config.validate()
    set_seed(config.seed)
    dataset, info = make_dataset(config)
    variant = VARIANTS[config.model](config, info)
    return variant, dataset, info


def _distributed() -> tuple[int, int]:
    """(rank, world size); starts the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and os.environ.get("LOCAL_RANK") else "gloo"
        dist.init_process_group(backend=backend)
    return dist.get_rank(), dist.get_world_size()


def _comparable(values: dict) -> dict:
    """A config's values with the variant's option defaults filled in, so that naming a
    default (`--option r1=0`) does not count as a change."""
    values = GanConfig.from_dict(values).to_dict()
    defaults = VARIANTS[values["model"]].option_defaults if values["model"] in VARIANTS else {}
    values["options"] = {**defaults, **values["options"]}
    return values


def _check_resume(config: GanConfig, saved: dict, path: Path) -> None:
    resumable = set(RESUMABLE)
    if config.lr_decay != "none" or VARIANTS[config.model].schedule_follows_iterations:
        resumable.discard("iterations")
    before, after = _comparable(saved), _comparable(config.to_dict())
    changed = {k: (v, getattr(config, k)) for k, v in saved.items()
               if k not in resumable and before[k] != after[k]}
    if changed:
        listing = ", ".join(f"{k}={old!r} (now {new!r})" for k, (old, new) in changed.items())
        hint = (" (its learning-rate decay or stages are laid out over those iterations, so "
                "it cannot be extended)" if "iterations" in changed else "")
        raise ConfigError(f"run {path.parent} was trained with {listing}{hint}; resume with the "
                          "same values, or train afresh with --no-resume or a new --out folder")


def train(config: GanConfig, out_dir: str | os.PathLike, resume: bool = True,
          progress: bool = False) -> Path:
    """Train `config.model` on `config.data` for `config.iterations` rounds.

    Args:
        config: the run's settings (validated here).
        out_dir: the run folder; it receives `checkpoint.pt`, `config.json` and the metrics.
        resume: continue from `out_dir/checkpoint.pt` when it exists (else start afresh).
        progress: show a progress bar (rank 0 only).

    Returns:
        The checkpoint path.
    """
    rank, world = _distributed()
    out = Path(out_dir)
    path = out / CHECKPOINT
    variant, dataset, info = build_variant(config)
    if world > 1 and config.device == "auto":
        config.device = f"cuda:{os.environ.get('LOCAL_RANK', 0)}" if torch.cuda.is_available() \
            else "cpu"
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        if not (resume and path.exists()):
            for stale in [out / "metrics.csv", *out.glob("events.out.*")]:
                stale.unlink(missing_ok=True)
    sampler = BatchSampler(dataset, config.batch_size * variant.batch_multiple(),
                           seed=config.seed * 1000 + rank)
    trainer = TwoPlayerTrainer(variant.players(), variant.schedule(), device=config.device,
                               mixed_precision=config.mixed_precision,
                               log_dir=out if rank == 0 else None,
                               progress=progress and rank == 0,
                               progress_total=config.iterations, progress_unit="it",
                               data_parallel=world > 1,
                               lr_scale=linear_decay(config.iterations)
                               if config.lr_decay == "linear" else None)
    if world > 1:
        # Ranks share the weights (broadcast above) but draw their own noise.
        torch.manual_seed(config.seed * 1000 + rank)
    with trainer:
        if resume and path.exists():
            _, saved = read_checkpoint(path, [p.name for p in variant.players()])
            _check_resume(config, saved["config"], path)
            extra = trainer.load_checkpoint(path)
            sampler.load_state_dict(extra["sampler"])
            variant.load_extra_state(extra["variant"])
            trainer.progress_update(trainer.step)
            if trainer.step > config.iterations:
                raise ConfigError(f"run {out} is already at round {trainer.step}, past "
                                  f"--iterations {config.iterations}; pass at least "
                                  f"{trainer.step}, or --no-resume to train afresh")
        if rank == 0:  # written once the resume checks have passed
            (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
        while trainer.step < config.iterations:
            batch = {k: v.to(trainer.device) for k, v in sampler.next().items()}
            metrics = trainer.round(variant.loss_fns(batch))
            trainer.progress_update(1)
            step = trainer.step
            if step % config.log_every == 0 or step == config.iterations:
                trainer.log(metrics)
            if step % config.checkpoint_every == 0 or step == config.iterations:
                _save(trainer, variant, sampler, config, path, rank)
    return path


def _save(trainer, variant, sampler, config, path: Path, rank: int) -> None:
    if rank != 0:
        return
    extra = {"config": config.to_dict(), "sampler": sampler.state_dict(),
             "variant": variant.extra_state(), "data_info": variant.data_info}
    trainer.save_checkpoint(path, extra=extra)


def load_run(checkpoint: str | os.PathLike, device: str = "cpu") -> Variant:
    """The trained variant of a run (its networks in eval-ready state, on `device`).

    Args:
        checkpoint: a `checkpoint.pt` file or the run folder holding it.
        device: where to put the networks.
    """
    path = Path(checkpoint)
    if path.is_dir():
        path = path / CHECKPOINT
    state, extra = read_checkpoint(path, None)
    if not isinstance(extra, dict) or "config" not in extra:
        raise CheckpointError(f"{path} is not a GAN run checkpoint (no config in it); pass the "
                              "checkpoint.pt of an `advgrasp gan train` run")
    config = GanConfig.from_dict(extra["config"])
    config.device = device
    set_seed(config.seed)
    variant = VARIANTS[config.model](config, extra["data_info"])
    for player in variant.players():
        player.model.load_state_dict(state["players"][player.name]["model"])
        player.model.to(choose_device(device))
    variant.load_extra_state(extra["variant"])
    return variant
