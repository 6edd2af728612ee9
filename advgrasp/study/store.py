"""The study store: one SQLite file per study, written one committed transaction at a time.

Durability: the connection runs in WAL mode with `synchronous=FULL`, so a committed trial
survives a killed process and a power cut; every write is one `BEGIN IMMEDIATE` transaction, so
two processes writing the same study take turns (each waits up to `busy_timeout_s`) instead of
failing with "database is locked". A trial is committed the moment `record_trial` returns.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from advgrasp.study.config import load_study_config
from advgrasp.study.counterbalance import order_for
from advgrasp.study.errors import (
    ParticipantStateError,
    StudyDataError,
    StudyFileError,
    UnknownParticipantError,
)
from advgrasp.study.integrity import (
    check_schema,
    damaged_error,
    is_locked,
    load_json,
    locked_error,
)
from advgrasp.study.schema import MIGRATIONS, SCHEMA_VERSION
from advgrasp.study.sessions import SessionRecords, now

log = logging.getLogger(__name__)

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class StudyStore(SessionRecords):
    """One study's database. Open with `StudyStore.open` or create with `StudyStore.init`.

    Reading: `study_config`, `conditions`, `condition`, `participant(s)`, `next_condition`,
    `session_settings`, `session(s)`, `finished_trials`, `events`, `rows` (any query).
    Writing, each call one committed transaction: `add_participant`, `start_session`,
    `record_trial`, `record_answers`, `end_session`, `record_event`.

    Args:
        connection: an open connection set up by `open`.
        path: the study file.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path):
        self.connection, self.path = connection, path
        self._lock = threading.Lock()  # one connection may be shared by a session's threads

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, create: bool = False,
             busy_timeout_s: float = 60.0) -> StudyStore:
        """Open (or with `create`, make) a study file and bring its schema up to date.

        Raises:
            StudyFileError: the file is missing (and `create` is False), is not a SQLite
                database, is damaged, or was written by a newer advgrasp.
        """
        path = Path(path)
        if path.is_dir():
            found = sorted(path.glob("*.sqlite"))[:3]
            raise StudyFileError(f"{path} is a folder, not a study file; pass the study's "
                                 "SQLite file" + (f", such as {found[0]}" if found else
                                                  " (made by `advgrasp study init`)"))
        if not create and not path.is_file():
            raise StudyFileError(f"study file {path} does not exist; create it with "
                                 f"`advgrasp study init {path} --config STUDY.toml`")
        try:
            connection = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None,
                                         check_same_thread=False)
        except sqlite3.Error as err:
            raise StudyFileError(f"cannot open study file {path}: {err}; check that its folder "
                                 "exists and is writable") from None
        store = cls(connection, path)
        try:
            store._refuse_foreign(create)
            store._configure(busy_timeout_s)
            store._migrate()
            check_schema(connection, path)
        except sqlite3.OperationalError as err:
            connection.close()
            if is_locked(err):
                raise locked_error(path, busy_timeout_s) from None
            raise damaged_error(path, str(err)) from None
        except sqlite3.DatabaseError as err:
            connection.close()
            raise StudyFileError(
                f"study file {path} is damaged or not a study database ({err}); restore it "
                "from a backup, or export what is readable with the sqlite3 .recover command"
            ) from None
        except BaseException:
            connection.close()
            raise
        return store

    def _configure(self, busy_timeout_s: float) -> None:
        c = self.connection
        c.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise StudyFileError(f"study file {self.path} cannot use WAL journaling (SQLite "
                                 f"kept {mode!r}); put it on a local disk, not a network share")
        c.execute("PRAGMA synchronous = FULL")
        c.execute("PRAGMA foreign_keys = ON")
        problems = [row[0] for row in c.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError("integrity check failed: " + "; ".join(problems[:3]))

    def _refuse_foreign(self, create: bool) -> None:
        """Refuse, before changing anything, a SQLite file that is not a study."""
        if self.schema_version == 0 and not create:
            tables = self.connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
            raise StudyFileError(f"{self.path} is not a study database (schema version 0, "
                                 f"{tables} tables); create a study with `advgrasp study "
                                 "init`, and pass its file")

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StudyFileError(f"study file {self.path} has schema version {version}, newer "
                                 f"than this advgrasp's {SCHEMA_VERSION}; upgrade advgrasp")
        for number in range(version + 1, SCHEMA_VERSION + 1):
            with self.write() as c:
                for statement in MIGRATIONS[number - 1]:
                    c.execute(statement)
                c.execute(f"PRAGMA user_version = {number}")
            log.log(logging.INFO if version else logging.DEBUG,
                    "study %s: schema migrated to version %d", self.path, number)

    @property
    def schema_version(self) -> int:
        return self.connection.execute("PRAGMA user_version").fetchone()[0]

    @classmethod
    def init(cls, path: str | Path, config_path: str | Path) -> StudyStore:
        """Create a study file from a study TOML file (checked in full, questionnaire too).

        Raises:
            StudyFileError: the study file already exists.
            StudyConfigError: the study or questionnaire file is malformed.
        """
        path, config_path = Path(path), Path(config_path)
        if path.exists():
            raise StudyFileError(f"study file {path} already exists; choose a new name or "
                                 "open it with the other study commands")
        config = load_study_config(config_path)
        questionnaire_path = Path(config.pop("questionnaire_file"))
        blocking = next((p for p in path.parents if p.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise StudyFileError(f"study file {path}: {blocking} is a file, not a folder; "
                                 "choose a path in a folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        store = cls.open(path, create=True)
        with store.write() as c:
            c.execute("INSERT INTO study VALUES (1, ?, ?, ?, ?, ?)",
                      (config["name"], now(), json.dumps(config),
                       config_path.read_text(encoding="utf-8"),
                       questionnaire_path.read_text(encoding="utf-8")))
            for position, cond in enumerate(config["conditions"]):
                c.execute("INSERT INTO conditions (position, name, adversary, objects_json, "
                          "budget, starting_checkpoint) VALUES (?, ?, ?, ?, ?, ?)",
                          (position, cond["name"], cond["adversary"],
                           json.dumps(cond["objects"]), cond["budget"],
                           cond["starting_checkpoint"]))
        return store

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> StudyStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def write(self):
        """One immediate transaction: committed on exit, rolled back on an exception."""
        with self._lock:
            try:
                self.connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:
                if is_locked(err):
                    raise locked_error(self.path, None) from None
                raise
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    def rows(self, sql: str, params: tuple = ()) -> list[dict]:
        """Query rows as dicts."""
        with self._lock:
            try:
                cursor = self.connection.execute(sql, params)
            except sqlite3.OperationalError as err:
                if is_locked(err):
                    raise locked_error(self.path, None) from None
                raise damaged_error(self.path, str(err)) from None
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # -- study and conditions ---------------------------------------------------------------

    def study_config(self) -> dict:
        """The checked study settings (see `advgrasp.study.config.load_study_config`)."""
        found = self.rows("SELECT config_json FROM study")
        if not found:
            raise StudyFileError(f"study file {self.path} holds no study; create it with "
                                 "`advgrasp study init`")
        return load_json(found[0]["config_json"], self.path, "study.config_json")

    def conditions(self) -> list[dict]:
        """Every condition row, in the study file's order (with `objects` as a list)."""
        rows = self.rows("SELECT * FROM conditions ORDER BY position")
        for row in rows:
            row["objects"] = load_json(row.pop("objects_json"), self.path,
                                       f"conditions.objects_json of {row['name']!r}")
        return rows

    def condition(self, id_or_name: int | str) -> dict:
        for row in self.conditions():
            if id_or_name in (row["id"], row["name"]):
                return row
        names = [row["name"] for row in self.conditions()]
        raise StudyDataError(f"study {self.path} has no condition {id_or_name!r}; its "
                             f"conditions are {names}")

    # -- participants -----------------------------------------------------------------------

    def add_participant(self, code: str, fields: dict | None = None) -> dict:
        """Add a participant by pseudonymous code; the condition order comes from the
        balanced Latin square (participant k takes order k)."""
        if not CODE.match(code):
            raise StudyDataError(f"participant code {code!r} must be 1-32 letters, digits, "
                                 "'-' or '_' (a pseudonym such as P07, never a name)")
        fields = dict(fields or {})
        allowed = self.study_config()["participant_fields"]
        unknown = sorted(set(fields) - set(allowed))
        if unknown:
            raise StudyDataError(f"participant fields {unknown} are not in the study's "
                                 f"[participants] fields {allowed}; add them to the study "
                                 "file before init, or leave them out")
        conditions = self.conditions()
        with self.write() as c:
            if c.execute("SELECT 1 FROM participants WHERE code = ?", (code,)).fetchone():
                raise ParticipantStateError(f"participant {code} is already in study "
                                            f"{self.path}; choose another code")
            number = c.execute("SELECT COUNT(*) FROM participants").fetchone()[0]
            order = [conditions[i]["id"] for i in order_for(number, len(conditions))]
            c.execute("INSERT INTO participants (code, order_number, condition_order_json, "
                      "fields_json, added_at) VALUES (?, ?, ?, ?, ?)",
                      (code, number, json.dumps(order), json.dumps(fields), now()))
        return self.participant(code)

    def participant(self, code: str) -> dict:
        """The participant row (with `condition_order` and `fields` decoded)."""
        found = self.rows("SELECT * FROM participants WHERE code = ?", (code,))
        if not found:
            known = [r["code"] for r in self.rows("SELECT code FROM participants ORDER BY id")]
            hint = f"known codes: {', '.join(known[:20])}" if known else "the study has none"
            raise UnknownParticipantError(
                f"unknown participant code {code!r} in study {self.path} ({hint}); add it with "
                f"`advgrasp study add-participant {self.path} {code}`")
        row = found[0]
        row["condition_order"] = load_json(row.pop("condition_order_json"), self.path,
                                           f"participants.condition_order_json of {code}")
        row["fields"] = load_json(row.pop("fields_json"), self.path,
                                  f"participants.fields_json of {code}")
        return row

    def participants(self) -> list[dict]:
        codes = [r["code"] for r in self.rows("SELECT code FROM participants ORDER BY id")]
        return [self.participant(code) for code in codes]

    def next_condition(self, code: str) -> dict | None:
        """The participant's next condition in counterbalanced order (the first one without a
        finished session), or None when all are done.

        Raises:
            UnknownParticipantError, ParticipantStateError (the participant withdrew).
        """
        person = self.participant(code)
        if person["withdrawn_at"]:
            raise ParticipantStateError(f"participant {code} withdrew at "
                                        f"{person['withdrawn_at']}; their data stay out of the "
                                        "study: add a new participant code instead")
        done = {r["condition_id"] for r in self.rows(
            "SELECT condition_id FROM sessions WHERE participant_id = ? AND status = "
            "'finished'", (person["id"],))}
        for condition_id in person["condition_order"]:
            if condition_id not in done:
                return self.condition(condition_id)
        return None

