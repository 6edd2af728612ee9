"""Sessions, trials, questionnaire answers and events of a study (a part of `StudyStore`).

Each method that writes runs one immediate transaction that is committed before it returns,
so whatever a session logged survives the process being killed at any later moment.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

import numpy as np

from advgrasp.study.errors import ParticipantStateError, StudyDataError
from advgrasp.study.integrity import load_json

TRIAL_KEYS = ("index", "practice", "object", "seed", "wall_time", "monotonic_start",
              "monotonic_end", "grasp_x", "grasp_y", "grasp_theta", "predicted_success", "r_r",
              "perturbation", "reaction_time_s", "r_h", "reward", "model_version")
"""Keys of a trial dict given to `record_trial`. `index` counts from 0 over the session,
practice trials included. Times: `wall_time` Unix seconds, `monotonic_*` seconds of
`time.monotonic()`, `reaction_time_s` seconds from input enabled to confirmation (None without
a push). Grasp: x, y in metres, theta in radians. `perturbation` is a push's name such as
"left:32" (direction, newtons) or None; r_r, r_h in {0, 1}; reward = r_r - alpha * r_h;
`model_version` the robot's learning rounds when it chose the grasp."""

SESSION_END = ("finished", "aborted")
EVENT_KINDS = ("withdrawal", "exclusion", "note")


def now() -> str:
    """Wall-clock time in UTC, ISO 8601 with microseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def participant_seed(study_seed: int, participant_number: int) -> int:
    """The seed of a participant's sessions, from the study's seed and the participant's
    number (0-based, in the order they were added)."""
    return int(np.random.SeedSequence([study_seed, participant_number]).generate_state(1)[0]
               >> 1)


def trial_seed(seed: int, index: int, practice: bool) -> int:
    """The world seed of scored (or practice) trial `index` of a participant's sessions."""
    return int(np.random.SeedSequence([seed, index, int(practice)]).generate_state(1)[0] >> 1)


