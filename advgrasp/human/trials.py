"""`TrialRunner`: the robot, its world and its online learning, one trial at a time.

No window here: the pygame session and scripted participants (`advgrasp study simulate`) both
drive a runner. A trial has two halves:

    held = runner.begin()                    # reset, observe, choose a grasp, grasp and lift
    trial = runner.push(push, reaction_s)    # push the held object (or None), learn, log row

`push` returns the trial as a dict with the keys the study store logs. Scored trials feed the
robot's replay buffer and start `updates_per_trial` learning rounds; practice trials do not. With
`background=True` the rounds run in a worker thread (one torch thread), so a window keeps
drawing; the next `begin` waits for them. A runner with a `run_dir` checkpoints the robot after
each trial's learning and resumes from there (`resume`), re-learning any logged trial that the
checkpoint missed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advgrasp.agents import Grasp, GraspPolicy
from advgrasp.human.errors import SessionError
from advgrasp.human.live import BackgroundLearner, LiveWorld
from advgrasp.human.settings import SessionSettings, perturbation_from_name, perturbation_name
from advgrasp.human.start import starting_point, write_atomic
from advgrasp.policy import ANGLES
from advgrasp.train import CHECKPOINT, GraspTrainer
from envs.outcomes import GraspOutcome
from envs.perturbation import Perturbation
from envs.world import WorldConfig

log = logging.getLogger(__name__)
SESSION_FILE = "session.json"


@dataclass
class HeldTrial:
    """The first half of a trial: the scene, the robot's grasp and whether it lifted.

    Attributes:
        index: trial number, 0-based, counted separately for practice and scored trials.
        practice: a practice trial (logged, excluded from analysis, not learned from).
        object: object name; seed: the world seed of the scene.
        grasp: the robot's grasp (x, y in metres, theta in radians, predicted success).
        outcome: the world's grasp outcome (`lifted` is R_R).
        observation: the top-down RGB-D image the grasp was chosen from, (H, W, 4) uint8.
        wall_time: Unix time at the start (s); monotonic_start: monotonic clock then (s).
        model_version: learning rounds the robot had taken when it chose the grasp.
    """

    index: int
    practice: bool
    object: str
    seed: int
    grasp: Grasp
    outcome: GraspOutcome
    observation: np.ndarray
    wall_time: float
    monotonic_start: float
    model_version: int

    @property
    def lifted(self) -> bool:
        return bool(self.outcome.lifted)


class TrialRunner:
    """Robot, world and online learner for one session, with no window.

    Args:
        settings: the session's settings.
        run_dir: folder for the robot's session checkpoint (resume); None: no checkpoints.
        background: learn in a worker thread (a window's main loop keeps running).

    Attributes:
        position: the next trial's place in the session, practice trials first.
        allowed: the perturbations a push may be (the world's set).
        chosen: (observation, grasp) of the trial under way once the robot has chosen, so a
            window can draw the grasp while the hand moves; None before.
    """

    def __init__(self, settings: SessionSettings, run_dir: str | Path | None = None,
                 background: bool = False):
        settings.validate()
        self.settings, self.background = settings, background
        self.run_dir = Path(run_dir) if run_dir is not None else None
        config, start_attempt, start = starting_point(settings.checkpoint)
        self._scratch = None if self.run_dir else tempfile.TemporaryDirectory(
            prefix="advgrasp-trials-")
        folder = self.run_dir or Path(self._scratch.name)
        self.base_attempt = self._prepare_folder(folder, start_attempt, start)
        self.trainer = GraspTrainer(config, folder)
        if (folder / CHECKPOINT).exists():
            self.trainer.resume()
        elif start is not None:
            self.trainer.policy.net.load_state_dict(GraspPolicy.load(start).net.state_dict())
        self.world = LiveWorld(WorldConfig(object_set=settings.object_set, split="all",
                                           image_size=config.image_size, obs_mode="rgbd"))
        self.trainer.use_world(self.world)
        self.allowed: list[Perturbation] = self.world.config.perturbations.all
        self.learner = BackgroundLearner()
        self.position = 0
        self.current: HeldTrial | None = None
        self.chosen: tuple[np.ndarray, Grasp] | None = None

    def _prepare_folder(self, folder: Path, start_attempt: int, start: Path | None) -> int:
        """Copy the starting checkpoint and write the session file, once per folder."""
        folder.mkdir(parents=True, exist_ok=True)
        info = folder / SESSION_FILE
        if info.exists():
            return int(json.loads(info.read_text())["base_attempt"])
        if start is not None and start.name != "policy.pt":
            partial = folder / (CHECKPOINT + ".copy")
            shutil.copyfile(start, partial)
            os.replace(partial, folder / CHECKPOINT)
        write_atomic(info, json.dumps({"base_attempt": start_attempt,
                                        "checkpoint": None if start is None else str(start)
                                        }).encode())
        return start_attempt

    # -- state ----------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.position >= self.settings.total_trials

    @property
    def learning(self) -> bool:
        """True while learning rounds run in the background."""
        return self.learner.busy

    @property
    def model_version(self) -> int:
        """Learning rounds the robot has taken (the starting checkpoint's included)."""
        return int(self.trainer.trainer.step)

    @property
    def learned_trials(self) -> int:
        """Scored trials of this session in the robot's buffers (and its checkpoint)."""
        return self.trainer.attempt - self.base_attempt

    # -- a trial --------------------------------------------------------------------------

    def begin(self) -> HeldTrial:
        """Reset the next trial's scene, let the robot choose a grasp, grasp and lift."""
        if self.finished:
            raise SessionError(f"all {self.settings.total_trials} trials are done; start a "
                               "new session for more")
        self.learner.wait()
        self.chosen = None
        practice, index = self.settings.trial_at(self.position)
        name, seed = self.settings.scene(practice, index)
        wall, start = time.time(), time.monotonic()
        self.world.reset(seed=seed, object=name)
        observation = self.world.observe()
        version = self.model_version
        grasp = self.trainer.choose_grasp(observation)
        self.chosen = (observation, grasp)
        outcome = self.world.grasp(grasp.x, grasp.y, grasp.theta)
        self.current = HeldTrial(index, practice, name, seed, grasp, outcome, observation,
                                 wall, start, version)
        return self.current

    def push(self, perturbation: Perturbation | None, reaction_time_s: float | None) -> dict:
        """Apply the person's push (None: no push) to the held object and finish the trial.

        Args:
            perturbation: one of `allowed`, or None (no push, or nothing held).
            reaction_time_s: monotonic seconds from input enabled to confirmation; None
                when nothing was confirmed.

        Returns:
            The trial row: index, practice, object, seed, wall_time, monotonic_start,
            monotonic_end, grasp_x, grasp_y, grasp_theta, predicted_success, r_r,
            perturbation (name or None), reaction_time_s, r_h, reward, model_version.
        """
        held = self.current
        if held is None:
            raise SessionError("push() before begin(): begin the trial first")
        if perturbation is not None and perturbation not in self.allowed:
            raise SessionError(f"perturbation {perturbation} is not in the allowed set; "
                               f"choose one of {[perturbation_name(p) for p in self.allowed]}")
        if perturbation is not None and not held.lifted:
            raise SessionError(f"trial {held.index}: nothing is held (the grasp "
                               f"{held.outcome.reason}); push None")
        r_r = float(held.lifted)
        r_h = float(self.world.perturb(perturbation).dropped) if perturbation else 0.0
        end = time.monotonic()
        self.current = None
        self.position += 1
        trial = {"index": held.index, "practice": held.practice, "object": held.object,
                 "seed": held.seed, "wall_time": held.wall_time,
                 "monotonic_start": held.monotonic_start, "monotonic_end": end,
                 "grasp_x": held.grasp.x, "grasp_y": held.grasp.y,
                 "grasp_theta": held.grasp.theta, "predicted_success": held.grasp.predicted,
                 "r_r": r_r, "perturbation": perturbation_name(perturbation),
                 "reaction_time_s": reaction_time_s if perturbation else None, "r_h": r_h,
                 "reward": r_r - self.trainer.config.alpha * r_h,
                 "model_version": held.model_version}
        if not held.practice:
            self.trainer.record_attempt(held.observation, held.grasp, r_r, r_h, perturbation,
                                        held.outcome.held_image)
            if self.background:
                self.learner.start(self._learn_and_save)
            else:
                self._learn_and_save()
        return trial

    def _learn_and_save(self) -> None:
        for _ in range(self.settings.updates_per_trial):
            self.trainer.learn()
        if self.run_dir is not None:
            self.trainer.checkpoint()

    # -- resume ---------------------------------------------------------------------------

    def resume(self, finished_trials: list[dict]) -> None:
        """Continue after the logged `finished_trials` (practice first, each by index).

        Scored trials that the robot's checkpoint does not hold yet (a crash between the log
        and the checkpoint) are re-simulated from their logged seed, object and grasp and
        learned from again, so the robot is where it was when the last trial was logged.
        """
        scored = [t for t in finished_trials if not t["practice"]]
        missing = scored[self.learned_trials:] if self.learned_trials < len(scored) else []
        if self.learned_trials > len(scored):
            log.warning("the robot's checkpoint holds %d scored trials, the log %d: the "
                        "robot keeps what it learned from the unlogged one",
                        self.learned_trials, len(scored))
        hook, self.world.on_step = self.world.on_step, None
        try:
            for trial in missing:
                self._relearn(trial)
        finally:
            self.world.on_step = hook
        self.position = len(finished_trials)
        log.info("resumed at trial %d (%d re-learned)", self.position, len(missing))

    def _relearn(self, trial: dict) -> None:
        self.world.reset(seed=int(trial["seed"]), object=trial["object"])
        observation = self.world.observe()
        # Choosing again draws from the robot's generator as the live trial did, so the
        # learning rounds that follow sample the same batches; the logged grasp is executed.
        chosen = self.trainer.choose_grasp(observation)
        grasp = self.grasp_from_pose(trial["grasp_x"], trial["grasp_y"], trial["grasp_theta"],
                                     trial["predicted_success"])
        if (chosen.cell, chosen.angle) != (grasp.cell, grasp.angle):
            log.warning("trial %d: the restored robot chooses another grasp than the logged "
                        "one (the checkpoint and the log disagree); the logged one is used",
                        trial["index"])
        outcome = self.world.grasp(grasp.x, grasp.y, grasp.theta)
        push = perturbation_from_name(trial["perturbation"], self.allowed)
        self.trainer.record_attempt(observation, grasp, float(trial["r_r"]),
                                    float(trial["r_h"]), push if outcome.lifted else None,
                                    outcome.held_image)
        self._learn_and_save()

    def grasp_from_pose(self, x: float, y: float, theta: float, predicted: float) -> Grasp:
        """The grid cell and angle bin of a logged grasp pose (metres, radians)."""
        policy = self.trainer.policy
        row_px, col_px = policy.camera.world_to_pixel(x, y)
        row, col = (int(round((float(v) + 0.5) / 4 - 0.5)) for v in (row_px, col_px))
        angle = int(round(theta / (np.pi / ANGLES))) % ANGLES
        return Grasp(row * policy.grid + col, angle, float(x), float(y), float(theta),
                     float(predicted))

    def close(self) -> None:
        """Wait for learning to end (its checkpoint included) and free the world."""
        try:
            self.learner.wait()
        finally:
            self.trainer.trainer.close()
            self.trainer.close()
            if self._scratch is not None:
                self._scratch.cleanup()
