"""One trial in the window: the robot grasps and lifts, the person chooses and confirms a push
(or the time runs out), the push plays out, then the outcome banner while the robot learns.

The reaction time runs on the monotonic clock from the moment the choice screen (arrows, timer,
PUSH button) is first shown on the held object to the frame that handles the confirmation,
with paused time taken out; it is exact to one frame (1/fps s, 17 ms at the default 60).
"""

from __future__ import annotations

import time

import numpy as np
import pygame

from advgrasp.human.controls import PushChoice
from advgrasp.human.trials import TrialRunner
from advgrasp.human.view import DIM, PERSON, ROBOT
from advgrasp.human.window import SessionWindow
from envs.perturbation import Perturbation


def play_trial(window: SessionWindow, runner: TrialRunner) -> dict:
    """Play the runner's next trial; returns its row (not yet logged).

    Raises:
        SessionClosed: the window was closed before the push was confirmed (nothing of this
            trial is kept); a close during the push's playback ends the trial first.
    """
    window.runner = runner
    wait_for_learning(window, runner)
    window.held, window.choice, window.banner = None, None, None
    window.phase, window.status = "playback", "The robot is choosing a grasp ..."
    window.held = window.live(runner.begin)
    window.check_closed()
    _honour_pause(window)
    push, reaction_s = None, None
    if window.held.lifted:
        push, reaction_s = choose_push(window, runner)
    window.phase = "playback"
    window.status = "Pushing ..." if push else "No push."
    trial = window.live(lambda: runner.push(push, reaction_s))
    window.choice, window.remaining_s = None, None
    return trial


def wait_for_learning(window: SessionWindow, runner: TrialRunner) -> None:
    """Keep drawing (and handling input) while the robot learns in its worker thread."""
    window.phase = "learning"
    while runner.learning:
        _pause_on_escape(window, window.events())
        window.check_closed()
        window.status = "The robot is learning from the last trial ..."
        window.draw()
        window.flip()


def _honour_pause(window: SessionWindow) -> None:
    """Pause now if Esc was pressed while the physics played."""
    if window.pause_wanted:
        window.pause()


def _pause_on_escape(window: SessionWindow, events: list) -> None:
    phase = window.phase
    if any(e.type == pygame.KEYDOWN and e.key == pygame.K_ESCAPE for e in events):
        window.pause()
        window.phase = phase


def choose_push(window: SessionWindow, runner: TrialRunner) -> tuple[Perturbation | None,
                                                                      float | None]:
    """Let the person choose a push by keys or a drag; (None, None) when time runs out."""
    limit = runner.settings.time_limit_s
    window.choice = PushChoice(runner.allowed)
    window.phase, window.drag = "choose", None
    window.status = "Choose a push: keys or drag from the object, then Enter or PUSH."
    window.remaining_s = limit
    window.draw()
    window.flip(wait=False)
    enabled, paused_s = time.monotonic(), 0.0  # the choice screen is up: input counts now
    while True:
        events = window.events()
        now = time.monotonic()
        window.check_closed()
        for event in events:
            confirmed = _handle(window, event)
            if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
                paused_s += window.pause()
                window.phase = "choose"
            elif confirmed:
                return window.choice.perturbation, now - enabled - paused_s
        window.remaining_s = limit - (now - enabled - paused_s)
        if window.remaining_s <= 0:
            window.remaining_s = 0.0
            return None, None
        window.draw()
        window.flip()


def _handle(window: SessionWindow, event) -> bool:
    """Apply one input event to the choice; True when it confirms a chosen push."""
    choice, layout = window.choice, window.layout
    if event.type == pygame.KEYDOWN:
        return choice.key(event.key)
    if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
        if layout.button.collidepoint(event.pos):
            return choice.perturbation is not None
        origin, _ = window.object_screen()
        if np.hypot(*(np.asarray(event.pos) - origin)) <= 60 * layout.scale:
            window.drag = (tuple(origin), event.pos)
    elif event.type == pygame.MOUSEMOTION and window.drag is not None:
        window.drag = (window.drag[0], event.pos)
        _snap(window)
    elif event.type == pygame.MOUSEBUTTONUP and event.button == 1 and window.drag is not None:
        window.drag = (window.drag[0], event.pos)
        _snap(window)
        window.drag = None
    return False


def _snap(window: SessionWindow) -> None:
    _, arrows = window.object_screen()
    window.choice.drag(window.drag[0], window.drag[1], arrows, 160 * window.layout.scale)


def show_outcome(window: SessionWindow, trial: dict, runner: TrialRunner) -> None:
    """The outcome banner and the updated score, for `banner_s` and while the robot learns."""
    _honour_pause(window)
    window.score.add(trial)
    if not trial["r_r"]:
        banner = ("The robot missed the object", DIM)
    elif trial["r_h"]:
        banner = ("You knocked it out!", PERSON)
    elif trial["perturbation"] is None:
        banner = ("Time is up: no push. The robot holds on", ROBOT)
    else:
        banner = ("The robot held on", ROBOT)
    note = "practice: not scored" if trial["practice"] else ""
    window.banner = (*banner, note)
    window.phase, window.status = "outcome", ""
    end = time.monotonic() + window.options.banner_s
    while time.monotonic() < end or runner.learning:
        _pause_on_escape(window, window.events())
        window.check_closed()
        if runner.learning:
            window.status = "The robot is learning from this trial ..."
        window.draw()
        window.flip()
    window.banner = None
    window.status = ""
