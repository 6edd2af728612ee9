"""The study store: schema, durability settings, errors that name the culprit, counterbalancing,
participants, sessions, trials and events."""

import itertools
import json
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from advgrasp.study import (
    ParticipantStateError,
    StudyConfigError,
    StudyDataError,
    StudyFileError,
    StudyStore,
    UnknownParticipantError,
)
from advgrasp.study.counterbalance import balanced_latin_square
from advgrasp.study.schema import MIGRATIONS, SCHEMA_VERSION

QUESTIONNAIRE = Path(__file__).parents[1] / "assets" / "study" / "questionnaire.toml"


def write_study(folder: Path, conditions=("human", "random"), budget: int = 3,
                practice: int = 1, held_out_scenes: int = 0, **study) -> Path:
    """A small study file in `folder` using the shipped questionnaire."""
    values = {"name": "test", "seed": 5, "practice_trials": practice,
              "trials_per_condition": budget, "questionnaire": QUESTIONNAIRE.as_posix(),
              "held_out_scenes": held_out_scenes, "held_out_sets": ["assets"],
              "updates_per_trial": 1, **study}
    lines = ["[study]"] + [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    for name in conditions:
        kind = name if name in ("human", "random", "oracle", "learned", "none") else "none"
        lines += ["", "[[conditions]]", f'name = "{name}"', f'adversary = "{kind}"',
                  'objects = ["mug", "box"]']
    path = folder / "study.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def trial_row(index: int, practice: bool = False, **values) -> dict:
    """A complete trial dict as the session runner returns it."""
    start = time.monotonic()
    row = {"index": index, "practice": practice, "object": "mug", "seed": 100 + index,
           "wall_time": time.time(), "monotonic_start": start, "monotonic_end": start + 1.5,
           "grasp_x": 0.01 * index, "grasp_y": -0.02, "grasp_theta": 0.5,
           "predicted_success": 0.6, "r_r": 1.0, "perturbation": "left_32N",
           "reaction_time_s": 1.2, "r_h": 1.0, "reward": 0.0, "model_version": 4 * index}
    row.update(values)
    return row


@pytest.fixture
def store(tmp_path):
    with StudyStore.init(tmp_path / "s.sqlite", write_study(tmp_path)) as opened:
        yield opened


def test_open_connection_is_durable(store):
    c = store.connection
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert c.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert c.execute("PRAGMA busy_timeout").fetchone()[0] == 60000
    assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.schema_version == SCHEMA_VERSION == 3


def test_trial_round_trip_and_duplicate_refused(store):
    store.add_participant("P01")
    condition = store.next_condition("P01")
    settings = store.session_settings("P01", condition["id"])
    session = store.start_session("P01", condition["id"], settings)
    assert store.start_session("P01", condition["id"], settings) == session  # resume
    logged = [trial_row(0, practice=True), trial_row(0), trial_row(1, r_h=0.0, reward=1.0)]
    for row in logged:
        store.record_trial(session, row)
    back = store.finished_trials(session)
    assert [(t["practice"], t["index"]) for t in back] == [(True, 0), (False, 0), (False, 1)]
    assert back[2]["reward"] == 1.0 and back[2]["grasp_x"] == pytest.approx(0.01)
    with pytest.raises(StudyDataError, match="trial 1 of session 1 is already logged"):
        store.record_trial(session, trial_row(1))
    with pytest.raises(StudyDataError, match=r"lacks \['r_h'\]"):
        store.record_trial(session, {k: v for k, v in trial_row(2).items() if k != "r_h"})
    store.end_session(session)
    with pytest.raises(StudyDataError, match="session 1 is finished"):
        store.record_trial(session, trial_row(2))


def test_matched_seeds_and_practice_only_first_human_condition(store):
    store.add_participant("P01")
    store.add_participant("P02")
    human, random = store.condition("human"), store.condition("random")
    a, b = store.session_settings("P01", human["id"]), store.session_settings("P01", random["id"])
    assert a["seeds"] == b["seeds"] and len(a["seeds"]) == 3 and len(set(a["seeds"])) == 3
    assert (a["practice_trials"], b["practice_trials"]) == (1, 0)
    assert store.session_settings("P02", human["id"])["seeds"] != a["seeds"]


def test_unknown_participant_named(store):
    store.add_participant("P01")
    with pytest.raises(UnknownParticipantError, match=r"unknown participant code 'P99' in "
                       r"study .*s\.sqlite \(known codes: P01\)"):
        store.next_condition("P99")
    with pytest.raises(StudyDataError, match="participant code 'Jane Doe' must be"):
        store.add_participant("Jane Doe")
    with pytest.raises(StudyDataError, match=r"fields \['age'\] are not in"):
        store.add_participant("P02", {"age": "31"})


def test_withdrawal_and_exclusions_flag_trials(store):
    for code in ("P01", "P02"):
        store.add_participant(code)
        condition = store.next_condition(code)
        session = store.start_session(code, condition["id"],
                                      store.session_settings(code, condition["id"]))
        ids = [store.record_trial(session, trial_row(i)) for i in range(3)]
    store.record_event("withdrawal", "changed their mind", code="P01")
    store.record_event("exclusion", "tracking glitch", code="P02", trial_id=ids[1])
    flags = {(r["participant"], r["trial_index"]): (r["withdrawn"], r["excluded"])
             for r in store.rows("SELECT * FROM tidy_trials")}
    assert flags[("P01", 0)] == (1, 0)
    assert flags[("P02", 1)] == (0, 1) and flags[("P02", 0)] == (0, 0)
    with pytest.raises(ParticipantStateError, match="participant P01 withdrew"):
        store.next_condition("P01")
    store.record_event("exclusion", "did not follow the instructions", code="P02")
    assert [r["excluded"] for r in store.rows(
        "SELECT excluded FROM tidy_trials WHERE participant = 'P02'")] == [1, 1, 1]
    with pytest.raises(StudyDataError, match="an exclusion needs a reason"):
        store.record_event("exclusion", "  ", code="P02")


def test_answers_checked_against_questionnaire(store):
    store.add_participant("P01")
    session = store.start_session("P01", 1, store.session_settings("P01", 1))
    store.record_answers(session, {"enjoyed": 6, "robot_improved": 2})
    assert sorted(r["value"] for r in store.rows("SELECT value FROM answers")) == [2, 6]
    with pytest.raises(StudyDataError, match="answer enjoyed = 9 is outside the scale 1..7"):
        store.record_answers(session, {"enjoyed": 9})
    with pytest.raises(StudyDataError, match="unknown item 'fun'"):
        store.record_answers(session, {"fun": 3})


def test_damaged_database_named(tmp_path, store):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database " * 400)
    with pytest.raises(StudyFileError, match=r"study file .*garbage\.sqlite is damaged"):
        StudyStore.open(garbage)
    store.add_participant("P01")
    store.close()
    path = tmp_path / "s.sqlite"
    size = path.stat().st_size
    with open(path, "r+b") as f:  # overwrite a page in the middle of a real study
        f.seek(size // 2)
        f.write(b"\xff" * 4096)
    with pytest.raises(StudyFileError, match=r"s\.sqlite is damaged.*malformed"):
        StudyStore.open(path)
    other = tmp_path / "other.sqlite"  # somebody else's SQLite file is left alone
    sqlite3.connect(other).execute("CREATE TABLE notes (text TEXT)").connection.commit()
    with pytest.raises(StudyFileError, match=r"other\.sqlite is not a study database"):
        StudyStore.open(other)
    untouched = sqlite3.connect(other)
    assert untouched.execute("PRAGMA user_version").fetchone()[0] == 0
    assert untouched.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    untouched.close()
    with pytest.raises(StudyFileError, match=r"missing\.sqlite does not exist; create it"):
        StudyStore.open(tmp_path / "missing.sqlite")


@pytest.mark.parametrize("body, message", [
    ('[scale]\nmin = 1\nmax = 5\n[[items]]\nid = "a"\ntext = "x"\n[[items]]\nid = "a"\n'
     'text = "y"\n', "item 2: id 'a' is used twice"),
    ('[scale]\nmin = 1\nmax = 5\n[[items]]\nid = "a"\n', "item 1: text = None must be a str"),
    ('[scale]\nmin = 5\nmax = 1\n[[items]]\nid = "a"\ntext = "x"\n', "max 1 must be above"),
    ('[scale]\nmin = 1\nmax = 5\nlabels = ["a"]\n[[items]]\nid = "a"\ntext = "x"\n',
     "labels must be 5 strings"),
    ('[scale\nmin = 1\n', "is not valid TOML"),
    ('[[items]]\nid = "a"\ntext = "x"\n', r"has no \[scale\] table"),
])
def test_malformed_questionnaire_refused_at_init(tmp_path, body, message):
    bad = tmp_path / "bad_questionnaire.toml"
    bad.write_text(body)
    config = write_study(tmp_path, questionnaire=bad.as_posix())
    with pytest.raises(StudyConfigError, match=r"questionnaire file .*bad_questionnaire\.toml"):
        StudyStore.init(tmp_path / "s.sqlite", config)
    with pytest.raises(StudyConfigError, match=message):
        StudyStore.init(tmp_path / "s.sqlite", config)
    assert not (tmp_path / "s.sqlite").exists()


def test_malformed_study_file_named(tmp_path):
    config = write_study(tmp_path, conditions=("human",))
    config.write_text(config.read_text().replace('adversary = "human"', 'adversary = "robot"'))
    with pytest.raises(StudyConfigError, match=r"study\.toml condition 1 \(human\): adversary "
                       "'robot'"):
        StudyStore.init(tmp_path / "s.sqlite", config)


def test_old_schema_migrated_in_place(tmp_path):
    path = tmp_path / "old.sqlite"
    c = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        c.execute(statement)
    c.execute("INSERT INTO conditions VALUES (1, 0, 'human', 'human', '[\"mug\"]', 3, '')")
    c.execute("PRAGMA user_version = 1")
    c.commit()
    c.close()
    with StudyStore.open(path) as store:
        assert store.schema_version == 3
        assert store.rows("SELECT name FROM conditions") == [{"name": "human"}]
        assert store.rows("SELECT COUNT(*) AS n FROM tidy_trials") == [{"n": 0}]
        store.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StudyFileError, match="schema version 4, newer than this advgrasp's 3"):
        StudyStore.open(path)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_balanced_latin_square(n):
    orders = balanced_latin_square(n)
    assert len(orders) == (n if n % 2 == 0 else 2 * n)
    for block in (orders[:n], orders[n:] or orders[:n]):  # each block is a Latin square
        for position in range(n):
            assert sorted(order[position] for order in block) == list(range(n))
        assert all(sorted(order) == list(range(n)) for order in block)
    adjacent = Counter(pair for order in orders for pair in itertools.pairwise(order))
    expected = 1 if n % 2 == 0 else 2
    assert adjacent == {pair: expected for pair in itertools.permutations(range(n), 2)}


def test_participants_take_orders_in_turn(tmp_path):
    with StudyStore.init(tmp_path / "s.sqlite",
                         write_study(tmp_path, conditions=("human", "random", "none"))) as store:
        orders = [store.add_participant(f"P{i}")["condition_order"] for i in range(7)]
        ids = [c["id"] for c in store.conditions()]
        square = [[ids[i] for i in order] for order in balanced_latin_square(3)]
        assert orders == square + square[:1]
        with pytest.raises(ParticipantStateError, match="participant P0 is already in"):
            store.add_participant("P0")
