"""Grasp attempts in one process or spread over Ray actors, one actor per environment worker.

`play_attempt` is one attempt (reset, observe, choose, grasp, push); the trainer runs it in its
own world, and `RayRollouts` runs it in the worlds of Ray actors. With `--ray-workers N` the
trainer works in *waves*: it sends the current weights to every actor, each actor plays
`update_every` attempts with them, and the trainer then stores the wave in order and learns
after every `update_every` attempts, as in one process. Scene seeds come from (seed, attempt
index), and checkpoints and Ctrl-C fall on wave boundaries, so a resumed Ray run ends with the
same weights as an uninterrupted one with the same number of workers.

By default Ray starts a private local instance (`ray_address="local"`); pass the address of a
running cluster (for example "auto" on a node of one) to spread actors over its machines.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from advgrasp.agents import Grasp, GraspPolicy, LearnedAdversary, OracleSearch
from advgrasp.config import TrainConfig
from envs.adversary import Adversary, make_adversary
from envs.errors import ConfigError
from envs.perturbation import Perturbation
from envs.world import GraspWorld, WorldConfig

log = logging.getLogger(__name__)


@dataclass
class Attempt:
    """What one attempt produced, as `GraspTrainer.record_attempt` stores it."""

    observation: np.ndarray
    grasp: Grasp
    r_r: float
    r_h: float
    push: Perturbation | None
    held_image: np.ndarray | None
    probes: list[tuple[int, float]] = field(default_factory=list)
    """(push index, R_H) of pushes tried from the held state before the real one."""


def play_attempt(world: GraspWorld, policy: GraspPolicy, adversary: Adversary | None,
                 rng: np.random.Generator, top_k: int, epsilon: float,
                 probes: int = 0) -> Attempt:
    """Reset to a scene drawn from `rng`, grasp, and let `adversary` push if the object is held.

    Args:
        adversary: the phase-two adversary, or None while it does not act.
        top_k, epsilon: the grasp exploration (see `GraspPolicy.choose`).
        probes: pushes, drawn at random, tried from the held state (and undone) before the
            adversary's push, to label a learned adversary's other outputs.
    """
    world.reset(seed=int(rng.integers(2**31)))
    observation = world.observe()
    grasp = policy.choose(observation, rng, top_k, epsilon)
    outcome = world.grasp(grasp.x, grasp.y, grasp.theta)
    r_h, push = 0.0, None
    if outcome.lifted and adversary is not None:
        adversary.reset(rng)
        if isinstance(adversary, OracleSearch):  # its tries are its verdict: no push after them
            push, r_h, tries = adversary.search(outcome.held_state)
            return Attempt(observation, grasp, 1.0, r_h, push, outcome.held_image, tries[:-1])
        push = adversary.act(outcome.held_state)
        pushes = world.config.perturbations.all
        tried = rng.choice(len(pushes), size=min(probes, len(pushes)), replace=False) \
            if probes else []
        probed = [(int(i), float(world.trial_push(pushes[i]).dropped)) for i in tried]
        r_h = float(world.perturb(push).dropped)
        return Attempt(observation, grasp, 1.0, r_h, push, outcome.held_image, probed)
    return Attempt(observation, grasp, float(outcome.lifted), r_h, push, outcome.held_image)


def phase_two_adversary(kind: str, world: GraspWorld, learned: LearnedAdversary) -> Adversary:
    """The adversary that pushes in phase two of training, by `TrainConfig.adversary`."""
    if kind == "learned":
        return learned
    if kind == "oracle":
        return OracleSearch(world, learned)
    return make_adversary(kind, world)


def attempt_seed(seed: int, attempt: int) -> int:
    """The scene-and-exploration seed of attempt number `attempt` of a run seeded `seed`."""
    return int(np.random.SeedSequence([seed, attempt]).generate_state(1)[0])


class RolloutWorker:
    """A world, a copy of the grasp policy and the phase-two adversary, inside one Ray actor."""

    def __init__(self, config: dict):
        torch.set_num_threads(1)
        c = TrainConfig(**config)
        self.world = GraspWorld(WorldConfig(object_set=c.object_set, split="train",
                                            image_size=c.image_size, obs_mode="rgbd"))
        wc = self.world.config
        self.policy = GraspPolicy(c.image_size, wc.workspace_side_m, wc.depth_range_m, c.width,
                                  net=c.grasp_net)
        self.learned = LearnedAdversary(wc.perturbations.all, wc.held_image_size,
                                        c.adversary_epsilon)
        self.adversary = phase_two_adversary(c.adversary, self.world, self.learned)
        self.probes = c.adversary_probes if c.adversary == "learned" else 0

    def ready(self) -> bool:
        """True once the actor's world is built (a call to wait on)."""
        return True

    def run(self, grasper_state: dict, adversary_state: dict,
            jobs: list[tuple[int, int, float, bool]]) -> list[Attempt]:
        """Play `jobs` = [(seed, top_k, epsilon, adversary acts)] with the given weights."""
        self.policy.net.load_state_dict(grasper_state)
        self.learned.net.load_state_dict(adversary_state)
        return [play_attempt(self.world, self.policy, self.adversary if pushes else None,
                             np.random.default_rng(seed), top_k, epsilon, self.probes)
                for seed, top_k, epsilon, pushes in jobs]


