"""Errors of the user-study store. Each message names the file, code or value and the fix."""

from envs.errors import AdvGraspError


class StudyError(AdvGraspError):
    """Base class of the study's errors."""


class StudyFileError(StudyError):
    """The study database is missing, damaged, locked for too long or from a newer version."""


class StudyConfigError(StudyError, ValueError):
    """The study or questionnaire TOML file is malformed."""


class UnknownParticipantError(StudyError, KeyError):
    """No participant has this code in the study."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class ParticipantStateError(StudyError):
    """The participant cannot do this now (withdrawn, already added, all conditions done)."""


class StudyDataError(StudyError, ValueError):
    """A trial, answer, session or event does not fit the study (missing key, bad value)."""


class ReplayMismatchError(StudyError):
    """A replayed session did not reproduce its logged outcomes."""
