"""Replay of a session a person played at the window (scripted pygame events, SDL's dummy
drivers): the robot learned in a worker thread there and drew the scene from the physics
hook; the replay, with neither, reproduces every logged outcome."""

from test_play_support import FAST, Participant, make_study

from advgrasp.human.session import run_session
from advgrasp.study.replay import replay_session


def test_window_session_replays_exactly(tmp_path):
    store = make_study(tmp_path)
    result = run_session(store, "P01", adversary_input=Participant(), options=FAST)
    trials = store.finished_trials(result["session_id"])
    assert sum(t["perturbation"] is not None for t in trials) >= 2  # people pushed
    replayed = replay_session(store, result["session_id"])
    assert replayed.trials == len(trials) == 5
    assert replayed.ok, replayed.lines()
