"""Damaged and locked study files: the schema check run on open, and the one-line errors.

A study file edited by hand or cut short by a failing disk may lack a table, hold text where a
number belongs, or hold broken JSON; another program (an sqlite3 shell) may hold its lock.
Each case becomes a `StudyFileError` that names the file and the fix, never a traceback.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from advgrasp.study.errors import StudyFileError
from advgrasp.study.schema import MIGRATIONS


def check_schema(connection: sqlite3.Connection, path: Path) -> None:
    """Every table and view of the schema is there, and every INTEGER or REAL column holds
    numbers (a hand-edited file may hold text there).

    Raises:
        StudyFileError: naming the missing tables or the first bad row.
    """
    present = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    created = [re.match(r"\s*CREATE (TABLE|VIEW) (\w+)", sql) for statements in MIGRATIONS
               for sql in statements]
    expected = {m.group(2): m.group(1) for m in created if m}
    missing = sorted(set(expected) - present)
    if missing:
        raise damaged_error(path, f"tables {missing} are missing")
    for table in sorted(name for name, kind in expected.items() if kind == "TABLE"):
        numeric = [r[1] for r in connection.execute(f"PRAGMA table_info({table})")
                   if r[2].upper() in ("INTEGER", "REAL")]
        test = " OR ".join(f"typeof({c}) NOT IN ('integer', 'real', 'null')" for c in numeric)
        bad = connection.execute(f"SELECT rowid FROM {table} WHERE {test} LIMIT 1").fetchone() \
            if numeric else None
        if bad:
            raise damaged_error(path, f"row {bad[0]} of table {table} holds text where a "
                                f"number belongs (columns {numeric})")


def is_locked(err: sqlite3.OperationalError) -> bool:
    """Whether SQLite gave up waiting for another connection's lock."""
    return "locked" in str(err) or "busy" in str(err)


def locked_error(path: Path, timeout_s: float | None) -> StudyFileError:
    waited = f"waited {timeout_s:g} s" if timeout_s is not None else "waited its busy timeout"
    return StudyFileError(f"study file {path} is locked: another process holds it ({waited}); "
                          "close the other program using it (an sqlite3 shell, a stuck "
                          "advgrasp) and run the command again")


def damaged_error(path: Path, detail: str) -> StudyFileError:
    return StudyFileError(f"study file {path} is damaged: {detail}; restore a backup (or "
                          "export what is readable with the sqlite3 .recover command)")


def load_json(text, path: Path, where: str):
    """Decode a JSON column, naming the study file and the entry when it is damaged."""
    try:
        return json.loads(text)
    except (TypeError, ValueError) as err:
        raise damaged_error(path, f"{where} is not valid JSON ({err})") from None