class RayRollouts:
    """`workers` Ray actors, each with its own world; `run` splits a wave of jobs among them.

    Args:
        config: the run's config (`ray_workers` actors; `ray_address` "local" starts a private
            Ray instance, any other value is passed to `ray.init` to join a cluster).
    """

    def __init__(self, config: TrainConfig):
        try:
            import ray
        except ImportError as err:
            raise ConfigError(f"--ray-workers {config.ray_workers} needs Ray: pip install "
                              "'advgrasp[ray]' (or set --ray-workers 0)") from err
        self.ray = ray
        self.started_here = not ray.is_initialized()
        if self.started_here:
            # Ray reports usage to its developers unless told not to; nothing here phones home.
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            local = config.ray_address == "local"
            ray.init(address=config.ray_address, num_cpus=config.ray_workers if local else None,
                     include_dashboard=False, log_to_driver=False, configure_logging=False)
        remote = ray.remote(num_cpus=1)(RolloutWorker)
        start = time.perf_counter()
        self.actors = [remote.remote(asdict(config)) for _ in range(config.ray_workers)]
        ray.get([actor.ready.remote() for actor in self.actors])
        log.info("%d Ray rollout actors started in %.1f s", len(self.actors),
                 time.perf_counter() - start)

    def run(self, grasper: torch.nn.Module, adversary: torch.nn.Module,
            jobs: list[tuple[int, int, float, bool]]) -> list[Attempt]:
        """Play `jobs` on the actors (contiguous shares, in order) with these weights."""
        ray = self.ray
        weights = [ray.put({k: v.detach().cpu() for k, v in net.state_dict().items()})
                   for net in (grasper, adversary)]
        shares = np.array_split(np.arange(len(jobs)), len(self.actors))
        futures = [actor.run.remote(*weights, [jobs[i] for i in share])
                   for actor, share in zip(self.actors, shares, strict=True) if len(share)]
        return [attempt for result in ray.get(futures) for attempt in result]

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        if self.started_here and self.ray.is_initialized():
            self.ray.shutdown()


def train_on_ray(trainer, stop: list) -> None:
    """The trainer's loop with attempts played on Ray actors, one wave at a time.

    Args:
        trainer: a `GraspTrainer` whose config has `ray_workers` > 0.
        stop: set non-empty (by Ctrl-C) to stop at the end of the current wave.
    """
    c = trainer.config
    wave = c.ray_workers * c.update_every
    pool = RayRollouts(c)
    try:
        while trainer.attempt < c.attempts and not stop:
            first = trainer.attempt
            # Waves stay aligned to multiples of `wave`, so a resumed run regroups identically.
            n = min(wave - first % wave, c.attempts - first)
            jobs = []
            for index in range(first, first + n):
                top_k, epsilon = trainer.exploration(index)
                jobs.append((attempt_seed(c.seed, index), top_k, epsilon,
                             trainer.adversary_acts(index)))
            start = time.perf_counter()
            attempts = pool.run(trainer.policy.net, trainer.learned.net, jobs)
            trainer.env_seconds += time.perf_counter() - start
            for a in attempts:
                record = trainer.record_attempt(a.observation, a.grasp, a.r_r, a.r_h, a.push,
                                                a.held_image, a.probes)
                trainer.after_attempt(record)
            if (trainer.attempt // c.checkpoint_every > first // c.checkpoint_every
                    or trainer.attempt == c.attempts):
                trainer.checkpoint()
    finally:
        pool.close()
