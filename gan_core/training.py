"""The alternating two-player training loop shared by the grasp trainer and the GAN variants.

Each player is a model with its own optimizer. A *round* gives every player, in the order of the
`players` list, `schedule[name]` optimizer steps; a GAN with five critic steps per generator step
is `players=[D, G], schedule={"D": 5, "G": 1}`. The caller's loss functions build their own
graphs: the trainer never passes tensors between players, so a discriminator loss must detach
its fakes itself. Each update zeroes only that player's gradients and steps only its optimizer.

The trainer also owns the device (CUDA when present), mixed precision on CUDA (autocast to
float16 with a gradient scaler per player; off on CPU), gradient clipping, an exponential moving
average (EMA) of a player's weights, checkpoints with exact resume (`gan_core.checkpoint`),
metric logs (`gan_core.metrics_log`) and a tqdm progress bar. With `data_parallel=True`, in a
process group started by `torchrun` (`torch.distributed`), every process trains the same players
on its own batches: the weights and buffers start from rank 0's, and each update averages the
gradients over all processes (all-reduce) before stepping, as DistributedDataParallel does.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from pathlib import Path

import torch
from tqdm import tqdm

from gan_core.checkpoint import (
    capture_rng_state,
    read_checkpoint,
    restore_rng_state,
    write_checkpoint,
)
from gan_core.device import choose_device, set_seed
from gan_core.errors import (
    CheckpointError,
    ConfigError,
    GanCoreError,
    NonFiniteLossError,
    UnknownPlayerError,
)
from gan_core.metrics_log import MetricsLog
from gan_core.parallel import average_gradients, broadcast_players
from gan_core.player import Player, check_loss_output

__all__ = ["LossFn", "Player", "TwoPlayerTrainer", "choose_device", "set_seed"]

log = logging.getLogger(__name__)

LossFn = Callable[[], "tuple[torch.Tensor, dict[str, float | torch.Tensor]] | torch.Tensor"]


def linear_decay(total: int, start: float = 0.5) -> Callable[[int], float]:
    """Learning-rate factor 1 for the first `start` share of `total` rounds, then falling
    linearly to 0 at the last round (the schedule of CycleGAN's training, for example)."""
    begin = int(total * start)

    def scale(step: int) -> float:
        if step < begin:
            return 1.0
        return max(0.0, (total - step) / max(total - begin, 1))
    return scale


class TwoPlayerTrainer:
    """Alternating updates of two (or more) players, with checkpoints, logs and progress.

    Args:
        players: the players, in update order (for a GAN usually [discriminator, generator]).
        schedule: optimizer steps per round for each player (n_critic); names left out get 1.
            A count of 0 freezes a player.
        device: "auto", "cpu", "cuda", "cuda:N", "mps" or a `torch.device` (see `choose_device`).
        mixed_precision: autocast to float16 with gradient scaling, on CUDA only; silently off
            on other devices.
        log_dir: folder for `metrics.csv` and TensorBoard events; None logs nothing.
        progress: show a tqdm bar on stderr.
        progress_total: the bar's total (in `progress_unit`), or None for an open-ended bar.
        progress_unit: the unit of `progress_update` counts; the bar shows unit/s.
        data_parallel: average gradients over the processes of the initialised
            `torch.distributed` process group before each step (see the module docstring).
        lr_scale: round index -> factor on every player's initial learning rates, set at the
            start of each round (for example `linear_decay(total)`); None keeps them fixed.
            It depends on the round index only, so a resumed run follows it exactly.

    Attributes:
        step: number of completed rounds (not optimizer steps).
        updates: optimizer steps taken per player.
        device: the training device.
        amp: whether mixed precision is in effect.
        metrics: the run's `MetricsLog`.
        progress_bar: the tqdm bar (disabled when `progress` is False).
    """

    def __init__(self, players: list[Player], schedule: dict[str, int] | None = None,
                 device: str | torch.device = "auto", mixed_precision: bool = True,
                 log_dir: str | os.PathLike | None = None, progress: bool = False,
                 progress_total: int | None = None, progress_unit: str = "it",
                 data_parallel: bool = False, lr_scale: Callable[[int], float] | None = None):
        players = list(players)
        if not players or not all(isinstance(p, Player) for p in players):
            raise ConfigError(f"players {players!r} must be a non-empty list of Player")
        names = [p.name for p in players]
        if len(set(names)) != len(names):
            raise ConfigError(f"player names {names} must be unique")
        self.players = players
        self._by_name = {p.name: p for p in players}
        self.schedule = self._check_schedule(schedule or {})
        self.device = choose_device(device)
        self.amp = bool(mixed_precision) and self.device.type == "cuda"
        for player in players:
            player.model.to(self.device)
            if player.ema_model is not None:
                player.ema_model.to(self.device)
        self.data_parallel = bool(data_parallel)
        if self.data_parallel:
            broadcast_players(players)
        # One scaler per player: a critic's overflow must not shrink the generator's scale.
        self._scalers = {name: torch.amp.GradScaler("cuda" if self.amp else "cpu",
                                                    enabled=self.amp) for name in names}
        self.lr_scale = lr_scale
        self._base_lrs = {p.name: [g["lr"] for g in p.optimizer.param_groups] for p in players}
        self.step = 0
        self.updates = dict.fromkeys(names, 0)
        self.metrics = MetricsLog(log_dir)
        self.progress_bar = tqdm(total=progress_total, unit=progress_unit, disable=not progress,
                         dynamic_ncols=True)
        log.info("two-player trainer: players %s, schedule %s, device %s, mixed precision %s",
                 names, self.schedule, self.device, self.amp)

    def _check_schedule(self, schedule: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(schedule) - set(self._by_name))
        if unknown:
            raise ConfigError(f"schedule names unknown players {unknown}; players are "
                              f"{list(self._by_name)}")
        for name, count in schedule.items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ConfigError(f"schedule[{name!r}] = {count!r} must be an integer >= 0 "
                                  "(updates per round)")
        return {name: schedule.get(name, 1) for name in self._by_name}

    def player(self, name: str) -> Player:
        """The player called `name`."""
        if name not in self._by_name:
            raise UnknownPlayerError(f"no player {name!r}; players are {list(self._by_name)}")
        return self._by_name[name]

    def update(self, name: str, loss_fn: LossFn) -> dict[str, float]:
        """One optimizer step for player `name`.

        Args:
            name: the player to step.
            loss_fn: builds the player's loss from scratch; returns `(loss, terms)` with a
                scalar loss tensor and a dict of scalar terms to report, or only the loss.

        Returns:
            Each term as a float, plus "loss" (the total) and, when the player clips,
            "grad_norm" (the total gradient norm before clipping).

        Raises:
            NonFiniteLossError: the loss is NaN or infinite (or, without a gradient scaler, the
                gradient norm is); nothing is stepped.
            LossFnError: `loss_fn` returned something else than described above.
        """
        player = self.player(name)
        optimizer, scaler = player.optimizer, self._scalers[name]
        optimizer.zero_grad(set_to_none=True)

        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
            loss, values = check_loss_output(name, loss_fn())
        if not math.isfinite(values["loss"]):
            self._non_finite(name, values)

        scaler.scale(loss).backward()
        if self.data_parallel:
            average_gradients(optimizer)
        if player.grad_clip_norm is not None:
            scaler.unscale_(optimizer)
            params = [p for group in optimizer.param_groups for p in group["params"]]
            values["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(params,
                                                                       player.grad_clip_norm))
            # A scaler skips non-finite steps and lowers its scale; without one, stop here.
            if not self.amp and not math.isfinite(values["grad_norm"]):
                optimizer.zero_grad(set_to_none=True)
                self._non_finite(name, values, term="grad_norm")

        scale = scaler.get_scale()
        scaler.step(optimizer)
        scaler.update()
        if player.after_step is not None:
            player.after_step()
        if not self.amp or scaler.get_scale() >= scale:
            player.update_ema()
        self.updates[name] += 1
        return values

    def _non_finite(self, name: str, values: dict[str, float], term: str | None = None) -> None:
        if term is None:
            bad = [t for t, v in values.items() if t != "loss" and not math.isfinite(v)]
            term = bad[0] if bad else "loss"
        raise NonFiniteLossError(
            f"player {name!r}: loss term {term!r} is {values[term]} (total loss "
            f"{values['loss']}) at round {self.step}; no step was taken and its weights are "
            "unchanged. Lower the learning rate, set grad_clip_norm, or check the batch for "
            "NaN/inf", player=name, term=term, value=values[term])

    def round(self, loss_fns: dict[str, LossFn]) -> dict[str, float]:
        """Run one round of the schedule and count it in `step`.

        Args:
            loss_fns: player name -> loss function (see `update`); players left out are skipped
                this round (for example an adversary with no data yet).

        Returns:
            "name/term" -> the term's mean over that player's updates this round.
        """
        unknown = sorted(set(loss_fns) - set(self._by_name))
        if unknown:
            raise UnknownPlayerError(f"loss functions given for unknown players {unknown}; "
                                     f"players are {list(self._by_name)}")
        if self.lr_scale is not None:
            scale = float(self.lr_scale(self.step))
            for player in self.players:
                for group, base in zip(player.optimizer.param_groups,
                                       self._base_lrs[player.name], strict=True):
                    group["lr"] = base * scale
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        for player in self.players:
            if player.name not in loss_fns:
                continue
            for _ in range(self.schedule[player.name]):
                for term, value in self.update(player.name, loss_fns[player.name]).items():
                    key = f"{player.name}/{term}"
                    sums[key] = sums.get(key, 0.0) + value
                    counts[key] = counts.get(key, 0) + 1
        self.step += 1
        return {key: sums[key] / counts[key] for key in sums}

    def log(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Append `metrics` to `log_dir/metrics.csv` and TensorBoard (no-op without a log_dir).

        Args:
            metrics: name -> number (one-element tensors are accepted).
            step: x value of the row; defaults to `self.step` (rounds).
        """
        self.metrics.write(metrics, self.step if step is None else step)

    def progress_update(self, n: int = 1, **postfix) -> None:
        """Advance the progress bar by `n` units and show `postfix` (e.g. success=0.52)."""
        self.progress_bar.update(n)
        if postfix:
            self.progress_bar.set_postfix(postfix, refresh=False)

    def state_dict(self, extra: dict | None = None) -> dict:
        """Everything needed to resume exactly, plus the caller's `extra`.

        Model and optimizer tensors are the live ones (as with `nn.Module.state_dict`): save or
        deep-copy the dict before training on if it must stay a snapshot.

        Args:
            extra: any picklable user state (replay buffer, a NumPy Generator's
                `bit_generator.state`, ...); returned by `load_state_dict`.
        """
        players = {}
        for player in self.players:
            players[player.name] = {
                "model": player.model.state_dict(),
                "optimizer": player.optimizer.state_dict(),
                "scaler": self._scalers[player.name].state_dict(),
                "ema_model": None if player.ema_model is None else player.ema_model.state_dict(),
            }
        return {"players": players, "step": self.step, "schedule": dict(self.schedule),
                "updates": dict(self.updates), "rng": capture_rng_state(),
                "metrics": {"rows": self.metrics.rows, "last_step": self.metrics.last_step},
                "extra": extra}

    def load_state_dict(self, state: dict) -> dict | None:
        """Restore a `state_dict`: weights, optimizers, scalers, EMA, step, schedule, RNGs.

        Metric rows logged after the state was taken are dropped from `metrics.csv` and
        TensorBoard events after its last logged step are purged, so a resumed run's logs have
        no duplicates. If loading fails half-way, rebuild the trainer before going on.

        Returns:
            The `extra` given to `state_dict`.
        """
        stored = sorted(state["players"])
        if stored != sorted(self._by_name):
            raise CheckpointError(f"state has players {stored}, this trainer has "
                                  f"{list(self._by_name)}; build the trainer with the same players")
        for player in self.players:
            saved = state["players"][player.name]
            player.model.load_state_dict(saved["model"])
            player.optimizer.load_state_dict(saved["optimizer"])
            if saved["scaler"]:
                self._scalers[player.name].load_state_dict(saved["scaler"])
            if player.ema_model is not None and saved["ema_model"] is not None:
                player.ema_model.load_state_dict(saved["ema_model"])
            elif player.ema_model is not None:
                log.warning("player %r: the state holds no EMA weights; EMA restarts from the "
                            "current weights", player.name)
                player.ema_model.load_state_dict(player.model.state_dict())
        self.step, self.updates = int(state["step"]), dict(state["updates"])
        if dict(state["schedule"]) != self.schedule:
            log.info("schedule %s restored from the state (was %s)", state["schedule"],
                     self.schedule)
        self.schedule = self._check_schedule(dict(state["schedule"]))
        self.metrics.rewind(state["metrics"]["rows"], state["metrics"]["last_step"])
        restore_rng_state(state["rng"])
        return state.get("extra")

    def save_checkpoint(self, path: str | os.PathLike, extra: dict | None = None) -> Path:
        """Write `state_dict(extra)` to `path` atomically (see `gan_core.checkpoint`)."""
        path = write_checkpoint(path, list(self._by_name), self.state_dict(extra))
        log.info("checkpoint %s written at round %d", path, self.step)
        return path

    def load_checkpoint(self, path: str | os.PathLike) -> dict | None:
        """Restore a checkpoint written by `save_checkpoint`; returns its `extra`.

        Checkpoints are trusted local files: the file is unpickled (`extra` may hold any object),
        which can run code. Its header is checked, without unpickling, before that.

        Raises:
            CheckpointError: missing, truncated or corrupt file, a foreign file, a newer format
                version, other players, or weights that do not fit these models.
        """
        state, extra = read_checkpoint(path, list(self._by_name))
        try:
            self.load_state_dict({**state, "extra": extra})
        except GanCoreError:
            raise
        except (RuntimeError, ValueError, KeyError, TypeError) as err:
            raise CheckpointError(f"checkpoint {path} does not fit this trainer: "
                                  f"{type(err).__name__}: {err}; build the models and optimizers "
                                  "as in the run that wrote it") from err
        log.info("resumed from %s at round %d", path, self.step)
        return extra

    def close(self) -> None:
        """Close the metric files and the progress bar (safe to call twice)."""
        self.metrics.close()
        self.progress_bar.close()

    def __enter__(self) -> TwoPlayerTrainer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
