"""stable-baselines3 baselines (PPO, SAC) on the continuous grasp environment.

They see the same RGB-D image and act with `Box(-1, 1, (3,))` = (x, y, theta) over the
workspace. SB3 cannot train the learned adversary jointly, so a run configured with
`adversary="learned"` trains against the random adversary in phase two; the pre-training phase
of the one-step trainer has no counterpart here (the adversary acts from the first attempt,
unless it is 'none').
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from advgrasp.config import TrainConfig
from advgrasp.run_folder import run_metadata
from envs.grasp_env import AdversarialGraspEnv

log = logging.getLogger(__name__)
MODEL = "sb3_model.zip"
BYTES_PER_TRANSITION = 2 * 64 * 64 * 4
"""SAC keeps the observation and the next observation of each transition."""


def make_env_adversary(config: TrainConfig) -> str:
    return "random" if config.adversary == "learned" else config.adversary


def make_env(config: TrainConfig) -> AdversarialGraspEnv:
    adversary = make_env_adversary(config)
    return AdversarialGraspEnv(adversary=adversary, alpha=config.alpha, action_type="continuous",
                               object_set=config.object_set, split="train", obs_mode="rgbd",
                               image_size=config.image_size)


def train_sb3(algo: str, config: TrainConfig, run_dir: Path) -> Path:
    """Train PPO or SAC for `config.attempts` steps; returns the saved model's path."""
    from stable_baselines3 import PPO, SAC
    from stable_baselines3.common.monitor import Monitor

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    meta = run_metadata(config)
    meta["algo"] = algo
    meta["adversary_used"] = make_env_adversary(config)
    if config.adversary == "learned":
        log.warning("stable-baselines3 cannot train the learned adversary jointly; this run "
                    "trains against the random adversary (adversary_used in run.json)")
    (run_dir / "run.json").write_text(json.dumps(meta, indent=2))
    env = Monitor(make_env(config), str(run_dir / "monitor"), info_keywords=("R_R", "R_H"))
    common = {"seed": config.seed, "device": "cpu" if config.device == "auto" else config.device,
              "verbose": 0}
    if algo == "ppo":
        n_steps = min(256, config.attempts)
        model = PPO("CnnPolicy", env, n_steps=n_steps, batch_size=min(64, n_steps),
                    n_epochs=4, **common)
    else:
        # One-step episodes: the next observation is never bootstrapped, but SB3 stores it.
        budget_bytes = 8 * 2**30  # a third of a 24 GB machine
        size = int(min(config.attempts, budget_bytes // BYTES_PER_TRANSITION))
        model = SAC("CnnPolicy", env, buffer_size=size, learning_starts=min(100, size // 2),
                    batch_size=64, gamma=0.0, **common)
    model.learn(total_timesteps=config.attempts, progress_bar=config.progress)
    model.save(run_dir / MODEL)
    env.close()
    return run_dir / MODEL


def sb3_chooser(run_dir: Path):
    """A chooser (world, observation, rng) -> (x, y, theta) from a saved SB3 model."""
    from stable_baselines3 import PPO, SAC

    meta = json.loads((Path(run_dir) / "run.json").read_text())
    model = (PPO if meta["algo"] == "ppo" else SAC).load(Path(run_dir) / MODEL, device="cpu")

    def choose(world, observation, rng):
        action, _ = model.predict(observation, deterministic=True)
        a = np.clip(np.asarray(action, dtype=np.float64), -1, 1)
        half = world.config.workspace_side_m / 2
        return float(a[0] * half), float(a[1] * half), float((a[2] + 1) / 2 * np.pi * 0.999)
    return choose
