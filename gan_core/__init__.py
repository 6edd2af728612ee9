"""gan_core: adversarial training in PyTorch.

`gan_core.training` holds the alternating two-player loop (`TwoPlayerTrainer`) that the robot
grasp trainer (grasper against adversary) and the GAN variants (discriminator against
generator) share: update ratio, device choice, mixed precision on CUDA, gradient clipping, EMA,
atomic checkpoints with exact resume, CSV and TensorBoard metrics, and a progress bar.

This package never imports `envs`, `advgrasp`, pybullet or pygame.
"""

from gan_core.errors import (
                             CheckpointError,
                             ConfigError,
                             DeviceError,
                             GanCoreError,
                             LossFnError,
                             NonFiniteLossError,
                             UnknownPlayerError,
)
from gan_core.training import Player, TwoPlayerTrainer, choose_device, set_seed

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DeviceError",
    "GanCoreError",
    "LossFnError",
    "NonFiniteLossError",
    "Player",
    "TwoPlayerTrainer",
    "UnknownPlayerError",
    "choose_device",
    "set_seed",
]
