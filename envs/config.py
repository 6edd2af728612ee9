"""`WorldConfig`: everything that shapes a grasp attempt, in one dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field

from envs.errors import ConfigError
from envs.perturbation import PerturbationSet

OBS_MODES = ("rgb", "depth", "rgbd")


@dataclass
class WorldConfig:
    """Everything that shapes a grasp attempt. Lengths in metres, times in seconds."""

    object_set: str = "random_urdfs"
    """Object set: 'random_urdfs', 'assets' or a folder of URDFs."""
    split: str = "train"
    """Which split objects are drawn from: train, test or all."""
    image_size: int = 64
    """Side of the square top-down image in pixels (at least 48)."""
    obs_mode: str = "rgb"
    """'rgb', 'depth' (height above the tray, 0-255 over depth_range_m) or 'rgbd'."""
    workspace_side_m: float = 0.30
    """Side of the square workspace seen by the camera, centred on the tray."""
    depth_range_m: float = 0.15
    """Heights from 0 to this map onto depth values 0 to 255."""
    spawn_radius_m: float = 0.06
    """Objects are placed uniformly within this distance of the workspace centre (x and y)."""
    timestep_s: float = 1 / 240
    solver_iterations: int = 50
    settle_s: float = 0.25
    """Longest settling time after placing an object (stops earlier once it is still)."""
    approach_height_m: float = 0.08
    """Height above the grasp point where the descent starts."""
    descend_s: float = 0.15
    grasp_height_m: float = 0.02
    """Height of the point between the fingertips above the tray when closing."""
    close_s: float = 0.25
    lift_height_m: float = 0.15
    lift_s: float = 0.35
    hold_s: float = 0.1
    min_lift_height_m: float = 0.05
    """The object's lowest point must be at least this high for a lift to count."""
    tray_contact_stiffness: float = 3e6
    """Contact stiffness of the tray in N/m (0: PyBullet's rigid contacts)."""
    tray_contact_damping: float = 7e3
    finger_force_n: float = 20.0
    finger_friction: float = 1.0
    perturbations: PerturbationSet = field(default_factory=PerturbationSet)
    fall_step_m: float = 0.0008
    """While a dropped object falls, steps are split so that it moves at most this far in one
    physics sub-step (up to 32 sub-steps)."""
    push_settle_s: float = 0.3
    """Time after a push before `dropped` is judged."""
    held_image_size: int = 32
    """Side of the side-view image of the held object given to adversaries (0: none)."""
    randomize_color: bool = False
    randomize_lighting: bool = False
    randomize_camera: bool = False
    gui: bool = False

    def validate(self) -> None:
        if self.obs_mode not in OBS_MODES:
            raise ConfigError(f"obs_mode {self.obs_mode!r} is not one of {OBS_MODES}")
        if self.image_size < 48:
            raise ConfigError(f"image_size {self.image_size} px is below the minimum of 48")
        if not 0 < self.spawn_radius_m <= self.workspace_side_m / 2:
            raise ConfigError(
                f"spawn_radius_m {self.spawn_radius_m} must be in (0, workspace_side_m / 2]")
        if self.timestep_s <= 0 or self.timestep_s > 0.02:
            raise ConfigError(f"timestep_s {self.timestep_s} must be in (0, 0.02]")
