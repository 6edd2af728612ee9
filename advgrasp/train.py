"""The one-step adversarial grasp trainer.

Phase one trains the grasp network on R_R alone (self-supervised). Phase two adds the adversary:
after every lifted grasp it picks a push, and the grasp network is trained towards
r = R_R - alpha * R_H. A learned adversary is trained jointly on R_H (Pinto et al. 2017). The
trainer drives the world's phases itself, so the learned adversary always acts with its current
weights. Both players are updated by `gan_core.training.TwoPlayerTrainer`, which also owns
checkpoints, exact resume and metric logs.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections import deque
from dataclasses import MISSING, asdict, fields
from pathlib import Path

import numpy as np
import torch

from advgrasp import run_folder
from advgrasp.agents import Grasp, GraspPolicy, LearnedAdversary
from advgrasp.buffer import ReplayBuffer
from advgrasp.config import RESUMABLE_CHANGES, TRAINS_LEARNED, TrainConfig
from advgrasp.rollouts import phase_two_adversary, play_attempt, train_on_ray
from advgrasp.run_folder import check_buffer_memory, run_metadata
from envs.errors import ConfigError
from envs.perturbation import Perturbation
from envs.world import GraspWorld, WorldConfig
from gan_core.errors import NonFiniteLossError
from gan_core.training import Player, TwoPlayerTrainer, set_seed

log = logging.getLogger(__name__)
CHECKPOINT = "checkpoint.pt"


class GraspTrainer:
    """Trains a grasp policy (and a learned adversary) in one run folder.

    Args:
        config: the run's `TrainConfig`.
        run_dir: where checkpoints, metrics, the policy and the report go.
    """

    def __init__(self, config: TrainConfig, run_dir: str | Path):
        config.validate()
        self.config, self.run_dir = config, Path(run_dir)
        check_buffer_memory(config)
        # The world first: a bad object set is refused before the run folder is made.
        self.world = GraspWorld(WorldConfig(object_set=config.object_set, split="train",
                                            image_size=config.image_size, obs_mode="rgbd"))
        try:
            self._claim = run_folder.claim(self.run_dir)
        except ConfigError:
            self.world.close()
            raise
        if not (self.run_dir / CHECKPOINT).exists():
            # A run stopped before its first checkpoint starts afresh: drop its old logs.
            for stale in [self.run_dir / "metrics.csv", *self.run_dir.glob("events.out.*")]:
                stale.unlink(missing_ok=True)
        torch.set_num_threads(config.torch_threads)
        set_seed(config.seed)
        wc = self.world.config
        self.trainer_device = config.device
        self.policy = GraspPolicy(config.image_size, wc.workspace_side_m, wc.depth_range_m,
                                  config.width, net=config.grasp_net)
        pushes = wc.perturbations.all
        self.learned = LearnedAdversary(pushes, wc.held_image_size, config.adversary_epsilon)
        self.phase_two = phase_two_adversary(config.adversary, self.world, self.learned)
        players = [
            Player("grasper", self.policy.net,
                   torch.optim.RMSprop(self.policy.net.parameters(), lr=config.lr)),
            Player("adversary", self.learned.net,
                   torch.optim.RMSprop(self.learned.net.parameters(), lr=config.adversary_lr)),
        ]
        self.trainer = TwoPlayerTrainer(players, device=config.device,
                                        log_dir=self.run_dir, progress=config.progress,
                                        progress_total=config.attempts, progress_unit="attempt")
        self.policy.device = self.learned.device = self.trainer.device
        size, held = config.image_size, wc.held_image_size
        self.grasps = ReplayBuffer(config.buffer_capacity, {
            "image": ((size, size, 4), "uint8"), "cell": ((), "int64"),
            "angle": ((), "int64"), "target": ((), "float32")})
        self.pushes = ReplayBuffer(config.buffer_capacity, {
            "image": ((held, held, 3), "uint8"), "theta": ((), "float32"),
            "push": ((), "int64"), "dropped": ((), "float32")})
        self.rng = np.random.default_rng(config.seed)
        self.attempt = 0
        self.started_at = 0
        self.recent = deque(maxlen=200)
        self.env_seconds = 0.0
        self.learn_seconds = 0.0

    # -- schedule -------------------------------------------------------------------------

    def exploration(self, attempt: int | None = None) -> tuple[int, float]:
        """(top_k, epsilon) for attempt number `attempt` (default: the next one), annealed
        linearly over the run."""
        c = self.config
        f = min(1.0, (self.attempt if attempt is None else attempt) / max(1, c.attempts - 1))
        top_k = int(round(c.top_k_start + (c.top_k_end - c.top_k_start) * f))
        return top_k, c.epsilon_start + (c.epsilon_end - c.epsilon_start) * f

    @property
    def in_phase_two(self) -> bool:
        return self.attempt >= self.config.pretrain_attempts

    def adversary_acts(self, attempt: int) -> bool:
        """Whether the phase-two adversary pushes in attempt number `attempt`."""
        return attempt >= self.config.pretrain_attempts and self.config.adversary != "none"

    # -- one attempt ----------------------------------------------------------------------

    def attempt_once(self) -> dict:
        """Reset, observe, grasp, let the adversary push, store what happened."""
        start = time.perf_counter()
        top_k, epsilon = self.exploration()
        adversary = self.phase_two if self.adversary_acts(self.attempt) else None
        probes = self.config.adversary_probes if self.config.adversary == "learned" else 0
        a = play_attempt(self.world, self.policy, adversary, self.rng, top_k, epsilon, probes)
        self.env_seconds += time.perf_counter() - start
        return self.record_attempt(a.observation, a.grasp, a.r_r, a.r_h, a.push, a.held_image,
                                   a.probes)

    def choose_grasp(self, observation: np.ndarray) -> Grasp:
        """The grasp for an RGB-D observation (H, W, 4) uint8 under the current exploration."""
        top_k, epsilon = self.exploration()
        return self.policy.choose(observation, self.rng, top_k, epsilon)

    def record_attempt(self, observation: np.ndarray, grasp: Grasp, r_r: float,
                       r_h: float = 0.0, push: Perturbation | None = None,
                       held_image: np.ndarray | None = None,
                       probes: list[tuple[int, float]] = ()) -> dict:
        """Store a finished attempt in the replay buffers and count it.

        Used by `attempt_once` and by callers that drive the world themselves (a person
        choosing the push).

        Args:
            observation: the RGB-D image the grasp was chosen from, (H, W, 4) uint8.
            grasp: the grasp executed.
            r_r: 1.0 when the grasp lifted the object, else 0.0.
            r_h: 1.0 when the push dropped it, else 0.0.
            push: the perturbation applied, or None when nothing pushed.
            held_image: side view of the held object (S, S, 3) uint8; needed with `push`.
            probes: (push index, R_H) of pushes tried and undone from the same held state;
                they train the learned adversary only.
        """
        if push is not None:
            self.pushes.add(image=held_image, theta=grasp.theta,
                            push=self.world.config.perturbations.index(push), dropped=r_h)
        for index, dropped in probes:
            self.pushes.add(image=held_image, theta=grasp.theta, push=index, dropped=dropped)
        if self.attempt == self.config.pretrain_attempts and self.adversary_acts(self.attempt):
            self.forget_unpushed_lifts()
        target = r_r - self.config.alpha * r_h
        self.grasps.add(image=observation, cell=grasp.cell, angle=grasp.angle, target=target)
        self.attempt += 1
        record = {"R_R": r_r, "R_H": r_h, "reward": target, "predicted": grasp.predicted,
                  "phase": 2 if r_h or self.in_phase_two else 1}
        self.recent.append(record)
        return record

    def forget_unpushed_lifts(self) -> None:
        """Drop phase one's lifted grasps from the replay buffer as the adversary starts.

        Their target 1 says "lifted" under R_R alone; under r = R_R - alpha * R_H it depends on
        a push they never met. Left in, they keep teaching that any lift is a full success (about
        a sixth of the demo's buffer at its end). Phase one's misses stay: their target 0 holds
        under either reward. A person's session that starts from a checkpoint keeps its
        buffer as it is.
        """
        size = len(self.grasps)
        self.grasps.keep(self.grasps.data["target"][:size] <= 0)

    def use_world(self, world: GraspWorld) -> None:
        """Attempt in `world` from now on (closing the trainer's own); `close` closes it."""
        if world is not self.world:
            self.world.close()
            self.world = world

    def learn(self) -> dict:
        """One round of updates for the grasper and, once it has data, the adversary."""
        c = self.config
        losses = {"grasper": lambda: self.policy.loss(self.grasps, c.batch_size, self.rng)}
        if c.adversary in TRAINS_LEARNED and len(self.pushes) >= c.batch_size // 2:
            losses["adversary"] = lambda: self.learned.loss(self.pushes, c.batch_size, self.rng)
        start = time.perf_counter()
        metrics = self.trainer.round(losses)
        self.learn_seconds += time.perf_counter() - start
        return metrics

    # -- the run --------------------------------------------------------------------------

    def run(self) -> Path:
        """Train to `config.attempts`, resuming from the run folder's checkpoint if present.

        Ctrl-C (SIGINT) stops at the end of the current attempt and writes a checkpoint, so
        the same command resumes exactly where it stopped.
        """
        c = self.config
        if (self.run_dir / CHECKPOINT).exists():
            self.resume()
            log.info("resumed %s at attempt %d", self.run_dir, self.attempt)
        (self.run_dir / "run.json").write_text(json.dumps(run_metadata(c), indent=2))
        self.trainer.progress_update(self.attempt)
        stop = []
        previous = signal.signal(signal.SIGINT, lambda *_: stop.append(True))
        try:
            self._train(stop)
        finally:
            signal.signal(signal.SIGINT, previous)
        if stop:
            self.checkpoint()
            self.trainer.close()
            raise KeyboardInterrupt(
                f"stopped at attempt {self.attempt} of {c.attempts}; checkpoint written to "
                f"{self.run_dir / CHECKPOINT}: run the same command to resume")
        self.policy.save(self.run_dir / "policy.pt")
        torch.save(self.learned.net.state_dict(), self.run_dir / "adversary.pt")
        self.trainer.close()
        return self.run_dir

    def _train(self, stop: list) -> None:
        c = self.config
        if c.ray_workers:
            train_on_ray(self, stop)
            return
        while self.attempt < c.attempts and not stop:
            self.after_attempt(self.attempt_once())
            if self.attempt % c.checkpoint_every == 0 or self.attempt == c.attempts:
                self.checkpoint()

    def after_attempt(self, record: dict) -> None:
        """Learn when a round is due, then log the attempt."""
        c, metrics = self.config, {}
        if self.attempt >= c.warmup_attempts and self.attempt % c.update_every == 0:
            try:
                metrics = self.learn()
            except NonFiniteLossError as err:
                raise NonFiniteLossError(
                    f"{err} at attempt {self.attempt}; the last good checkpoint "
                    f"{self.run_dir / CHECKPOINT} is kept (lower --lr and resume)") from None
        self._log(record, metrics)

    def _log(self, record: dict, metrics: dict) -> None:
        window = list(self.recent)
        success = np.mean([r["R_R"] for r in window])
        lifted = [r for r in window if r["R_R"]]
        dropped = np.mean([r["R_H"] for r in lifted]) if lifted else 0.0
        rows = {"attempt": self.attempt, "R_R": record["R_R"], "R_H": record["R_H"],
                "reward": record["reward"], "success_200": success, "drop_200": dropped,
                "phase": 2 if self.in_phase_two else 1, **metrics}
        if self.attempt % 10 == 0 or metrics:
            self.trainer.log(rows, step=self.attempt)
        self.trainer.progress_update(1, success=f"{success:.2f}", drop=f"{dropped:.2f}")

    def checkpoint(self) -> Path:
        extra = {"attempt": self.attempt, "rng": self.rng.bit_generator.state,
                 "grasps": self.grasps.state_dict(), "pushes": self.pushes.state_dict(),
                 "recent": list(self.recent), "config": asdict(self.config)}
        return self.trainer.save_checkpoint(self.run_dir / CHECKPOINT, extra=extra)

    def resume(self) -> None:
        """Restore the run from its checkpoint; refuses a config that changes the training."""
        from gan_core.checkpoint import read_checkpoint

        _, saved = read_checkpoint(self.run_dir / CHECKPOINT, ["grasper", "adversary"])
        # A field the checkpoint lacks came in a later version; its default keeps the old
        # behaviour (say grasp_net: angles), so that is what the run was trained with.
        trained = {**{f.name: f.default for f in fields(TrainConfig) if f.default is not MISSING},
                   **saved["config"]}
        changed = {k: (v, getattr(self.config, k)) for k, v in trained.items()
                   if k not in RESUMABLE_CHANGES and getattr(self.config, k, v) != v}
        if changed:
            listing = ", ".join(f"{k}={old!r} (you passed {new!r})"
                                for k, (old, new) in changed.items())
            raise ConfigError(
                f"run folder {self.run_dir} was trained with {listing}; resume with the same "
                "values, or use a new --run-dir")
        if saved["attempt"] > self.config.attempts:
            raise ConfigError(
                f"run folder {self.run_dir} has trained {saved['attempt']} attempts, more than "
                f"--attempts {self.config.attempts}; pass --attempts {saved['attempt']} or more "
                f"to go on, or `advgrasp evaluate {self.run_dir}` to evaluate it")
        extra = self.trainer.load_checkpoint(self.run_dir / CHECKPOINT)
        self.attempt = extra["attempt"]
        self.rng.bit_generator.state = extra["rng"]
        self.grasps.load_state_dict(extra["grasps"])
        self.pushes.load_state_dict(extra["pushes"])
        self.recent.extend(extra["recent"])
        self.started_at = self.attempt

    def close(self) -> None:
        self.world.close()
        run_folder.release(self._claim)


def train_adversary_against(choose, attempts: int, seed: int = 0, batch_size: int = 32,
                            lr: float = 1e-3, epsilon: float = 0.3,
                            object_set: str = "random_urdfs") -> LearnedAdversary:
    """Train a learned adversary alone against a frozen grasper.

    Args:
        choose: the frozen grasper, (world, rgbd observation, rng) -> (x, y, theta).
        attempts: grasp attempts (pushes happen on the lifted ones).
        epsilon: exploration of the adversary while it learns.

    Returns:
        The adversary, greedy (epsilon 0) after training.
    """
    set_seed(seed)
    world = GraspWorld(WorldConfig(object_set=object_set, split="train", obs_mode="rgbd"))
    pushes = world.config.perturbations.all
    adversary = LearnedAdversary(pushes, world.config.held_image_size, epsilon)
    held = world.config.held_image_size
    buffer = ReplayBuffer(attempts, {"image": ((held, held, 3), "uint8"),
                                     "theta": ((), "float32"), "push": ((), "int64"),
                                     "dropped": ((), "float32")})
    rng = np.random.default_rng(seed)
    player = Player("adversary", adversary.net,
                    torch.optim.RMSprop(adversary.net.parameters(), lr=lr))
    trainer = TwoPlayerTrainer([player], device="cpu")
    adversary.reset(rng)
    for _ in range(attempts):
        world.reset(seed=int(rng.integers(2**31)))
        x, y, theta = choose(world, world.observe(), rng)
        outcome = world.grasp(x, y, theta)
        if not outcome.lifted:
            continue
        push = adversary.act(outcome.held_state)
        dropped = float(world.perturb(push).dropped)
        buffer.add(image=outcome.held_image, theta=theta, push=pushes.index(push),
                   dropped=dropped)
        if len(buffer) >= batch_size // 2:
            trainer.round({"adversary": lambda: adversary.loss(buffer, batch_size, rng)})
    trainer.close()
    world.close()
    adversary.epsilon = 0.0
    return adversary
