"""Shared pieces of the play tests (no tests here): a small study file and a scripted
participant who posts real pygame events into the window's queue (SDL's dummy drivers, set
before pygame starts)."""

from __future__ import annotations

import os
from pathlib import Path

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"

import pygame  # noqa: E402
import torch  # noqa: E402

from advgrasp.human.window import WindowOptions  # noqa: E402

torch.set_num_threads(1)

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "study"

# Study seed 9 with the untrained robot on the can: the practice trial and three of the four
# scored trials are lifted when the pushes below are made, so both the keyboard and the drag
# paths run. Scenes, grasps and outcomes are deterministic; a change of the world or the
# trainer may move the lifts, and the tests say so when nothing was lifted.
STUDY = """
[study]
name = "window test"
seed = {seed}
consent = "Test consent: press Enter."
practice_trials = {practice}
trials_per_condition = {trials}
time_limit_s = {time_limit}
questionnaire = "{questionnaire}"
object_set = "assets"

[[conditions]]
name = "human"
adversary = "human"
objects = ["can"]

[[conditions]]
name = "control"
adversary = "random"
objects = ["can"]
"""

FAST = WindowOptions(size=(900, 600), render_size=(96, 72), playback_speed=0.0, fps=500,
                     playback_fps=10, banner_s=0.01)


def make_study(folder: Path, trials: int = 4, practice: int = 1, time_limit: float = 10.0,
               seed: int = 9):
    from advgrasp.study.store import StudyStore

    toml = folder / "study.toml"
    toml.write_text(STUDY.format(seed=seed, practice=practice, trials=trials,
                                 time_limit=time_limit,
                                 questionnaire=(ASSETS / "questionnaire.toml").as_posix()))
    store = StudyStore.init(folder / "study.sqlite", toml)
    store.add_participant("P01")
    return store


def key(code: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=code, mod=0, unicode="",
                                         scancode=0))


def mouse(kind: int, pos, **extra) -> None:
    pygame.event.post(pygame.event.Event(kind, pos=(int(pos[0]), int(pos[1])), **extra))


class Participant:
    """Acts on the second frame of each screen (so the screen has been drawn once).

    Lifted objects are pushed in turn by keys (left, level 2, Enter) and by a drag upwards
    from the object, long enough for level 2, confirmed with a click on PUSH. `close_at`
    closes the window at that choose screen (1-based); `answer` is the Likert point.
    """

    def __init__(self, close_at: int | None = None, answer: int = 5, push: bool = True,
                 pause_at: int | None = None, resize_to: tuple[int, int] | None = None):
        self.close_at, self.answer, self.push = close_at, answer, push
        self.pause_at, self.resize_to = pause_at, resize_to
        self.phase, self.frames, self.chooses = None, 0, 0
        self.pushed: list[str] = []
        self.phases: list[str] = []
        self.sizes: list[tuple[int, int]] = []
        self.texts: dict[str, tuple[str, str]] = {}

    def __call__(self, window) -> None:
        if window.phase != self.phase:
            self.chooses += window.phase == "choose" and self.phase != "pause"
            self.phase, self.frames = window.phase, 0
            self.phases.append(window.phase)
        self.frames += 1
        n, phase = self.frames, window.phase
        if phase in ("consent", "welcome", "done") and n == 2:
            self.texts[phase] = window.text_shown
        if phase in ("consent", "welcome") and n == 2:
            if self.resize_to:
                pygame.event.post(pygame.event.Event(pygame.VIDEORESIZE, w=self.resize_to[0],
                                                     h=self.resize_to[1],
                                                     size=self.resize_to))
            key(pygame.K_RETURN)
        elif phase == "done" and n == 2:
            key(pygame.K_RETURN)
        elif phase == "questionnaire" and n % 3 == 2:
            key(pygame.K_0 + self.answer)
            key(pygame.K_RETURN)
        elif phase == "pause" and n == 2:
            key(pygame.K_ESCAPE)
        elif phase == "choose":
            self._choose(window, n)

    def _choose(self, window, n: int) -> None:
        if self.chooses == self.close_at and n == 2:
            pygame.event.post(pygame.event.Event(pygame.QUIT))
            return
        if not self.push:
            return
        if self.chooses == self.pause_at and "pause" not in self.phases and n == 2:
            key(pygame.K_ESCAPE)
            return
        self.sizes.append(window.surface.get_size())
        by_keys = self.chooses % 2 == 1
        if by_keys and n == 3:
            key(pygame.K_LEFT)
            key(pygame.K_2)
            key(pygame.K_RETURN)
            self.pushed.append("left_36N")
        elif not by_keys and n == 3:
            origin, arrows = window.object_screen()
            end = origin + arrows["up"] * 200 * window.layout.scale
            mouse(pygame.MOUSEBUTTONDOWN, origin, button=1)
            mouse(pygame.MOUSEMOTION, (origin + end) / 2, rel=(0, 0), buttons=(1, 0, 0))
            mouse(pygame.MOUSEBUTTONUP, end, button=1)
        elif not by_keys and n == 4:
            mouse(pygame.MOUSEBUTTONDOWN, window.layout.button.center, button=1)
            self.pushed.append("up_36N")
