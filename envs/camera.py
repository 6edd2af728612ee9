"""The top-down camera: an orthographic view of a square workspace on the tray.

An orthographic projection makes every pixel cover the same patch of tray whatever the height
of what is under it, so pixel <-> world mapping is exact. PyBullet converts the renderer's
eye-space depth to a buffer value as if the projection were perspective, using near and far
planes read off the matrix (near' = m14 / (m10 - 1), far' = m14 / (m10 + 1)); that conversion
is inverted exactly in `height_from_depth_buffer` (checked against boxes of known height in the
tests). Image rows run from +y (row 0) to -y and columns from -x to +x, so the picture looks
like the scene seen from above with +y up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class TopDownCamera:
    """Geometry of the top-down view.

    Attributes:
        center: (x, y) of the workspace centre in metres.
        side_m: side of the square workspace in metres.
        size_px: image side in pixels.
        height_m: camera height above the tray surface (z = 0).
        depth_range_m: heights above the tray from 0 to this map onto depth values 0 to 255.
    """

    center: tuple[float, float] = (0.0, 0.0)
    side_m: float = 0.30
    size_px: int = 64
    height_m: float = 1.0
    depth_range_m: float = 0.15

    near_m: float = 0.5
    far_m: float = 1.05

    @property
    def meters_per_pixel(self) -> float:
        return self.side_m / self.size_px

    def projection(self) -> list[float]:
        """Column-major orthographic projection matrix for PyBullet."""
        h, n, f = self.side_m / 2, self.near_m, self.far_m
        m = np.array([[1 / h, 0, 0, 0],
                      [0, 1 / h, 0, 0],
                      [0, 0, -2 / (f - n), -(f + n) / (f - n)],
                      [0, 0, 0, 1]])
        return m.T.flatten().tolist()

    def view(self, offset=(0.0, 0.0), roll: float = 0.0) -> tuple[list, list, list]:
        """Eye, target and up vector; `offset` and `roll` jitter the pose when randomising."""
        cx, cy = self.center[0] + offset[0], self.center[1] + offset[1]
        return [cx, cy, self.height_m], [cx, cy, 0.0], [-np.sin(roll), np.cos(roll), 0.0]

    def pixel_to_world(self, row, col) -> tuple[np.ndarray, np.ndarray]:
        """World (x, y) in metres of pixel centres; accepts arrays and fractional pixels."""
        s = self.meters_per_pixel
        x = self.center[0] - self.side_m / 2 + (np.asarray(col, dtype=float) + 0.5) * s
        y = self.center[1] + self.side_m / 2 - (np.asarray(row, dtype=float) + 0.5) * s
        return x, y

    def world_to_pixel(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (row, col) of world points; the inverse of `pixel_to_world`."""
        s = self.meters_per_pixel
        col = (np.asarray(x, dtype=float) - self.center[0] + self.side_m / 2) / s - 0.5
        row = (self.center[1] + self.side_m / 2 - np.asarray(y, dtype=float)) / s - 0.5
        return row, col

    def height_from_depth_buffer(self, depth_buffer: np.ndarray) -> np.ndarray:
        """Height above the tray in metres from PyBullet's [0, 1] orthographic depth buffer."""
        m = self.projection()
        near, far = m[14] / (m[10] - 1.0), m[14] / (m[10] + 1.0)
        d = depth_buffer.astype(np.float64)
        distance = far * near / (far - (far - near) * d)
        return self.height_m - distance

    def quantise_height(self, height_m: np.ndarray) -> np.ndarray:
        """Height above the tray to uint8: 0 is the tray surface, 255 is `depth_range_m`."""
        scaled = np.clip(height_m / self.depth_range_m, 0.0, 1.0) * 255.0
        return np.round(scaled).astype(np.uint8)
