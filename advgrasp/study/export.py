"""Export a study to CSV: one file per table, and one tidy file of trials.

The tidy file (`trials_tidy.csv`) has one row per trial with the participant's code, the
condition, its adversary kind, a `robust_success` column (R_R * (1 - R_H): the robot kept the
object) and the `withdrawn` and `excluded` flags, ready for R or pandas.
"""

from __future__ import annotations

import csv
from pathlib import Path

from advgrasp.study.store import StudyStore

TABLES = ("study", "conditions", "participants", "sessions", "trials", "answers", "events",
          "evaluations")


def export_csv(store: StudyStore, out_dir: str | Path) -> list[Path]:
    """Write `<table>.csv` for every table and `trials_tidy.csv`; returns the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    queries = {table: f"SELECT * FROM {table} ORDER BY id" for table in TABLES}
    queries["trials_tidy"] = ("SELECT * FROM tidy_trials ORDER BY participant, session_id, "
                              "practice DESC, trial_index")
    for name, sql in queries.items():
        cursor = store.connection.execute(sql)
        columns = [d[0] for d in cursor.description]
        path = out_dir / f"{name}.csv"
        partial = path.with_name(path.name + ".partial")
        with open(partial, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            writer.writerows(cursor)
        partial.replace(path)
        written.append(path)
    return written
