"""A geometric grasp from the depth image: the object's centroid, closing across its minor axis.

Used to calibrate perturbations and as a baseline for learned policies. It needs no learning:
pixels higher than `min_height_m` above the tray are the object; their centroid is the grasp
point and the fingers close along the direction in which the object is narrowest (the minor
axis of the pixel cloud's second moments).
"""

from __future__ import annotations

import numpy as np

from envs.camera import TopDownCamera


def object_mask(height_m: np.ndarray, min_height_m: float = 0.004) -> np.ndarray:
    """Boolean (H, W) mask of pixels that stand above the tray."""
    return height_m > min_height_m


def geometric_grasp(height_m: np.ndarray, camera: TopDownCamera,
                    min_height_m: float = 0.004) -> tuple[float, float, float] | None:
    """Grasp (x, y, theta) in metres and radians from a height map, or None if nothing is seen.

    Args:
        height_m: (H, W) height above the tray in metres, as `GraspWorld.render_top_down` gives.
        camera: the camera that took it (for pixel -> world).
        min_height_m: pixels above this height count as object.
    """
    rows, cols = np.nonzero(object_mask(height_m, min_height_m))
    if rows.size < 3:
        return None
    x, y = camera.pixel_to_world(rows, cols)
    pts = np.stack([x, y], axis=1)
    centre = pts.mean(axis=0)
    cov = np.cov((pts - centre).T)
    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    minor = eigenvectors[:, 0]  # eigh sorts ascending: the narrowest direction first
    theta = float(np.mod(np.arctan2(minor[1], minor[0]), np.pi))
    return float(centre[0]), float(centre[1]), theta
