"""The human-adversary session: a person pushes the object the robot holds, in a pygame window.

`TrialRunner` (trials.py) is the window-free trial logic shared with scripted participants;
`run_session` (session.py) is the window.
"""

from advgrasp.human.settings import SessionSettings, perturbation_from_name, perturbation_name
from advgrasp.human.trials import HeldTrial, TrialRunner

__all__ = ["HeldTrial", "SessionSettings", "TrialRunner", "perturbation_from_name",
           "perturbation_name"]
