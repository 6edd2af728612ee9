"""A whole simulated study through the CLI: simulate, replay, export, report, withdraw,
exclude, status; replay catches an altered grasp pose."""

import csv
import json
import sqlite3

import pytest
import torch
from test_study import write_study

from advgrasp.cli import main
from advgrasp.study import StudyStore
from advgrasp.study.replay import replay_study

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Two scripted participants, a human and a matched random-adversary condition."""
    folder = tmp_path_factory.mktemp("study")
    config = write_study(folder, conditions=("human", "random"), budget=4, practice=1,
                         held_out_scenes=2)
    path = folder / "pilot.sqlite"
    assert main(["study", "simulate", str(path), "--config", str(config),
                 "--participants", "2"]) == 0
    return path


def test_simulated_study_is_logged_and_matched(study, capsys):
    c = sqlite3.connect(study)
    rows = c.execute("SELECT participant, condition, practice, trial_index, seed, object, "
                     "perturbation, reaction_time_s, r_r, r_h FROM tidy_trials").fetchall()
    scored = [r for r in rows if not r[2]]
    assert len(scored) == 2 * 2 * 4 and sum(r[2] for r in rows) == 2  # practice: 1 each
    for code in ("S01", "S02"):  # matched controls: same seeds and objects in both conditions
        human = [(r[3], r[4], r[5]) for r in scored if r[0] == code and r[1] == "human"]
        random = [(r[3], r[4], r[5]) for r in scored if r[0] == code and r[1] == "random"]
        assert human == random and len(human) == 4
    assert sum(r[6] is not None for r in scored if r[1] == "human") >= 1
    for r in scored:
        if r[6] is not None:
            assert r[8] == 1.0 and (r[1] == "random" or 0 < r[7] <= 10.0)
        else:
            assert r[9] == 0.0
    assert c.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 2 * 5  # human sessions
    assert c.execute("SELECT COUNT(*), MIN(scenes) FROM evaluations").fetchone() == (4, 2)
    assert c.execute("SELECT COUNT(*) FROM sessions WHERE status = 'finished'").fetchone()[0] == 4
    c.close()


def test_replay_reproduces_then_catches_altered_grasp(study, tmp_path, capsys):
    assert main(["study", "replay", str(study)]) == 0
    out = capsys.readouterr().out
    assert "replayed 4 sessions: every logged outcome reproduced" in out
    altered = tmp_path / "altered.sqlite"
    source, copy = sqlite3.connect(study), sqlite3.connect(altered)
    source.backup(copy)
    source.close()
    trial_id, session_id, index = copy.execute(
        "SELECT id, session_id, idx FROM trials WHERE practice = 0 ORDER BY id LIMIT 1 OFFSET 2"
    ).fetchone()
    copy.execute("UPDATE trials SET grasp_x = grasp_x + 0.02 WHERE id = ?", (trial_id,))
    copy.commit()
    copy.close()
    assert main(["study", "replay", str(altered), "--session", str(session_id)]) == 1
    out = capsys.readouterr().out
    assert f"session {session_id}: 5 trials replayed, MISMATCH" in out
    # the database id that `study exclude --trial` takes, and the place in the session
    assert f"trial id {trial_id} (scored trial {index + 1} of the session): grasp_x logged" in out
    assert f"MISMATCH in sessions [{session_id}]" in out


def test_withdraw_exclude_export_report(study, tmp_path, capsys):
    work = tmp_path / "work.sqlite"
    source, copy = sqlite3.connect(study), sqlite3.connect(work)
    source.backup(copy)
    source.close()
    trial_id = copy.execute("SELECT trial_id FROM tidy_trials WHERE participant = 'S02' AND "
                            "practice = 0 ORDER BY trial_id LIMIT 1").fetchone()[0]
    copy.close()
    assert main(["study", "add-participant", str(work), "P03"]) == 0
    assert main(["study", "withdraw", str(work), "P03"]) == 0
    assert main(["study", "exclude", str(work), "S01", "--trial", str(trial_id),
                 "--reason", "wrong code"]) == 2
    captured = capsys.readouterr()
    assert "added participant P03 (order 2): human -> random" in captured.out
    assert f"trial {trial_id} is not participant S01's" in captured.err
    assert main(["study", "exclude", str(work), "S02", "--trial", str(trial_id),
                 "--reason", "object fell through the tray"]) == 0
    assert main(["study", "status", str(work)]) == 0
    out = capsys.readouterr().out
    assert "P03      withdrawn" in out and f"exclusion S02 trial {trial_id}" in out

    assert main(["study", "export", str(work), "--out", str(tmp_path / "csv")]) == 0
    with open(tmp_path / "csv" / "trials_tidy.csv", newline="") as f:
        tidy = list(csv.DictReader(f))
    assert len(tidy) == 18 and sum(r["excluded"] == "1" for r in tidy) == 1
    for table in ("participants", "sessions", "answers", "events", "evaluations"):
        assert (tmp_path / "csv" / f"{table}.csv").stat().st_size > 0

    assert main(["study", "report", str(work), "--out", str(tmp_path / "report")]) == 0
    out = capsys.readouterr().out
    assert "left out 2 practice trials, 1 withdrawn participants (0 trials), 1 excluded" in out
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    rates = {r["condition"]: r for r in summary["rates"]}
    assert rates["human"]["trials"] + rates["random"]["trials"] == 15
    assert summary["participants_analysed"] == 2
    assert [(p["a"], p["b"]) for p in summary["wilcoxon"]] == [("human", "random")]
    assert summary["wilcoxon"][0]["n"] == 2
    assert {r["object_set"] for r in summary["held_out"]} == {"assets"}
    for plot in ("success_by_condition.png", "learning_curves.png", "held_out.png",
                 "questionnaire.png"):
        assert (tmp_path / "report" / plot).read_bytes()[:4] == b"\x89PNG"
    report = (tmp_path / "report" / "report.md").read_text()
    assert "object fell through the tray" in report and "Holm" in report


def test_cli_errors_name_the_culprit(study, tmp_path, capsys):
    assert main(["study", "withdraw", str(study), "NOPE"]) == 2
    assert "unknown participant code 'NOPE'" in capsys.readouterr().err
    bad = tmp_path / "q.toml"
    bad.write_text('[scale]\nmin = 1\nmax = 7\n[[items]]\nid = "9lives"\ntext = "x"\n')
    config = write_study(tmp_path, questionnaire=bad.as_posix())
    assert main(["study", "init", str(tmp_path / "new.sqlite"), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "q.toml item 1: id '9lives' must start with a letter" in err
    assert not (tmp_path / "new.sqlite").exists()


def test_matched_controls_of_a_real_participant(tmp_path, capsys):
    config = write_study(tmp_path, conditions=("human", "random", "none"), budget=3)
    path = tmp_path / "real.sqlite"
    assert main(["study", "init", str(path), "--config", str(config)]) == 0
    assert main(["study", "add-participant", str(path), "P01"]) == 0
    assert main(["study", "simulate", str(path), "--controls", "P01", "--no-evaluate"]) == 0
    assert "ran the matched controls of 1 participants: 2 sessions" in capsys.readouterr().out
    with StudyStore.open(path) as store:
        expected = store.session_settings("P01", "human")["seeds"]
        by_condition = {}
        for session in store.sessions():
            trials = store.finished_trials(session["id"])
            by_condition[session["condition"]] = [t["seed"] for t in trials]
            assert session["status"] == "finished" and not any(t["practice"] for t in trials)
        assert by_condition == {"random": expected, "none": expected}
        assert store.next_condition("P01")["name"] == "human"


def test_oracle_and_learned_controls_replay_exactly(tmp_path):
    """The oracle tries every push from a saved state before the real one, and the learned
    adversary trains with the robot: replay, which applies only the logged pushes, still
    reproduces every outcome."""
    config = write_study(tmp_path, conditions=("oracle", "learned"), budget=3, practice=0,
                         seed=7)  # a seed where the fresh robot lifts in both conditions
    path = tmp_path / "controls.sqlite"
    assert main(["study", "simulate", str(path), "--config", str(config), "--participants",
                 "1", "--no-evaluate"]) == 0
    with StudyStore.open(path) as store:
        pushed = store.rows("SELECT condition, COUNT(perturbation) AS pushes, SUM(r_r) AS "
                            "lifted FROM tidy_trials GROUP BY condition ORDER BY condition")
        assert [(r["condition"], r["pushes"]) for r in pushed] == [
            (r["condition"], r["lifted"]) for r in pushed]  # every lifted object was pushed
        assert all(r["pushes"] >= 1 for r in pushed)
        results = replay_study(store)
        assert [r.trials for r in results] == [3, 3] and all(r.ok for r in results)
