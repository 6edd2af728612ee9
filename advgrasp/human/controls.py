"""How a person picks a push: keys, or a mouse drag on the held object snapped to the allowed set.

Keys (shown on screen beside the arrows of the world axes):

    arrow keys      left (-x), right (+x), forward (+y), backward (-y) in the world frame
    W / S           up (+z), down (-z)            (Page Up / Page Down also work)
    1, 2, ...       strength level (the allowed magnitudes, weakest first)
    Enter / Space   confirm the push;  Backspace clears the choice

A drag that starts on the held object picks the world direction whose on-screen arrow is
closest in angle to the drag, and a strength level from the drag's length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pygame

from envs.perturbation import DIRECTIONS, Perturbation

DIRECTION_KEYS = {
    pygame.K_LEFT: "left", pygame.K_RIGHT: "right", pygame.K_UP: "forward",
    pygame.K_DOWN: "backward", pygame.K_w: "up", pygame.K_s: "down",
    pygame.K_PAGEUP: "up", pygame.K_PAGEDOWN: "down",
}
KEY_LABELS = {"left": "Left", "right": "Right", "forward": "Up", "backward": "Down",
              "up": "W", "down": "S"}
CONFIRM_KEYS = (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE)
LEVEL_KEYS = {getattr(pygame, f"K_{n}"): n for n in range(1, 10)}

MIN_DRAG_PX = 12
"""Shorter drags are taken as clicks and change nothing."""


@dataclass
class PushChoice:
    """The push being chosen: a direction and a strength level (1 = weakest), or nothing.

    Args:
        allowed: the environment's allowed perturbations (every direction x magnitude).
    """

    allowed: list[Perturbation]
    direction: str | None = None
    level: int = 1

    def __post_init__(self):
        self.directions = list(dict.fromkeys(p.direction for p in self.allowed))
        self.magnitudes = sorted({p.magnitude_n for p in self.allowed})

    @property
    def levels(self) -> int:
        return len(self.magnitudes)

    def clear(self) -> None:
        self.direction, self.level = None, 1

    @property
    def perturbation(self) -> Perturbation | None:
        """The allowed perturbation chosen so far, or None without a direction."""
        if self.direction is None:
            return None
        magnitude = self.magnitudes[self.level - 1]
        for push in self.allowed:
            if push.direction == self.direction and push.magnitude_n == magnitude:
                return push
        return None

    def key(self, key: int) -> bool:
        """Apply a key press; returns True when it was a confirm key with a push chosen."""
        if key in DIRECTION_KEYS and DIRECTION_KEYS[key] in self.directions:
            self.direction = DIRECTION_KEYS[key]
        elif key in LEVEL_KEYS and LEVEL_KEYS[key] <= self.levels:
            self.level = LEVEL_KEYS[key]
        elif key == pygame.K_BACKSPACE:
            self.clear()
        elif key in CONFIRM_KEYS:
            return self.perturbation is not None
        return False

    def drag(self, start_px, end_px, arrows: dict[str, np.ndarray], full_drag_px: float) -> bool:
        """Snap a drag to the allowed set; returns True when it chose a push.

        Args:
            start_px, end_px: drag start and end on screen (x right, y down), pixels.
            arrows: on-screen unit vector of each world direction at the object.
            full_drag_px: the drag length that picks the strongest level.
        """
        drag = np.asarray(end_px, dtype=float) - np.asarray(start_px, dtype=float)
        length = float(np.linalg.norm(drag))
        if length < MIN_DRAG_PX:
            return False
        cosines = {name: float(np.dot(drag, vector)) / length
                   for name, vector in arrows.items() if name in self.directions}
        self.direction = max(cosines, key=cosines.get)
        self.level = int(np.clip(np.ceil(length / full_drag_px * self.levels), 1, self.levels))
        return True


def screen_arrows(project, at_m: np.ndarray, length_m: float = 0.05) -> dict[str, np.ndarray]:
    """On-screen unit vectors of the world directions at a world point.

    Args:
        project: world points (N, 3) metres -> screen points (N, 2) pixels.
        at_m: the world point (3,), metres.
    """
    names = list(DIRECTIONS)
    ends = np.array([at_m + length_m * np.asarray(DIRECTIONS[n]) for n in names])
    points = project(np.vstack([at_m[None, :], ends]))
    vectors = points[1:] - points[0]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return {n: v for n, v in zip(names, vectors / np.maximum(norms, 1e-9), strict=True)}
