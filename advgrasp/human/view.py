"""Drawing the session: the live third-person view, the robot's camera inset, the grasp, the
world axes with their keys, the side panel, banners and text screens.

The live view is rendered small by PyBullet's software renderer and scaled up to the window,
which keeps a frame well under the 50 ms budget whatever the window size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pygame

from advgrasp.human.controls import KEY_LABELS, PushChoice

BACKGROUND = (28, 30, 36)
PANEL = (40, 43, 52)
TEXT = (235, 235, 240)
DIM = (150, 155, 170)
ACCENT = (255, 190, 60)
ROBOT = (90, 200, 120)
PERSON = (240, 100, 90)
AXIS_COLOURS = {"right": (230, 80, 80), "left": (160, 60, 60), "forward": (80, 200, 90),
                "backward": (60, 140, 70), "up": (90, 140, 255), "down": (70, 100, 190)}


@dataclass(frozen=True)
class SceneCamera:
    """The third-person camera of the live view (metres, degrees)."""

    eye: tuple[float, float, float] = (0.42, -0.42, 0.40)
    target: tuple[float, float, float] = (0.0, 0.0, 0.09)
    fov_deg: float = 45.0
    near_m: float = 0.05
    far_m: float = 3.0

    def _matrices(self, sim, width: int, height: int) -> tuple[list, list]:
        view = sim.view_matrix(list(self.eye), list(self.target), [0, 0, 1])
        return view, sim.perspective(self.fov_deg, width / height, self.near_m, self.far_m)

    def render(self, world, width: int, height: int) -> np.ndarray:
        """RGB (height, width, 3) uint8 of the world from this camera."""
        view, projection = self._matrices(world.sim, width, height)
        rgb, _ = world.sim.render(width, height, view, projection)
        return rgb

    def project(self, world, points_m: np.ndarray, rect: pygame.Rect) -> np.ndarray:
        """Screen pixels (N, 2) of world points (N, 3) when the view fills `rect`."""
        view, projection = self._matrices(world.sim, rect.width, rect.height)
        v = np.asarray(view).reshape(4, 4).T
        p = np.asarray(projection).reshape(4, 4).T
        homogeneous = np.hstack([np.asarray(points_m, dtype=float),
                                 np.ones((len(points_m), 1))])
        clip = homogeneous @ (p @ v).T
        ndc = clip[:, :2] / clip[:, 3:4]
        return np.column_stack([rect.x + (ndc[:, 0] + 1) / 2 * rect.width,
                                rect.y + (1 - ndc[:, 1]) / 2 * rect.height])


@dataclass
class Layout:
    """Where everything goes in a window of `size` pixels."""

    size: tuple[int, int]

    def __post_init__(self):
        w, h = self.size
        self.scale = max(0.5, min(w / 1024, h / 640))
        bar = int(40 * self.scale)
        panel_w = max(220, int(w * 0.3))
        self.top = pygame.Rect(0, 0, w, bar)
        self.bottom = pygame.Rect(0, h - bar, w, bar)
        area = pygame.Rect(0, bar, w - panel_w, h - 2 * bar)
        fit = min(area.width / 4, area.height / 3)
        self.scene = pygame.Rect(0, 0, int(fit * 4), int(fit * 3))
        self.scene.center = area.center
        self.panel = pygame.Rect(w - panel_w, bar, panel_w, h - 2 * bar)
        side = int(min(self.scene.width, self.scene.height) * 0.3)
        self.inset = pygame.Rect(self.scene.right - side - 8, self.scene.y + 8, side, side)
        self.button = pygame.Rect(self.panel.x + 16, self.panel.bottom - int(70 * self.scale),
                                  self.panel.width - 32, int(52 * self.scale))


class Painter:
    """Fonts and drawing primitives for one window size."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self._fonts: dict[int, pygame.font.Font] = {}

    def font(self, points: int) -> pygame.font.Font:
        size = max(10, int(points * self.layout.scale))
        if size not in self._fonts:
            self._fonts[size] = pygame.font.Font(None, size)
        return self._fonts[size]

    def text(self, surface, text: str, pos, points: int = 24, colour=TEXT,
             anchor: str = "topleft", background=None) -> pygame.Rect:
        image = self.font(points).render(text, True, colour, background)
        rect = image.get_rect(**{anchor: (int(pos[0]), int(pos[1]))})
        surface.blit(image, rect)
        return rect

    def wrapped(self, surface, text: str, rect: pygame.Rect, points: int = 26,
                colour=TEXT) -> int:
        """Draw paragraphs wrapped to `rect`'s width; returns the y below the last line."""
        font, y = self.font(points), rect.y
        for paragraph in text.strip().split("\n"):
            line = ""
            for word in paragraph.split():
                trial = f"{line} {word}".strip()
                if font.size(trial)[0] > rect.width and line:
                    self.text(surface, line, (rect.x, y), points, colour)
                    y, line = y + font.get_linesize(), word
                else:
                    line = trial
            self.text(surface, line, (rect.x, y), points, colour)
            y += font.get_linesize()
        return y


def scene_surface(image: np.ndarray, rect: pygame.Rect) -> pygame.Surface:
    """A rendered RGB image (H, W, 3) uint8 scaled smoothly to `rect`."""
    small = pygame.surfarray.make_surface(np.ascontiguousarray(image.transpose(1, 0, 2)))
    return pygame.transform.smoothscale(small, rect.size)


