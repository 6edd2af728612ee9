"""The study database's schema, as numbered migrations.

`PRAGMA user_version` holds the schema version. Opening a study applies every migration above
its version, each inside one immediate transaction, so an older study file is upgraded in place
and a crash mid-upgrade leaves it at its previous version.

Version 1: the study, conditions, participants, sessions, trials, answers and events.
Version 2: indexes for the per-session and per-participant reads, and the `tidy_trials` view
(one row per trial with its participant, condition and exclusion flag) that the export and the
analysis read.
Version 3: `evaluations`, the held-out evaluation of the robot each session left behind.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    [  # version 1
        """CREATE TABLE study (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            config_json TEXT NOT NULL,
            config_toml TEXT NOT NULL,
            questionnaire_toml TEXT NOT NULL)""",
        """CREATE TABLE conditions (
            id INTEGER PRIMARY KEY,
            position INTEGER NOT NULL UNIQUE,
            name TEXT NOT NULL UNIQUE,
            adversary TEXT NOT NULL,
            objects_json TEXT NOT NULL,
            budget INTEGER NOT NULL CHECK (budget > 0),
            starting_checkpoint TEXT NOT NULL)""",
        """CREATE TABLE participants (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            order_number INTEGER NOT NULL,
            condition_order_json TEXT NOT NULL,
            fields_json TEXT NOT NULL DEFAULT '{}',
            added_at TEXT NOT NULL,
            withdrawn_at TEXT)""",
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            participant_id INTEGER NOT NULL REFERENCES participants(id),
            condition_id INTEGER NOT NULL REFERENCES conditions(id),
            settings_json TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'finished', 'aborted')))""",
        """CREATE TABLE trials (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            idx INTEGER NOT NULL,
            practice INTEGER NOT NULL CHECK (practice IN (0, 1)),
            object TEXT NOT NULL,
            seed INTEGER NOT NULL,
            wall_time REAL NOT NULL,
            monotonic_start REAL NOT NULL,
            monotonic_end REAL NOT NULL,
            grasp_x REAL NOT NULL,
            grasp_y REAL NOT NULL,
            grasp_theta REAL NOT NULL,
            predicted_success REAL NOT NULL,
            r_r REAL NOT NULL,
            perturbation TEXT,
            reaction_time_s REAL,
            r_h REAL NOT NULL,
            reward REAL NOT NULL,
            model_version INTEGER NOT NULL,
            UNIQUE (session_id, practice, idx))""",
        """CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            item_id TEXT NOT NULL,
            value INTEGER NOT NULL,
            answered_at TEXT NOT NULL,
            UNIQUE (session_id, item_id))""",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('withdrawal', 'exclusion', 'note')),
            participant_id INTEGER REFERENCES participants(id),
            session_id INTEGER REFERENCES sessions(id),
            trial_id INTEGER REFERENCES trials(id),
            reason TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
    ],
    [  # version 2
        "CREATE INDEX trials_by_session ON trials (session_id, practice, idx)",
        "CREATE INDEX sessions_by_participant ON sessions (participant_id, condition_id)",
        "CREATE INDEX events_by_kind ON events (kind)",
        """CREATE VIEW tidy_trials AS
            SELECT p.code AS participant, c.name AS condition, c.adversary AS adversary,
                   s.id AS session_id, t.id AS trial_id, t.idx AS trial_index,
                   t.practice, t.object, t.seed, t.wall_time, t.monotonic_start,
                   t.monotonic_end, t.grasp_x, t.grasp_y, t.grasp_theta,
                   t.predicted_success, t.r_r, t.perturbation, t.reaction_time_s, t.r_h,
                   t.reward, t.model_version,
                   (1 - t.r_h) * t.r_r AS robust_success,
                   p.withdrawn_at IS NOT NULL AS withdrawn,
                   EXISTS (SELECT 1 FROM events e WHERE e.kind = 'exclusion' AND (
                       e.trial_id = t.id OR e.session_id = s.id OR
                       (e.participant_id = p.id AND e.session_id IS NULL
                        AND e.trial_id IS NULL))) AS excluded
            FROM trials t
            JOIN sessions s ON s.id = t.session_id
            JOIN participants p ON p.id = s.participant_id
            JOIN conditions c ON c.id = s.condition_id""",
    ],
    [  # version 3
        """CREATE TABLE evaluations (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            object_set TEXT NOT NULL,
            scenes INTEGER NOT NULL,
            grasp_success REAL NOT NULL,
            robust_random REAL NOT NULL,
            robust_oracle REAL NOT NULL,
            result_json TEXT NOT NULL,
            evaluated_at TEXT NOT NULL,
            UNIQUE (session_id, object_set))""",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)
"""The version this code writes; a study file with a higher one was made by a newer advgrasp."""
