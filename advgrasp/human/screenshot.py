"""A screenshot of the session window for the README: a held object, the push arrows, a drag
being snapped to a push, the robot's camera with its grasp. No study file is needed."""

from __future__ import annotations

import logging
from pathlib import Path

import pygame

from advgrasp.human.errors import SessionClosed, SessionError
from advgrasp.human.settings import SessionSettings
from advgrasp.human.trial_screen import play_trial
from advgrasp.human.trials import TrialRunner
from advgrasp.human.window import SessionWindow, WindowOptions

log = logging.getLogger(__name__)


def save_screenshot(path: str | Path, settings: SessionSettings,
                    options: WindowOptions | None = None, direction: str = "left") -> Path:
    """Play trials until the robot lifts the object, drag a push, save the window as a PNG.

    Args:
        path: the PNG to write.
        settings: objects, checkpoint and number of trials to try.
        direction: the world direction the drag points to.

    Raises:
        SessionError: the robot lifted nothing in `settings.total_trials` trials.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = {"choose": 0}

    def drag_then_shoot(window: SessionWindow) -> None:
        if window.phase != "choose":
            return
        frames["choose"] += 1
        if frames["choose"] == 2:
            origin, arrows = window.object_screen()
            end = origin + arrows[direction] * 180 * window.layout.scale
            for kind, at in ((pygame.MOUSEBUTTONDOWN, origin), (pygame.MOUSEMOTION, end)):
                pygame.event.post(pygame.event.Event(kind, pos=(int(at[0]), int(at[1])),
                                                     button=1, rel=(0, 0), buttons=(1, 0, 0)))
        elif frames["choose"] == 4:
            window.screenshot(path)
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    runner = TrialRunner(settings, None, background=True)
    window = SessionWindow(options, drag_then_shoot)
    window.runner = runner
    try:
        while not runner.finished:
            window.trial_label = f"Trial {runner.position + 1} of {settings.total_trials}"
            trial = play_trial(window, runner)
            window.score.add(trial)
    except SessionClosed:
        log.info("screenshot written to %s", path)
        return path
    finally:
        runner.close()
        window.close()
    raise SessionError(f"the robot lifted nothing in {settings.total_trials} trials, so there "
                       "is no held object to show; pass more trials or a trained --checkpoint")
