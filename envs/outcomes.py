"""What the grasp and push phases report."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from envs.hand import HandPose
from envs.perturbation import Perturbation


@dataclass
class GraspOutcome:
    """The result of `GraspWorld.grasp`.

    Attributes:
        lifted: R_R: the object is at least `min_lift_height_m` up and touches both fingers.
        reason: None when lifted, else 'missed' (the fingers closed without holding it) or
            'slipped' (held after closing, lost during the lift).
        pose: the grasp pose (grasp point x, y, z in metres and closing angle theta in rad).
        object_name: the object's name.
        object_height_m: height of the object's lowest point above the tray after the lift.
        held_image: side view of the hand and held object (S, S, 3) uint8, for adversaries;
            None when not lifted or disabled.
        finger_asymmetry_m: largest |left - right| finger position seen while the fingers
            close, until both touch the object.
    """

    lifted: bool
    reason: str | None
    pose: HandPose
    object_name: str
    object_height_m: float
    held_image: np.ndarray | None = field(repr=False)
    finger_asymmetry_m: float

    @property
    def held_state(self) -> dict:
        """What an adversary may observe: the held image and the grasp pose."""
        return {"image": self.held_image, "pose": self.pose, "object": self.object_name}


@dataclass
class PerturbOutcome:
    """The result of `GraspWorld.perturb`.

    Attributes:
        dropped: R_H: the object no longer sits in the closed hand after the push and settle.
        perturbation: the push applied.
        displacement_m: object centre-of-mass displacement over the push and settle (x, y, z).
        object_height_m: height of the object's lowest point above the tray afterwards.
    """

    dropped: bool
    perturbation: Perturbation
    displacement_m: np.ndarray
    object_height_m: float
