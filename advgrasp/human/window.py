"""`SessionWindow`: the pygame window a person plays in.

Every display and event call happens here, on the main thread, and every frame drains the whole
event queue, so no key, click or close is lost; the world's physics also runs on this thread and
calls back after each step (`LiveWorld.on_step`), so the grasp, the lift and the push are drawn
as they happen. Learning runs in a worker thread meanwhile (see `TrialRunner`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pygame

from advgrasp.human.controls import PushChoice, screen_arrows
from advgrasp.human.errors import SessionClosed
from advgrasp.human.view import (
    ACCENT,
    BACKGROUND,
    DIM,
    PANEL,
    PERSON,
    ROBOT,
    TEXT,
    Layout,
    Painter,
    SceneCamera,
    draw_axes,
    draw_banner,
    draw_inset,
    draw_text_screen,
    scene_surface,
)

KEYS_HELP = ["Arrows: left / right / forward / backward", "W / S: up / down",
             "1, 2: strength", "or drag from the object", "Enter / Space: push",
             "Backspace: clear", "Esc: pause"]


@dataclass
class WindowOptions:
    """How the window looks and paces itself.

    Attributes:
        size: initial window size in pixels (the window can be resized).
        render_size: the live view is rendered at this size (pixels) and scaled up.
        fps: frames per second while waiting for input (the most; fewer when a frame is slow).
        playback_fps: frames per simulated second while the physics plays.
        playback_speed: 1.0 shows the physics in real time; 0 runs it as fast as it goes.
        banner_s: how long the outcome banner stays, seconds.
    """

    size: tuple[int, int] = (1024, 640)
    render_size: tuple[int, int] = (160, 120)
    fps: int = 60
    playback_fps: int = 30
    playback_speed: float = 1.0
    banner_s: float = 1.5


@dataclass
class Score:
    """Scored trials: the robot's wins (held on), the person's (dropped) and misses."""

    robot: int = 0
    person: int = 0
    missed: int = 0

    def add(self, trial: dict) -> None:
        if trial["practice"]:
            return
        if not trial["r_r"]:
            self.missed += 1
        elif trial["r_h"]:
            self.person += 1
        else:
            self.robot += 1


class SessionWindow:
    """The window: screens, the live trial view and input.

    Args:
        options: `WindowOptions`.
        script: called once per frame with the window before its events are drained; a
            scripted participant posts pygame events from it (tests, demos). None for a person.
    """

    def __init__(self, options: WindowOptions | None = None,
                 script: Callable[[SessionWindow], None] | None = None):
        self.options, self.script = options or WindowOptions(), script
        pygame.init()
        pygame.display.set_caption("advgrasp: knock the object out of the robot's hand")
        self.surface = pygame.display.set_mode(self.options.size, pygame.RESIZABLE)
        self._resized(self.surface.get_size())
        self.clock = pygame.time.Clock()
        self.camera = SceneCamera()
        self.phase, self.closing, self.pause_wanted = "start", False, False
        self.frame_times: list[float] = []
        self.frame_phases: list[str] = []
        self._last_flip: float | None = None
        self.trial_label, self.score, self.status = "", Score(), ""
        self.runner = self.held = self.scene = None
        self.choice: PushChoice | None = None
        self.drag: tuple | None = None
        self.remaining_s: float | None = None
        self.banner: tuple | None = None
        self.text_shown: tuple[str, str] | None = None

    def _resized(self, size) -> None:
        self.layout = Layout(tuple(size))
        self.painter = Painter(self.layout)
        self._scaled = None

    # -- frames ---------------------------------------------------------------------------

    def events(self) -> list[pygame.event.Event]:
        """Run the script, drain the whole queue, handle close and resize."""
        if self.script is not None:
            self.script(self)
        events = pygame.event.get()
        for event in events:
            if event.type == pygame.QUIT:
                self.closing = True
            elif event.type == pygame.VIDEORESIZE:
                self.surface = pygame.display.set_mode((max(480, event.w), max(320, event.h)),
                                                       pygame.RESIZABLE)
                self._resized(self.surface.get_size())
            elif event.type == pygame.WINDOWSIZECHANGED:
                self._resized(self.surface.get_size())
        return events

    def flip(self, wait: bool = True) -> None:
        """Show the frame; record the time since the last one (seconds, monotonic)."""
        pygame.display.flip()
        now = time.monotonic()
        if self._last_flip is not None:
            self.frame_times.append(now - self._last_flip)
            self.frame_phases.append(self.phase)
        self._last_flip = now
        if wait:
            self.clock.tick(self.options.fps)

    def check_closed(self) -> None:
        if self.closing:
            raise SessionClosed("the window was closed")

    def screenshot(self, path) -> None:
        pygame.image.save(self.surface, str(path))

    def close(self) -> None:
        pygame.display.quit()
        pygame.quit()

    # -- the live view --------------------------------------------------------------------

    def render_scene(self) -> None:
        self.scene = self.camera.render(self.runner.world, *self.options.render_size)
        self._scaled = None

    def live(self, action: Callable[[], object]):
        """Run a world phase on this thread, drawing it in real time as it steps."""
        world, speed = self.runner.world, self.options.playback_speed
        clock = {"sim": 0.0, "next": 0.0, "start": time.monotonic()}

        def on_step(dt_s: float) -> None:
            clock["sim"] += dt_s
            if clock["sim"] < clock["next"]:
                return
            clock["next"] = clock["sim"] + 1.0 / self.options.playback_fps
            self.render_scene()
            for event in self.events():
                if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
                    self.pause_wanted = True
            self.draw()
            self.flip(wait=False)
            if speed > 0 and not self.closing:
                time.sleep(max(0.0, clock["start"] + clock["sim"] / speed - time.monotonic()))

        world.on_step = on_step
        try:
            return action()
        finally:
            world.on_step = None
            self.render_scene()

    def object_screen(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The held object's screen position and the on-screen world-direction vectors."""
        world, rect = self.runner.world, self.layout.scene
        at = np.asarray(world.object_position, dtype=float)
        origin = self.camera.project(world, at[None, :], rect)[0]
        arrows = screen_arrows(lambda p: self.camera.project(world, p, rect), at)
        return origin, arrows

    def draw(self) -> None:
        """The trial screen: live view, inset, arrows, top bar, side panel, status, banner."""
        s, layout, painter = self.surface, self.layout, self.painter
        s.fill(BACKGROUND)
        if self.scene is not None:
            if self._scaled is None or self._scaled.get_size() != layout.scene.size:
                self._scaled = scene_surface(self.scene, layout.scene)
            s.blit(self._scaled, layout.scene)
        chosen = self.runner.chosen if self.runner is not None else None
        if chosen is not None:
            draw_inset(s, painter, *chosen, self.runner.trainer.policy.camera)
        if self.phase == "choose":
            origin, arrows = self.object_screen()
            draw_axes(s, painter, origin, arrows, self.choice, 70 * layout.scale)
            if self.drag is not None:
                pygame.draw.line(s, ACCENT, self.drag[0], self.drag[1], 2)
        painter.text(s, self.trial_label, (12, layout.top.centery), 26, TEXT, "midleft")
        painter.text(s, f"Robot {self.score.robot} : {self.score.person} You",
                     (layout.top.right - 12, layout.top.centery), 30, ACCENT, "midright")
        self._draw_panel()
        painter.text(s, self.status, (12, layout.bottom.centery), 22, DIM, "midleft")
        if self.banner is not None:
            draw_banner(s, painter, *self.banner)

    def _draw_panel(self) -> None:
        s, layout, painter = self.surface, self.layout, self.painter
        pygame.draw.rect(s, PANEL, layout.panel)
        x, y = layout.panel.x + 16, layout.panel.y + 12
        for line in KEYS_HELP:
            y = painter.text(s, line, (x, y), 20, DIM).bottom + 4
        chosen = self.runner.chosen if self.runner is not None else None
        if chosen is not None:
            y = painter.text(s, f"Robot's grasp: {chosen[1].predicted:.0%} sure it holds",
                             (x, y + 10), 20, TEXT).bottom
        push = self.choice.perturbation if self.choice is not None else None
        choice = (f"{push.direction}, level {self.choice.level} ({push.magnitude_n:g} N)"
                  if push else "none yet")
        y = painter.text(s, "Push: " + choice, (x, y + 14), 24, TEXT).bottom
        if self.remaining_s is not None:
            bar = pygame.Rect(x, y + 12, layout.panel.width - 32, 12)
            share = self.remaining_s / self.runner.settings.time_limit_s
            pygame.draw.rect(s, BACKGROUND, bar)
            pygame.draw.rect(s, PERSON if share < 0.3 else ROBOT,
                             (bar.x, bar.y, int(bar.width * max(0.0, share)), bar.height))
            painter.text(s, f"{self.remaining_s:.1f} s left", (x, bar.bottom + 4), 20, DIM)
        if self.phase == "choose":
            colour = ACCENT if push else BACKGROUND
            pygame.draw.rect(s, colour, layout.button, border_radius=10)
            painter.text(s, "PUSH", layout.button.center, 34, BACKGROUND if push else DIM,
                         "center")

    # -- screens --------------------------------------------------------------------------

    def pause(self) -> float:
        """Hold everything until Esc is pressed again; returns the seconds paused."""
        start, previous = time.monotonic(), self.phase
        self.phase, self.pause_wanted = "pause", False
        try:
            while True:
                for event in self.events():
                    if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
                        return time.monotonic() - start
                self.check_closed()
                draw_text_screen(self.surface, self.painter, "Paused",
                                 "The trial timer is stopped.", "Esc: continue")
                self.flip()
        finally:
            self.phase = previous

    def text_screen(self, phase: str, title: str, body: str, footer: str,
                    keys=(pygame.K_RETURN, pygame.K_KP_ENTER)) -> None:
        """Show a text screen until one of `keys` is pressed."""
        self.phase, self.text_shown = phase, (title, body)
        while True:
            for event in self.events():
                if event.type == pygame.KEYDOWN and event.key in keys:
                    return
            self.check_closed()
            draw_text_screen(self.surface, self.painter, title, body, footer)
            self.flip()
