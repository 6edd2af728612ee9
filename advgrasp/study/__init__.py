"""The user study: a SQLite store of participants, conditions, sessions, trials, answers and
events; counterbalancing; export; analysis; replay; simulated studies."""

from advgrasp.study.errors import (
    ParticipantStateError,
    ReplayMismatchError,
    StudyConfigError,
    StudyDataError,
    StudyError,
    StudyFileError,
    UnknownParticipantError,
)
from advgrasp.study.sessions import TRIAL_KEYS
from advgrasp.study.store import StudyStore

__all__ = ["StudyStore", "TRIAL_KEYS", "StudyError", "StudyFileError", "StudyConfigError",
           "StudyDataError", "UnknownParticipantError", "ParticipantStateError",
           "ReplayMismatchError"]
