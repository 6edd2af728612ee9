"""Nothing is lost: a session process killed mid-trial, and two processes writing one study."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import torch
from test_study import write_study

from advgrasp.study import StudyStore
from advgrasp.study.simulate import ScriptedParticipant, run_condition
from envs.perturbation import PerturbationSet

torch.set_num_threads(1)

SESSION = textwrap.dedent("""
    import logging, sys
    import torch
    torch.set_num_threads(1)
    from advgrasp.study.simulate import ScriptedParticipant, run_condition
    from advgrasp.study.store import StudyStore
    from envs.perturbation import PerturbationSet
    import numpy as np
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.getLogger("advgrasp.study.simulate").addHandler(handler)
    logging.getLogger("advgrasp.study.simulate").setLevel(logging.DEBUG)
    store = StudyStore.open(sys.argv[1])
    person = ScriptedParticipant(np.random.default_rng(0), PerturbationSet().all, 10.0)
    run_condition(store, "P01", store.condition("human"), person)
""")

WRITER = textwrap.dedent("""
    import glob, os, sys, time
    sys.path.insert(0, sys.argv[4])
    from test_study import trial_row
    from advgrasp.study.store import StudyStore
    store = StudyStore.open(sys.argv[1])
    session = store.start_session(sys.argv[2], 1, {"writer": sys.argv[2]})
    open(sys.argv[3] + "." + sys.argv[2], "w").close()
    while not os.path.exists(sys.argv[3]):  # both writers start together
        time.sleep(0.001)
    for i in range(int(sys.argv[5])):
        store.record_trial(session, trial_row(i))
        if i == 0:  # neither writer goes on until both have committed a trial: they overlap
            open(sys.argv[3] + ".first." + sys.argv[2], "w").close()
            while len(glob.glob(sys.argv[3] + ".first.*")) < 2:
                time.sleep(0.001)
    print("wrote", sys.argv[5])
""")


def test_sigkill_mid_trial_keeps_every_finished_trial(tmp_path):
    path = tmp_path / "s.sqlite"
    StudyStore.init(path, write_study(tmp_path, conditions=("human",), budget=6,
                                      practice=0)).close()
    with StudyStore.open(path) as store:
        store.add_participant("P01")
    child = subprocess.Popen([sys.executable, "-c", SESSION, str(path)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    reported = []
    for line in child.stdout:
        if "trial" in line and line.strip().endswith("logged"):
            reported.append(int(line.split("trial")[1].split()[0]))
        if line.strip().endswith("trial 3 grasped"):
            os.kill(child.pid, signal.SIGKILL)  # trial 3 is between its grasp and its log
            break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert reported == [0, 1, 2]

    with StudyStore.open(path) as store:
        session = store.sessions()[0]
        assert session["status"] == "running"
        kept = [t["index"] for t in store.finished_trials(session["id"])]
        assert kept[:3] == [0, 1, 2] and kept == list(range(len(kept))) and len(kept) <= 4
        assert store.rows("PRAGMA integrity_check") == [{"integrity_check": "ok"}]

        # The same session resumes after the last logged trial and finishes the budget.
        person = ScriptedParticipant(np.random.default_rng(1), PerturbationSet().all, 10.0)
        assert run_condition(store, "P01", store.condition("human"), person) == session["id"]
        trials = store.finished_trials(session["id"])
        assert [t["index"] for t in trials] == list(range(6))
        assert store.session(session["id"])["status"] == "finished"


def test_two_processes_write_one_study(tmp_path):
    path = tmp_path / "s.sqlite"
    StudyStore.init(path, write_study(tmp_path)).close()
    with StudyStore.open(path) as store:
        store.add_participant("P01")
        store.add_participant("P02")
    go, per_writer = tmp_path / "go", 300
    here = os.path.dirname(__file__)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), code, str(go), here,
                                 str(per_writer)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for code in ("P01", "P02")]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"go.{code}").exists() for code in ("P01", "P02")):
        assert time.monotonic() < deadline, "the writers did not start"
        time.sleep(0.01)
    go.touch()
    outputs = [w.communicate(timeout=120) for w in writers]
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
        assert "locked" not in err and out.strip() == f"wrote {per_writer}"
    with StudyStore.open(path) as store:
        counts = store.rows("SELECT participant, COUNT(*) AS n, COUNT(DISTINCT trial_index) "
                            "AS distinct_n FROM tidy_trials GROUP BY participant")
        assert counts == [{"participant": "P01", "n": per_writer, "distinct_n": per_writer},
                          {"participant": "P02", "n": per_writer, "distinct_n": per_writer}]
        spans = store.rows("SELECT s.id, MIN(t.id) AS first, MAX(t.id) AS last FROM trials t "
                           "JOIN sessions s ON s.id = t.session_id GROUP BY s.id")
        # The two writers really ran at the same time: their trial ids interleave.
        assert spans[0]["last"] > spans[1]["first"] and spans[1]["last"] > spans[0]["first"]
