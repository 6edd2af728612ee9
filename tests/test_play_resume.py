"""Sessions stop and go on: a closed window, and a crash between the log and the checkpoint."""

import shutil

import torch
from test_play_support import FAST, Participant, make_study

from advgrasp.human.session import run_session, session_folder
from advgrasp.human.settings import SessionSettings
from advgrasp.human.trials import SESSION_FILE, TrialRunner
from advgrasp.train import CHECKPOINT


def test_closing_the_window_keeps_finished_trials_and_resumes(tmp_path):
    store = make_study(tmp_path)
    first = Participant(close_at=3)
    closed = run_session(store, "P01", adversary_input=first, options=FAST)

    session_id = closed["session_id"]
    kept = store.finished_trials(session_id)
    assert closed["status"] == "closed" and first.chooses == 3
    assert [(t["practice"], t["index"]) for t in kept] == [(True, 0), (False, 0)]
    assert store.session(session_id)["status"] == "running"
    assert (session_folder(store, session_id) / CHECKPOINT).is_file()

    second = Participant()
    resumed = run_session(store, "P01", adversary_input=second, options=FAST)

    assert resumed["session_id"] == session_id and resumed["status"] == "finished"
    assert second.phases[0] == "welcome" and "consent" not in second.phases
    trials = store.finished_trials(session_id)
    assert [(t["practice"], t["index"]) for t in trials] == [
        (True, 0), (False, 0), (False, 1), (False, 2), (False, 3)]
    assert trials[:2] == kept
    # The robot went on from what it had learned before the close (four rounds per trial).
    assert [t["model_version"] for t in trials[1:]] == [0, 4, 8, 12]
    assert resumed["score"].robot + resumed["score"].person + resumed["score"].missed == 4


def test_resume_relearns_trials_the_checkpoint_missed(tmp_path):
    torch.set_num_threads(1)
    settings = SessionSettings(objects=("can",), trials=3, practice_trials=0, seed=9)
    uninterrupted = TrialRunner(settings, tmp_path / "a")
    rows = []
    for _ in range(settings.trials):
        held = uninterrupted.begin()
        push = uninterrupted.allowed[0] if held.lifted else None
        rows.append(uninterrupted.push(push, 0.4 if push else None))
        if len(rows) == 1:
            # The crash: the log holds three trials, the robot's checkpoint only the first.
            (tmp_path / "b").mkdir()
            shutil.copy(tmp_path / "a" / SESSION_FILE, tmp_path / "b" / SESSION_FILE)
            shutil.copy(tmp_path / "a" / CHECKPOINT, tmp_path / "b" / CHECKPOINT)

    resumed = TrialRunner(settings, tmp_path / "b")
    assert resumed.learned_trials == 1
    resumed.resume(rows)
    try:
        assert resumed.learned_trials == 3 and resumed.position == 3 and resumed.finished
        assert resumed.model_version == uninterrupted.model_version == 12
        for net in ("policy", "learned"):
            ours = getattr(resumed.trainer, net).net.state_dict()
            theirs = getattr(uninterrupted.trainer, net).net.state_dict()
            assert all(torch.equal(ours[k], theirs[k]) for k in theirs), net
    finally:
        resumed.close()
        uninterrupted.close()


KILLED_SESSION = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from test_play_support import FAST, Participant
from advgrasp.human.session import run_session
from advgrasp.study.store import StudyStore

class KilledAfterSecondTrial(Participant):
    def __call__(self, window):
        super().__call__(window)
        if window.phase == "outcome" and window.runner.position == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # while the robot learns from trial 2

run_session(StudyStore.open({study!r}), "P01", adversary_input=KilledAfterSecondTrial(),
            options=FAST)
"""


def test_a_killed_session_keeps_its_trials_and_resumes(tmp_path):
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from advgrasp.study.store import StudyStore

    make_study(tmp_path).close()
    study = tmp_path / "study.sqlite"
    code = KILLED_SESSION.format(tests=str(Path(__file__).parent), study=str(study))
    killed = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[1],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    store = StudyStore.open(study)
    assert [(t["practice"], t["index"]) for t in store.finished_trials(1)] == [
        (True, 0), (False, 0)]
    resumed = run_session(store, "P01", adversary_input=Participant(), options=FAST)
    trials = store.finished_trials(resumed["session_id"])
    assert resumed["session_id"] == 1 and resumed["status"] == "finished"
    assert [(t["practice"], t["index"]) for t in trials] == [
        (True, 0), (False, 0), (False, 1), (False, 2), (False, 3)]
    assert [t["model_version"] for t in trials[1:]] == [0, 4, 8, 12]