def draw_inset(surface, painter: Painter, observation: np.ndarray, grasp, camera) -> None:
    """The robot's top-down camera image (H, W, 3+) with its grasp: the fingers' closing line."""
    rect = painter.layout.inset
    image = np.ascontiguousarray(observation[:, :, :3].transpose(1, 0, 2))
    surface.blit(pygame.transform.scale(pygame.surfarray.make_surface(image), rect.size), rect)
    pygame.draw.rect(surface, TEXT, rect, 2)
    pixel = rect.width / observation.shape[1]
    half_m = 0.04
    ends = []
    for sign in (-1, 1):
        x = grasp.x + sign * half_m * np.cos(grasp.theta)
        y = grasp.y + sign * half_m * np.sin(grasp.theta)
        row, col = camera.world_to_pixel(x, y)
        ends.append((rect.x + (float(col) + 0.5) * pixel, rect.y + (float(row) + 0.5) * pixel))
    pygame.draw.line(surface, ACCENT, ends[0], ends[1], 3)
    for end in ends:
        pygame.draw.circle(surface, ACCENT, end, 4)
    painter.text(surface, "robot's camera", (rect.x + 4, rect.bottom + 2), 18, DIM)


def draw_axes(surface, painter: Painter, origin, arrows: dict[str, np.ndarray],
              choice: PushChoice, length_px: float) -> None:
    """The six push directions as arrows from the object, each labelled with its key."""
    for name, vector in arrows.items():
        if name not in choice.directions:
            continue
        chosen = name == choice.direction
        end = np.asarray(origin) + vector * length_px * (1.25 if chosen else 1.0)
        colour = ACCENT if chosen else AXIS_COLOURS[name]
        pygame.draw.line(surface, colour, origin, end, 6 if chosen else 3)
        side = np.array([-vector[1], vector[0]]) * 7
        head = [end + vector * 10, end + side, end - side]
        pygame.draw.polygon(surface, colour, [tuple(p) for p in head])
        label = end + vector * 30
        painter.text(surface, f" {name} [{KEY_LABELS[name]}] ", label, 18, colour, "center",
                     BACKGROUND)


def draw_banner(surface, painter: Painter, text: str, colour, subtitle: str = "") -> None:
    rect = painter.layout.scene
    box = pygame.Rect(0, 0, int(rect.width * 0.8), int(90 * painter.layout.scale))
    box.center = (rect.centerx, rect.y + rect.height * 0.78)
    shade = pygame.Surface(box.size, pygame.SRCALPHA)
    shade.fill((0, 0, 0, 170))
    surface.blit(shade, box)
    painter.text(surface, text, (box.centerx, box.centery - 10 * painter.layout.scale), 40,
                 colour, "center")
    if subtitle:
        painter.text(surface, subtitle, (box.centerx, box.bottom - 14 * painter.layout.scale),
                     20, DIM, "center")


def draw_text_screen(surface, painter: Painter, title: str, body: str, footer: str) -> None:
    """A full-window screen of text (consent, pause, thanks)."""
    w, h = surface.get_size()
    surface.fill(BACKGROUND)
    margin = int(60 * painter.layout.scale)
    painter.text(surface, title, (margin, margin), 40, ACCENT)
    painter.wrapped(surface, body, pygame.Rect(margin, margin + int(60 * painter.layout.scale),
                                               w - 2 * margin, h), 26)
    painter.text(surface, footer, (margin, h - margin), 26, ACCENT, "bottomleft")


def likert_boxes(painter: Painter, points: int, size) -> list[pygame.Rect]:
    """The clickable boxes of a Likert scale's points, left to right."""
    w, h = size
    width = min(120 * painter.layout.scale, (w - 80) / points)
    boxes = []
    for i in range(points):
        box = pygame.Rect(0, 0, int(width - 10), int(60 * painter.layout.scale))
        box.center = (int(w / 2 + (i - (points - 1) / 2) * width), int(h * 0.55))
        boxes.append(box)
    return boxes


def draw_likert(surface, painter: Painter, questionnaire: dict, item: int,
                selected: int | None) -> list[pygame.Rect]:
    """One questionnaire item with its scale; returns the points' boxes."""
    surface.fill(BACKGROUND)
    w, h = surface.get_size()
    items, scale = questionnaire["items"], questionnaire["scale"]
    margin = int(60 * painter.layout.scale)
    painter.text(surface, f"{questionnaire['title']}  ({item + 1} of {len(items)})",
                 (margin, margin), 34, ACCENT)
    painter.wrapped(surface, items[item]["text"], pygame.Rect(margin, int(h * 0.28),
                                                             w - 2 * margin, h), 32)
    points = list(range(scale["min"], scale["max"] + 1))
    boxes = likert_boxes(painter, len(points), (w, h))
    labels = scale.get("labels") or [""] * len(points)
    for value, box, label in zip(points, boxes, labels, strict=True):
        chosen = value == selected
        pygame.draw.rect(surface, ACCENT if chosen else PANEL, box, border_radius=8)
        painter.text(surface, str(value), box.center, 32, BACKGROUND if chosen else TEXT,
                     "center")
        painter.wrapped(surface, label, pygame.Rect(box.x, box.bottom + 6, box.width, 80), 16,
                        DIM)
    painter.text(surface, f"keys {points[0]}-{points[-1]} or click, Left/Right to move, "
                 "Enter to go on", (margin, h - margin), 24, DIM, "bottomleft")
    return boxes
