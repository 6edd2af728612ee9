"""Errors raised by the simulator. Each message names the offending value and the fix."""


class AdvGraspError(Exception):
    """Base class of every error this project raises on purpose."""


class ObjectLoadError(AdvGraspError):
    """An object model (URDF) could not be read or built."""


class ObjectSetError(AdvGraspError):
    """An object set name, folder or split is unknown or empty."""


class InvalidActionError(AdvGraspError, ValueError):
    """A grasp or environment action is NaN, infinite or outside its space."""


class WorldStateError(AdvGraspError, RuntimeError):
    """A phase was called out of order (for example, a push with nothing held)."""


class ConfigError(AdvGraspError, ValueError):
    """A configuration value is outside what the simulator supports."""
