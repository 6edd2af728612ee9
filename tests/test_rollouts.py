"""Training with attempts played on Ray actors (a private local Ray instance)."""

import signal
import subprocess
import sys
import time

import numpy as np
from test_train import weights_hash

from advgrasp.agents import GraspPolicy
from advgrasp.rollouts import attempt_seed, play_attempt
from advgrasp.train import CHECKPOINT
from envs.adversary import RandomAdversary
from envs.world import GraspWorld, WorldConfig


def _ray_cmd(run, attempts=40):
    return [sys.executable, "-m", "advgrasp.cli", "train", "--preset", "tiny", "--no-progress",
            "--attempts", str(attempts), "--checkpoint-every", "8", "--eval-scenes", "0",
            "--ray-workers", "2", "--run-dir", str(run)]


def test_play_attempt_is_a_function_of_its_seed():
    world = GraspWorld(WorldConfig(obs_mode="rgbd"))
    policy = GraspPolicy()
    adversary = RandomAdversary(world.config.perturbations)
    runs = [play_attempt(world, policy, adversary, np.random.default_rng(attempt_seed(3, 5)),
                         top_k=4, epsilon=0.5) for _ in range(2)]
    world.close()
    assert runs[0].grasp == runs[1].grasp and runs[0].r_r == runs[1].r_r
    assert np.array_equal(runs[0].observation, runs[1].observation)
    assert attempt_seed(3, 5) != attempt_seed(3, 6) != attempt_seed(4, 5)


def test_ray_run_stopped_with_ctrl_c_resumes_to_the_same_weights(tmp_path):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    done = subprocess.run(_ray_cmd(straight), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Ray rollout actors started" in done.stderr

    proc = subprocess.Popen(_ray_cmd(stopped), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 300
    while time.time() < deadline and not (stopped / CHECKPOINT).exists():
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-2000:]
    assert "run the same command to resume" in err
    assert not (stopped / "policy.pt").exists(), "the run finished before it was stopped"

    resumed = subprocess.run(_ray_cmd(stopped), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert weights_hash(stopped) == weights_hash(straight)
