"""Mistakes a new user makes with `advgrasp study`: each gives one line on stderr that names
the bad value and the fix, exit status 2, and changes nothing in the study file."""

import shutil
import sqlite3
from pathlib import Path

import pytest
import torch
from conftest import cli_fails as fails
from test_study import trial_row, write_study

from advgrasp.cli import main
from advgrasp.study import (
    StudyConfigError,
    StudyDataError,
    StudyFileError,
    StudyStore,
)

torch.set_num_threads(1)
OBJECTS = Path(__file__).resolve().parents[1] / "assets" / "objects"



@pytest.fixture
def study(tmp_path):
    """A study file with participants P01 and P02; P01 has one session with two trials."""
    path = tmp_path / "s.sqlite"
    with StudyStore.init(path, write_study(tmp_path)) as store:
        store.add_participant("P01")
        store.add_participant("P02")
        settings = store.session_settings("P01", "human")
        session = store.start_session("P01", "human", settings)
        for index in range(2):
            store.record_trial(session, trial_row(index))
    return path


def events(path: Path) -> list[tuple]:
    with StudyStore.open(path) as store:
        return [(e["kind"], e["session_id"], e["trial_id"]) for e in store.events()]


def test_report_without_trials_or_participants_left(tmp_path, capsys, study):
    fresh = tmp_path / "fresh.sqlite"
    StudyStore.init(fresh, write_study(tmp_path)).close()
    fails(["study", "report", fresh, "--out", tmp_path / "r1"], capsys, "no trials logged yet")
    with StudyStore.open(fresh) as store:
        store.add_participant("P01")
    fails(["study", "report", fresh, "--out", tmp_path / "r1"], capsys, "no trials logged yet")
    assert not (tmp_path / "r1").exists()
    for code in ("P01", "P02"):
        assert main(["study", "withdraw", str(study), code]) == 0
    fails(["study", "report", study, "--out", tmp_path / "r2"], capsys,
          "no participants left to analyse")


def corrupt_checkpoint(folder: Path) -> str:
    run = folder / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"PK\x03\x04 cut short")
    return run.as_posix()


