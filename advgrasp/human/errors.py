"""Errors of the human-adversary session. Each message names the bad value and the fix."""

from envs.errors import AdvGraspError


class SessionError(AdvGraspError):
    """A session setting, starting checkpoint or saved session state is unusable."""


class SessionClosed(AdvGraspError):
    """The window was closed: the session ended early, every finished trial is kept."""