class SessionRecords:
    """Mixed into `StudyStore`: needs its `write`, `rows`, `participant` and `condition`."""

    def session_settings(self, code: str, condition_id: int | str) -> dict:
        """The settings of a participant's session in a condition, from the study file.

        Returns:
            {"participant", "condition", "adversary", "objects", "object_set", "trials",
            "practice_trials", "time_limit_s", "starting_checkpoint" (None: a fresh robot),
            "seed", "seeds", "practice_seeds", "updates_per_trial"}, read by
            `advgrasp.human.settings.SessionSettings.from_study`. `seeds[i]` seeds scored
            trial i's scene: every condition of one participant gets the same seeds (and the
            same objects when the study file lists the same), so the conditions without a
            person are matched controls. Practice trials come only in the participant's first
            condition with a person.
        """
        person, condition = self.participant(code), self.condition(condition_id)
        config = self.study_config()
        kinds = {c["id"]: c["adversary"] for c in self.conditions()}
        first_human = next((c for c in person["condition_order"] if kinds[c] == "human"), None)
        practice = config["practice_trials"] if condition["id"] == first_human else 0
        seed = participant_seed(config["seed"], person["order_number"])
        return {"participant": code, "condition": condition["name"],
                "adversary": condition["adversary"], "objects": list(condition["objects"]),
                "object_set": config["object_set"], "trials": condition["budget"],
                "practice_trials": practice, "time_limit_s": config["time_limit_s"],
                "starting_checkpoint": condition["starting_checkpoint"] or None, "seed": seed,
                "seeds": [trial_seed(seed, i, False) for i in range(condition["budget"])],
                "practice_seeds": [trial_seed(seed, i, True) for i in range(practice)],
                "updates_per_trial": config["updates_per_trial"]}

    def start_session(self, code: str, condition_id: int | str, settings: dict) -> int:
        """Start a session, or return the participant's unfinished one in this condition (to
        resume it: see `finished_trials`)."""
        person, condition = self.participant(code), self.condition(condition_id)
        if person["withdrawn_at"]:
            raise ParticipantStateError(f"participant {code} withdrew; a session cannot start")
        with self.write() as c:
            found = c.execute("SELECT id FROM sessions WHERE participant_id = ? AND "
                              "condition_id = ? AND status = 'running' ORDER BY id DESC",
                              (person["id"], condition["id"])).fetchone()
            if found:
                return found[0]
            cursor = c.execute("INSERT INTO sessions (participant_id, condition_id, "
                               "settings_json, started_at) VALUES (?, ?, ?, ?)",
                               (person["id"], condition["id"],
                                json.dumps(settings, default=str), now()))
            return cursor.lastrowid

    def session(self, session_id: int) -> dict:
        found = self.rows("SELECT s.*, p.code AS participant, c.name AS condition FROM "
                          "sessions s JOIN participants p ON p.id = s.participant_id JOIN "
                          "conditions c ON c.id = s.condition_id WHERE s.id = ?", (session_id,))
        if not found:
            raise StudyDataError(f"study {self.path} has no session {session_id}; list them "
                                 f"with `advgrasp study status {self.path}`")
        row = found[0]
        row["settings"] = load_json(row.pop("settings_json"), self.path,
                                    f"sessions.settings_json of session {session_id}")
        return row

    def sessions(self) -> list[dict]:
        return [self.session(r["id"]) for r in self.rows("SELECT id FROM sessions ORDER BY id")]

    def finished_trials(self, session_id: int) -> list[dict]:
        """The session's logged trials, practice first, each in index order, as dicts with the
        `TRIAL_KEYS` (plus `id`)."""
        rows = self.rows("SELECT * FROM trials WHERE session_id = ? ORDER BY practice DESC, "
                         "idx", (session_id,))
        for row in rows:
            row["index"] = row.pop("idx")
            row["practice"] = bool(row["practice"])
            row.pop("session_id")
        return rows

    def record_trial(self, session_id: int, trial: dict) -> int:
        """Log one finished trial, committed before returning. Returns the trial's id."""
        missing = [k for k in TRIAL_KEYS if k not in trial]
        if missing:
            raise StudyDataError(f"trial of session {session_id} lacks {missing}; a trial dict "
                                 f"needs every key of {TRIAL_KEYS}")
        for key in ("grasp_x", "grasp_y", "grasp_theta", "predicted_success", "r_r", "r_h",
                    "reward", "wall_time", "monotonic_start", "monotonic_end"):
            if not isinstance(trial[key], (int, float)) or not math.isfinite(trial[key]):
                raise StudyDataError(f"trial {trial['index']} of session {session_id}: {key} "
                                     f"= {trial[key]!r} must be a finite number")
        values = [trial[k] for k in TRIAL_KEYS]
        values[1] = int(bool(trial["practice"]))
        with self.write() as c:
            status = c.execute("SELECT status FROM sessions WHERE id = ?",
                               (session_id,)).fetchone()
            if status is None or status[0] != "running":
                raise StudyDataError(f"session {session_id} is "
                                     f"{'unknown' if status is None else status[0]}; trials go "
                                     "into a running session (start_session)")
            try:
                cursor = c.execute(
                    f"INSERT INTO trials (session_id, idx, {', '.join(TRIAL_KEYS[1:])}) VALUES "
                    f"({', '.join('?' * (len(TRIAL_KEYS) + 1))})", (session_id, *values))
            except Exception as err:
                if "UNIQUE" not in str(err):
                    raise
                kind = "practice trial" if trial["practice"] else "trial"
                raise StudyDataError(f"{kind} {trial['index']} of session {session_id} is "
                                     "already logged; resume after finished_trials()") from None
            return cursor.lastrowid

    def record_answers(self, session_id: int, answers: dict[str, int]) -> None:
        """Log a questionnaire's answers for a session (item id -> scale point)."""
        questionnaire = self.study_config()["questionnaire"]
        items, scale = {i["id"] for i in questionnaire["items"]}, questionnaire["scale"]
        for item_id, value in answers.items():
            if item_id not in items:
                raise StudyDataError(f"answer to unknown item {item_id!r}; the questionnaire's "
                                     f"items are {sorted(items)}")
            if isinstance(value, bool) or not isinstance(value, int) or not (
                    scale["min"] <= value <= scale["max"]):
                raise StudyDataError(f"answer {item_id} = {value!r} is outside the scale "
                                     f"{scale['min']}..{scale['max']}")
        stamp = now()
        with self.write() as c:
            c.executemany("INSERT OR REPLACE INTO answers (session_id, item_id, value, "
                          "answered_at) VALUES (?, ?, ?, ?)",
                          [(session_id, k, v, stamp) for k, v in answers.items()])

    def end_session(self, session_id: int, status: str = "finished") -> None:
        """Close a session as 'finished' or 'aborted' (an aborted one is not resumed)."""
        if status not in SESSION_END:
            raise StudyDataError(f"session status {status!r}: use one of {SESSION_END}")
        with self.write() as c:
            c.execute("UPDATE sessions SET status = ?, ended_at = ? WHERE id = ?",
                      (status, now(), session_id))

    def abort_session(self, session_id: int, reason: str) -> dict:
        """End a running session as 'aborted' (its trials stay logged) and log why as a note
        event: the participant's next session in that condition starts afresh.

        Returns:
            {"participant", "condition", "trials" logged}.
        """
        if not reason.strip():
            raise StudyDataError(f"ending session {session_id} needs a reason; say why in a "
                                 "few words")
        session = self.session(session_id)
        if session["status"] != "running":
            raise ParticipantStateError(f"session {session_id} is already {session['status']}; "
                                        "only a running session can be ended")
        self.record_event("note", f"session {session_id} ended as aborted: {reason}",
                          code=session["participant"], session_id=session_id)
        self.end_session(session_id, "aborted")
        return {"participant": session["participant"], "condition": session["condition"],
                "trials": len(self.finished_trials(session_id))}

    def record_event(self, kind: str, reason: str, code: str | None = None,
                     session_id: int | None = None, trial_id: int | None = None) -> int:
        """Log a withdrawal, an exclusion (of a participant, a session or a trial) or a note.

        A withdrawal also marks the participant withdrawn: none of their data is analysed.
        """
        if kind not in EVENT_KINDS:
            raise StudyDataError(f"event kind {kind!r}: use one of {EVENT_KINDS}")
        if not reason.strip():
            raise StudyDataError(f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} needs a reason; "
                                 "say why in a few words")
        person = self.participant(code) if code is not None else None
        if kind == "withdrawal" and person is None:
            raise StudyDataError("a withdrawal needs the participant's code")
        if session_id is not None and trial_id is not None:
            raise StudyDataError(f"session {session_id} and trial {trial_id} were both given: "
                                 "an event names a session or one trial, not both")
        if kind == "withdrawal" and person["withdrawn_at"]:
            raise ParticipantStateError(f"participant {code} is already withdrawn (at "
                                        f"{person['withdrawn_at'][:19]}); nothing to do")
        with self.write() as c:
            for what, key, sql in (
                    ("session", session_id, "SELECT participant_id FROM sessions WHERE id = ?"),
                    ("trial", trial_id, "SELECT s.participant_id FROM trials t JOIN sessions s "
                                        "ON s.id = t.session_id WHERE t.id = ?")):
                owner = c.execute(sql, (key,)).fetchone() if key is not None else None
                if key is not None and owner is None:
                    raise StudyDataError(f"study {self.path} has no {what} {key}; see "
                                         f"`advgrasp study status` or the exported CSV files")
                if owner is not None and person is not None and owner[0] != person["id"]:
                    raise StudyDataError(f"{what} {key} is not participant {code}'s; check "
                                         "the code and the id")
            if kind == "exclusion" and c.execute(
                    "SELECT 1 FROM events WHERE kind = 'exclusion' AND participant_id IS ? AND "
                    "session_id IS ? AND trial_id IS ?", (person["id"] if person else None,
                                                          session_id, trial_id)).fetchone():
                what = (f"trial {trial_id}" if trial_id is not None else f"session {session_id}"
                        if session_id is not None else "every trial")
                raise ParticipantStateError(f"{what} of participant {code} is already excluded; "
                                            "see the events in `advgrasp study status`")
            if kind == "withdrawal":
                c.execute("UPDATE participants SET withdrawn_at = ? WHERE id = ?",
                          (now(), person["id"]))
            cursor = c.execute("INSERT INTO events (kind, participant_id, session_id, trial_id, "
                               "reason, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                               (kind, person["id"] if person else None, session_id, trial_id,
                                reason.strip(), now()))
            return cursor.lastrowid

    def events(self) -> list[dict]:
        return self.rows("SELECT e.*, p.code AS participant FROM events e LEFT JOIN "
                         "participants p ON p.id = e.participant_id ORDER BY e.id")