@pytest.mark.parametrize("edit, message", [
    (lambda t, f: t.replace('"mug", "box"', '"mug", "unicorn"'),
     "objects ['unicorn'] are not in object set 'assets'"),
    (lambda t, f: t.replace("seed = 5", "seed = -1"),
     "seed = -1 must be >= 0"),
    (lambda t, f: t.replace('held_out_sets = ["assets"]', 'held_out_sets = ["nope"]'),
     "object set 'nope'"),
    (lambda t, f: t.replace("[study]", "[study]\ntime_limit_s = inf"),
     "time limit inf must be a finite positive number"),
    (lambda t, f: t.replace("practice_trials = 1", "practice_trials = 100000"),
     "practice_trials = 100000 is more than 20"),
    (lambda t, f: t.replace("[study]", "[studdy]"), "unknown top-level entries ['studdy']"),
    (lambda t, f: t.replace("[study]", f'[study]\nstarting_checkpoint = "{f}/gone"'),
     "starting checkpoint"),
    (lambda t, f: t.replace("[study]", f'[study]\nstarting_checkpoint = '
                                       f'"{corrupt_checkpoint(f)}"'), "cannot read checkpoint"),
    (lambda t, f: t.replace("[study]", f'[study]\nobject_set = "{f.as_posix()}/objects"'),
     "objects ['mug'] are not in object set"),
])
def test_init_refuses_what_would_fail_later(tmp_path, edit, message):
    (tmp_path / "objects").mkdir()
    shutil.copy(OBJECTS / "box.urdf", tmp_path / "objects" / "box.urdf")
    config = write_study(tmp_path)
    config.write_text(edit(config.read_text(), tmp_path))
    with pytest.raises(StudyConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        StudyStore.init(tmp_path / "s.sqlite", config)
    assert not (tmp_path / "s.sqlite").exists()


def test_locked_study_file_is_one_line(study):
    holder = sqlite3.connect(study, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StudyFileError, match=r"s\.sqlite is locked: another process holds"):
            StudyStore.open(study, busy_timeout_s=0.1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with StudyStore.open(study, busy_timeout_s=0.1) as store:
        holder = sqlite3.connect(study, isolation_level=None, timeout=0.1)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StudyFileError, match="is locked: another process holds it"):
                store.add_participant("P03")
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def test_exclude_and_withdraw_refuse_mixups_and_repeats(capsys, study):
    with StudyStore.open(study) as store:
        trial_ids = [t["id"] for t in store.finished_trials(1)]
    fails(["study", "exclude", study, "P01", "--reason", "x", "--session", 1, "--trial",
           trial_ids[0]], capsys, "--session 1 and --trial 1 were both given")
    fails(["study", "exclude", study, "P02", "--reason", "x", "--trial", trial_ids[0]], capsys,
          "trial 1 is not participant P02's")
    fails(["study", "exclude", study, "P02", "--reason", "x", "--session", 1], capsys,
          "session 1 is not participant P02's")
    assert main(["study", "exclude", str(study), "P01", "--reason", "x", "--trial",
                 str(trial_ids[1])]) == 0
    assert f"excluded trial {trial_ids[1]} of participant P01" in capsys.readouterr().out
    fails(["study", "exclude", study, "P01", "--reason", "again", "--trial", trial_ids[1]],
          capsys, f"trial {trial_ids[1]} of participant P01 is already excluded")
    assert main(["study", "withdraw", str(study), "P02"]) == 0
    fails(["study", "withdraw", study, "P02"], capsys, "participant P02 is already withdrawn")
    assert events(study) == [("exclusion", None, trial_ids[1]), ("withdrawal", None, None)]


def test_output_paths_and_folders(tmp_path, capsys, study):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    for command in ("export", "report"):
        fails(["study", command, study, "--out", a_file], capsys, "is a file, not a folder")
        fails(["study", command, study, "--out", a_file / "sub"], capsys, "is a file, not a "
              "folder")
    assert a_file.read_text() == "mine"
    fails(["study", "status", tmp_path], capsys, "is a folder, not a study file; pass the "
          "study's SQLite file, such as")
    nested = tmp_path / "a" / "b" / "c.sqlite"
    assert main(["study", "init", str(nested), "--config", str(write_study(tmp_path))]) == 0
    assert nested.is_file()
    fails(["study", "init", a_file / "c.sqlite", "--config", write_study(tmp_path)], capsys,
          "notes.txt is a file, not a folder")


@pytest.mark.parametrize("damage, message", [
    ("UPDATE study SET config_json = '{broken'", "study.config_json is not valid JSON"),
    ("DROP TABLE answers", "tables ['answers'] are missing"),
    ("UPDATE trials SET r_r = 'yes' WHERE id = 2", "row 2 of table trials holds text"),
])
def test_damaged_inside_is_named_with_the_fix(capsys, study, damage, message):
    raw = sqlite3.connect(study, isolation_level=None)
    raw.execute(damage)
    raw.close()
    for command in ("status", "report"):
        fails(["study", command, study], capsys, f"s.sqlite is damaged: {message}")
    assert "restore a backup" in str(pytest.raises(StudyFileError, lambda: StudyStore.open(
        study).study_config()).value)


def test_simulate_refuses_options_that_do_nothing(capsys, study):
    for count in ("0", "-1"):
        fails(["study", "simulate", study, "--participants", count], capsys,
              f"--participants {count}: give at least 1")
    fails(["study", "simulate", study, "--participants", "2", "--controls", "P01"], capsys,
          "--participants 2 and --controls were both given")
    assert main(["study", "withdraw", str(study), "P02"]) == 0
    fails(["study", "simulate", study, "--controls", "P02", "--no-evaluate"], capsys,
          "participants ['P02'] withdrew")
    with StudyStore.open(study) as store:
        assert len(store.sessions()) == 1


def test_end_session_lets_a_new_session_start(capsys, study):
    with StudyStore.open(study) as store:
        with pytest.raises(StudyDataError, match="needs a reason"):
            store.abort_session(1, " ")
    assert main(["study", "end-session", str(study), "1", "--reason", "bad settings"]) == 0
    assert "ended as aborted, its 2 trials kept" in capsys.readouterr().out
    fails(["study", "end-session", study, "1", "--reason", "again"], capsys,
          "session 1 is already aborted")
    with StudyStore.open(study) as store:
        assert store.start_session("P01", "human", store.session_settings("P01", "human")) == 2
        assert len(store.finished_trials(1)) == 2
        assert events(study) == [("note", 1, None)]

