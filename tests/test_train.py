"""The trainer through the real CLI: tiny runs, exact resume after SIGKILL, bad checkpoints."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from advgrasp.agents import GraspPolicy
from advgrasp.cli import main
from advgrasp.config import TrainConfig
from advgrasp.train import CHECKPOINT, GraspTrainer
from gan_core.checkpoint import read_checkpoint, write_checkpoint
from gan_core.errors import CheckpointError, NonFiniteLossError

TINY = ["--preset", "tiny", "--no-progress"]


def weights_hash(run_dir: Path) -> str:
    state = torch.load(run_dir / "policy.pt", weights_only=True)["state_dict"]
    digest = hashlib.sha256()
    for key in sorted(state):
        digest.update(state[key].numpy().tobytes())
    return digest.hexdigest()


def test_tiny_run_writes_policy_report_and_metadata(tmp_path):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--run-dir", str(run)]) == 0
    for name in ("policy.pt", "adversary.pt", "checkpoint.pt", "metrics.csv", "metrics.json",
                 "report.md", "learning_curves.png", "grasps.png", "success_assets.png",
                 "run.json"):
        assert (run / name).exists(), name
    meta = json.loads((run / "run.json").read_text())
    assert meta["seed"] == 0 and meta["versions"]["pybullet"] and "config" in meta
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["results"]) == {"random_urdfs", "assets"}
    row = metrics["results"]["random_urdfs"]["trained policy"]
    assert row["attempts"] == 6 and set(row["adversaries"]) == {"random", "oracle", "learned"}
    # The policy API for users who embed a trained policy elsewhere.
    policy = GraspPolicy.load(run / "policy.pt")
    x, y, theta = policy.predict(np.zeros((64, 64, 4), np.uint8))
    assert abs(x) <= 0.15 and abs(y) <= 0.15 and 0 <= theta < np.pi


def test_tiny_run_with_the_rotating_network(tmp_path):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--grasp-net", "rotating", "--eval-scenes", "2",
                 "--run-dir", str(run)]) == 0
    policy = GraspPolicy.load(run)
    assert policy.kind == "rotating"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["results"]["random_urdfs"]["trained policy"]["attempts"] == 2
    assert metrics["fine_search"] is True
    assert main(["evaluate", str(run), "--scenes", "1", "--grid-only"]) == 0
    assert json.loads((run / "metrics.json").read_text())["fine_search"] is False
    assert "no fine search" in (run / "report.md").read_text()
    # Its weights moved from the initial ones, through the rotating network's own loss.
    torch.manual_seed(0)
    initial = GraspPolicy(net="rotating").net.state_dict()
    assert any(not torch.equal(initial[k], v) for k, v in policy.net.state_dict().items())


def test_help_documents_every_config_field(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--alpha" in out and "r = R_R - alpha * R_H" in out
    assert "--pretrain-attempts" in out and "trained on R_R alone" in out


def _train_cmd(run: Path, attempts: int) -> list[str]:
    return [sys.executable, "-m", "advgrasp.cli", "train", *TINY, "--attempts", str(attempts),
            "--checkpoint-every", "10", "--eval-scenes", "0", "--run-dir", str(run)]


def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    subprocess.run(_train_cmd(straight, 60), check=True, capture_output=True)

    proc = subprocess.Popen(_train_cmd(killed, 60), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        if (killed / CHECKPOINT).exists() and (killed / CHECKPOINT).stat().st_size > 0:
            _, extra = read_checkpoint(killed / CHECKPOINT, ["grasper", "adversary"])
            if extra["attempt"] >= 20:
                break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "policy.pt").exists(), "the run finished before it was killed"

    subprocess.run(_train_cmd(killed, 60), check=True, capture_output=True)
    assert weights_hash(killed) == weights_hash(straight)
    initial = GraspTrainer(TrainConfig(seed=0, progress=False), tmp_path / "fresh")
    initial.policy.save(tmp_path / "fresh" / "policy.pt")
    initial.close()
    assert weights_hash(tmp_path / "fresh") != weights_hash(straight)


@pytest.mark.parametrize("content, expected", [
    (b"not a checkpoint at all", "cannot read checkpoint"),
    (None, "not a gan_core checkpoint"),
])
def test_corrupt_or_foreign_checkpoint_names_the_file(tmp_path, capsys, content, expected):
    run = tmp_path / "run"
    run.mkdir()
    if content is None:
        torch.save({"weights": torch.zeros(3)}, run / CHECKPOINT)
    else:
        (run / CHECKPOINT).write_bytes(content)
    assert main(["train", *TINY, "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert str(run / CHECKPOINT) in err and expected in err


def test_corrupt_policy_file_names_the_file(tmp_path):
    path = tmp_path / "policy.pt"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match=str(path)):
        GraspPolicy.load(path)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    config = TrainConfig(attempts=30, pretrain_attempts=30, warmup_attempts=8, batch_size=8,
                         checkpoint_every=10, eval_scenes=0, progress=False)
    trainer = GraspTrainer(config, tmp_path / "run")
    good = []
    original = trainer.attempt_once

    def poisoned():
        record = original()
        if trainer.attempt == 15:  # after the checkpoint at attempt 10
            good.append((tmp_path / "run" / CHECKPOINT).read_bytes())
            trainer.grasps.data["target"][:] = np.nan  # a poisoned buffer: the loss is NaN
        return record

    trainer.attempt_once = poisoned
    with pytest.raises(NonFiniteLossError, match="last good checkpoint"):
        trainer.run()
    assert (tmp_path / "run" / CHECKPOINT).read_bytes() == good[0]
    trainer.close()


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_sb3_baselines_train_and_evaluate(tmp_path, algo):
    run = tmp_path / algo
    assert main(["train", *TINY, "--algo", algo, "--attempts", "24", "--eval-scenes", "3",
                 "--run-dir", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    row = metrics["results"]["random_urdfs"][f"{algo} policy"]
    assert row["attempts"] == 3 and "oracle" in row["adversaries"]
    assert (run / "sb3_model.zip").exists() and (run / "report.md").exists()


def test_ctrl_c_checkpoints_and_resumes_exactly(tmp_path):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    subprocess.run(_train_cmd(straight, 60), check=True, capture_output=True)
    proc = subprocess.Popen(_train_cmd(stopped, 60), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (stopped / CHECKPOINT).exists():
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "run the same command to resume" in err and "Traceback" not in err
    subprocess.run(_train_cmd(stopped, 60), check=True, capture_output=True)
    assert weights_hash(stopped) == weights_hash(straight)


def test_resume_refuses_changed_training_options(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--eval-scenes", "0", "--run-dir", str(run)]) == 0
    before = (run / "run.json").read_text()
    assert main(["train", *TINY, "--eval-scenes", "0", "--alpha", "0.5",
                 "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert "alpha=1.0 (you passed 0.5)" in err and str(run) in err
    assert (run / "run.json").read_text() == before
    # Fewer attempts than were trained is refused; more is a resumable change.
    assert main(["train", *TINY, "--eval-scenes", "0", "--attempts", "30",
                 "--run-dir", str(run)]) == 2
    assert "has trained 40 attempts, more than --attempts 30" in capsys.readouterr().err
    assert main(["train", *TINY, "--eval-scenes", "0", "--attempts", "44",
                 "--run-dir", str(run)]) == 0


def test_resume_of_an_older_checkpoint_takes_new_fields_at_their_defaults(tmp_path, capsys):
    # A checkpoint written before `grasp_net` existed was trained with the angles network: a
    # resume that asks for the rotating one is refused, one with the default goes on.
    run = tmp_path / "run"
    assert main(["train", *TINY, "--eval-scenes", "0", "--run-dir", str(run)]) == 0
    payload = torch.load(run / CHECKPOINT, weights_only=False)
    del payload["state"]["extra"]["config"]["grasp_net"]
    write_checkpoint(run / CHECKPOINT, payload["players"], payload["state"])
    assert main(["train", *TINY, "--eval-scenes", "0", "--attempts", "44",
                 "--grasp-net", "rotating", "--run-dir", str(run)]) == 2
    assert "grasp_net='angles' (you passed 'rotating')" in capsys.readouterr().err
    assert main(["train", *TINY, "--eval-scenes", "0", "--attempts", "44",
                 "--run-dir", str(run)]) == 0


@pytest.mark.parametrize("option, value, message", [
    ("--lr", "-1", "lr -1.0 must be a positive learning rate"),
    ("--lr", "nan", "lr nan must be a positive"),
    ("--width", "0", "width 0 must be at least 1"),
    ("--torch-threads", "0", "torch_threads 0 must be at least 1"),
    ("--epsilon-start", "2", "epsilon_start 2.0 is a probability"),
    ("--eval-scenes", "-1", "eval_scenes -1 must be at least 0"),
    ("--attempts", "0", "attempts 0 must be at least 1"),
    ("--alpha", "2", "alpha 2.0 must be within [0, 1]"),
    ("--top-k-end", "1000000", "top_k_end 1000000 exceeds the 4608 grasp choices"),
    ("--buffer-capacity", "1000000000", "lower --buffer-capacity"),
    ("--object-set", "bogus", "bogus"),
    ("--grasp-net", "resnet", "grasp_net 'resnet': use one of ('angles', 'rotating')"),
])
def test_bad_options_are_refused_with_the_value(tmp_path, capsys, option, value, message):
    assert main(["train", *TINY, option, value, "--run-dir", str(tmp_path / "r")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r").exists(), "a refused run must leave no folder behind"


def test_run_folder_is_refused_when_busy_or_not_a_folder(tmp_path, capsys):
    import fcntl

    run = tmp_path / "run"
    run.mkdir()
    with open(run / ".lock", "w") as other:
        other.write("4242")
        other.flush()
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(["train", *TINY, "--run-dir", str(run)]) == 2
    assert "in use by another training (PID 4242)" in capsys.readouterr().err
    assert not (run / "metrics.csv").exists()
    (tmp_path / "file").write_text("x")
    assert main(["train", *TINY, "--run-dir", str(tmp_path / "file")]) == 2
    assert f"cannot use {tmp_path / 'file'} as a run folder" in capsys.readouterr().err
    assert main(["train", *TINY, "--algo", "ppo", "--ray-workers", "2",
                 "--run-dir", str(run)]) == 2
    assert "--ray-workers 2 applies to --algo grasp only" in capsys.readouterr().err


def test_policy_refuses_images_it_cannot_read(tmp_path):
    policy = GraspPolicy()
    from envs.errors import InvalidActionError
    with pytest.raises(InvalidActionError, match="dtype float64 is not uint8"):
        policy.predict(np.zeros((64, 64, 4)))
    with pytest.raises(InvalidActionError, match="obs_mode='rgbd'"):
        policy.predict(np.zeros((64, 64, 3), np.uint8))


def test_evaluate_points_at_the_runs_inside_a_folder(tmp_path, capsys):
    (tmp_path / "demo" / "a").mkdir(parents=True)
    (tmp_path / "demo" / "a" / "run.json").write_text("{}")
    assert main(["evaluate", str(tmp_path / "demo")]) == 2
    assert str(tmp_path / "demo" / "a") in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "demo" / "a"), "--scenes", "0"]) == 2
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2
    assert "nowhere does not exist" in capsys.readouterr().err
    with pytest.raises(CheckpointError, match="has no policy.pt"):
        GraspPolicy.load(tmp_path / "demo" / "a")


def test_evaluate_names_a_damaged_run_json(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--eval-scenes", "0", "--run-dir", str(run)]) == 0
    (run / "run.json").write_text('{"config": {"adv')
    assert main(["evaluate", str(run), "--scenes", "1"]) == 2
    assert f"cannot read {run / 'run.json'}: JSONDecodeError" in capsys.readouterr().err


def test_tiny_run_against_the_oracle_trains_the_learned_adversary(tmp_path):
    runs = {kind: tmp_path / kind for kind in ("oracle", "random")}
    for kind, run in runs.items():
        assert main(["train", *TINY, "--adversary", kind, "--eval-scenes", "0",
                     "--run-dir", str(run)]) == 0
    _, saved = read_checkpoint(runs["oracle"] / CHECKPOINT, ["grasper", "adversary"])
    # Every push the oracle search tried was stored for the learned adversary, which trained on
    # them; with the random adversary it does not train and keeps the same initial weights.
    assert saved["pushes"]["size"] > 0
    weights = {kind: torch.load(run / "adversary.pt", weights_only=True)
               for kind, run in runs.items()}
    assert any(not torch.equal(weights["oracle"][k], v) for k, v in weights["random"].items())
    # So its evaluation faces it too, here on fresh scenes of the held-out objects.
    assert main(["evaluate", str(runs["oracle"]), "--scenes", "1", "--scene-seed", "7100000"]) == 0
    metrics = json.loads((runs["oracle"] / "metrics.json").read_text())
    assert "learned" in metrics["results"]["random_urdfs"]["trained policy"]["adversaries"]
    assert "seeds from 7100000" in (runs["oracle"] / "report.md").read_text()
