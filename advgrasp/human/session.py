"""`run_session`: one participant plays one human-adversary condition of a study, in a window.

Consent (first visit), practice trials (first condition only, logged as practice), the scored
trials, then the questionnaire. Every trial is committed to the study file the moment it ends,
and the robot's state is checkpointed after each trial's learning into the session's folder
beside the study file (`STUDY.sessions/session-ID/`). Closing the window (or a crash) leaves the
session running: the same command resumes it at the first unlogged trial.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pygame

from advgrasp.human.errors import SessionClosed, SessionError
from advgrasp.human.questionnaire import ask_questionnaire
from advgrasp.human.settings import SessionSettings
from advgrasp.human.trial_screen import play_trial, show_outcome
from advgrasp.human.trials import TrialRunner
from advgrasp.human.window import Score, SessionWindow, WindowOptions

log = logging.getLogger(__name__)

OVERRIDES = ("trials", "objects", "starting_checkpoint", "time_limit_s", "practice_trials",
             "updates_per_trial")
"""Session settings a caller may set over the study's own (stored with the session)."""


def session_folder(store, session_id: int) -> Path:
    """Where a session's robot checkpoints go: `STUDY.sessions/session-ID` beside the file."""
    study = Path(store.path)
    return study.with_name(study.stem + ".sessions") / f"session-{session_id}"


def human_condition(store, code: str, condition=None) -> dict:
    """The condition to play: the one named, or the participant's next unfinished human one
    in counterbalanced order."""
    if condition is not None:
        row = condition if isinstance(condition, dict) else store.condition(condition)
        if row["adversary"] != "human":
            raise SessionError(f"condition {row['name']!r} has adversary {row['adversary']!r} "
                               "and runs without a person: use `advgrasp study simulate`")
        return row
    person = store.participant(code)
    done = {s["condition_id"] for s in store.sessions()
            if s["participant"] == code and s["status"] == "finished"}
    for condition_id in person["condition_order"]:
        row = store.condition(condition_id)
        if row["adversary"] == "human" and condition_id not in done:
            return row
    raise SessionError(f"participant {code} has no human condition left to play; see "
                       f"`advgrasp study status {store.path}`")


def session_settings(store, code: str, condition: dict, overrides: dict | None) -> dict:
    """The study's settings of this session with `overrides` (see `OVERRIDES`) applied."""
    settings = store.session_settings(code, condition["id"])
    unknown = sorted(set(overrides or {}) - set(OVERRIDES))
    if unknown:
        raise SessionError(f"session settings {unknown} cannot be set; use {list(OVERRIDES)}")
    for key, value in (overrides or {}).items():
        if value is not None:
            settings[key] = list(value) if key == "objects" else value
    from advgrasp.study.sessions import trial_seed

    for key, count, practice in (("seeds", settings["trials"], False),
                                 ("practice_seeds", settings["practice_trials"], True)):
        if len(settings[key]) != count:
            settings[key] = [trial_seed(settings["seed"], i, practice) for i in range(count)]
    return settings


def check_settings(settings: SessionSettings | dict) -> SessionSettings:
    """Check a session's settings in full (counts, time limit, object names in the object
    set, the starting checkpoint loaded once) and return them as `SessionSettings`.

    Raises:
        SessionError: naming the bad setting and the fix.
    """
    from advgrasp.study.checks import check_checkpoint, check_objects

    checked = (settings if isinstance(settings, SessionSettings)
               else SessionSettings.from_study(settings))
    checked.validate()
    check_objects(checked.objects, checked.object_set, SessionError, "session settings")
    check_checkpoint(checked.checkpoint, SessionError, "session settings")
    return checked


def run_session(store, participant_code: str, condition=None, settings: dict | None = None,
                adversary_input=None, options: WindowOptions | None = None) -> dict:
    """Play (or resume) a participant's session of a human condition in a pygame window.

    Args:
        store: an open `advgrasp.study.store.StudyStore`.
        participant_code: the participant's pseudonymous code.
        condition: condition name, id or row; None: the next human condition in their order.
        settings: overrides of the study's session settings (`OVERRIDES`); a resumed session
            keeps the settings it started with.
        adversary_input: None for a person at the window, or a script called once per frame
            with the `SessionWindow` that posts pygame events (a scripted participant).
        options: `WindowOptions`.

    Returns:
        {"session_id", "status" ('finished' or 'closed'), "trials" logged, "score",
        "frame_times" (seconds between frames), "frame_phases"}.
    """
    row = human_condition(store, participant_code, condition)
    fresh = session_settings(store, participant_code, row, settings)
    check_settings(fresh)  # before the session is stored: a bad option must lock no one out
    session_id = store.start_session(participant_code, row["id"], fresh)
    stored = store.session(session_id)["settings"]
    try:
        checked = check_settings(stored)
    except SessionError as err:
        raise SessionError(
            f"session {session_id} of {participant_code} was stored with settings that cannot "
            f"run ({err}); end it with `advgrasp study end-session {store.path} "
            f"{session_id} --reason ...`, then play starts a new session") from None
    finished = store.finished_trials(session_id)
    runner = TrialRunner(checked, session_folder(store, session_id), background=True)
    window = None
    try:
        runner.resume(finished)
        window = SessionWindow(options, adversary_input)
        for trial in finished:
            window.score.add(trial)
        status = _play(window, store, session_id, runner, stored, finished)
    except SessionClosed:
        status = "closed"
        log.info("session %d closed after %d trials; run the same command to resume",
                 session_id, runner.position)
    finally:
        runner.close()
        if window is not None:
            window.close()
    return {"session_id": session_id, "status": status,
            "trials": len(store.finished_trials(session_id)),
            "score": window.score if window else Score(),
            "frame_times": window.frame_times if window else [],
            "frame_phases": window.frame_phases if window else []}


def _play(window: SessionWindow, store, session_id: int, runner: TrialRunner, stored: dict,
          finished: list[dict]) -> str:
    enter = (pygame.K_RETURN, pygame.K_KP_ENTER)
    consent = store.study_config().get("consent", "").strip()
    if not finished and consent:
        window.text_screen("consent", "Before you start", consent,
                           "Enter: I agree and start", enter)
    elif not finished:
        log.warning("study %s has no consent text: no consent screen shown (add consent = "
                    "\"...\" to the [study] table of its TOML file)", store.path)
    else:
        window.text_screen("welcome", "Welcome back",
                           f"The session resumes at trial {runner.position + 1} of "
                           f"{runner.settings.total_trials}.", "Enter: continue", enter)
    settings = runner.settings
    while not runner.finished:
        practice, index = settings.trial_at(runner.position)
        window.trial_label = (f"Practice {index + 1} of {settings.practice_trials}" if practice
                              else f"Trial {index + 1} of {settings.trials}")
        trial = play_trial(window, runner)
        store.record_trial(session_id, trial)
        window.check_closed()
        show_outcome(window, trial, runner)
    answers = ask_questionnaire(window, store.study_config()["questionnaire"])
    store.record_answers(session_id, answers)
    store.end_session(session_id, "finished")
    score = window.score
    try:
        window.text_screen("done", "Thank you",
                           f"This block is over. Robot {score.robot}, you {score.person} "
                           f"(the robot missed {score.missed} times).", "Enter: close", enter)
    except SessionClosed:
        pass  # everything is stored; closing the window here is how a person leaves
    return "finished"
