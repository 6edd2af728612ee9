"""Data parallelism for `TwoPlayerTrainer`: the two collective steps that DistributedDataParallel
performs, applied per player so that any loss (double backward of a gradient penalty, several
forward passes before one backward, networks shared between players) works unchanged.

Every process of a `torch.distributed` group (started by `torchrun`) holds the same players:
`broadcast_players` copies rank 0's weights and buffers to all at the start, and
`average_gradients` all-reduces a player's gradients (mean over processes) before its step.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from gan_core.errors import ConfigError
from gan_core.player import Player


def broadcast_players(players: list[Player]) -> None:
    """Copy rank 0's parameters and buffers into every process."""
    if not (dist.is_available() and dist.is_initialized()):
        raise ConfigError("data_parallel=True needs an initialised torch.distributed process "
                          "group: launch with torchrun and call "
                          "torch.distributed.init_process_group first")
    with torch.no_grad():
        for player in players:
            for tensor in [*player.model.parameters(), *player.model.buffers()]:
                dist.broadcast(tensor.data, src=0)


def average_gradients(optimizer: torch.optim.Optimizer) -> None:
    """Replace each gradient of the optimizer's parameters by its mean over all processes."""
    world = dist.get_world_size()
    for group in optimizer.param_groups:
        for param in group["params"]:
            if param.grad is None:
                # Another process may have a gradient here: join the reduction with zeros.
                param.grad = torch.zeros_like(param)
            dist.all_reduce(param.grad, op=dist.ReduceOp.SUM)
            param.grad.div_(world)
