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
