"""The free-floating Franka Panda hand: a hand-only URDF and the moves of a top-down grasp.

PyBullet's data package ships the whole Panda arm (`franka_panda/panda.urdf`) but no hand on its
own. `hand_urdf()` writes a URDF with the hand and its two fingers, using the arm's meshes, into
a cache folder once. The hand is held by a fixed constraint to the world whose target is moved
every step; the fingers are driven to the same target and coupled by a gear constraint, so they
close symmetrically like the real gripper's mechanical coupling (URDF `<mimic>` is ignored).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pybullet_data

from envs.sim import Sim

FINGER_TRAVEL_M = 0.04
"""Opening of each finger from the centre line (8 cm between the fingers when open)."""
GRASP_TARGET_OFFSET_M = 0.105
"""Distance from the hand frame to the point between the fingertips, along the hand's z."""

_HAND_URDF = """<?xml version="1.0"?>
<!-- Franka Panda hand and fingers; geometry from pybullet_data's franka_panda meshes. -->
<robot name="panda_hand">
  <link name="hand">
    <inertial>
      <origin xyz="0 0 0"/>
      <mass value="0.73"/>
      <inertia ixx="0.0025" ixy="0" ixz="0" iyy="0.0005" iyz="0" izz="0.0027"/>
    </inertial>
    <visual><geometry><mesh filename="{mesh}/visual/hand.obj"/></geometry></visual>
    <collision><geometry><mesh filename="{mesh}/collision/hand.obj"/></geometry></collision>
  </link>
  <link name="left_finger">
    <contact>
      <lateral_friction value="{friction}"/>
      <spinning_friction value="0.002"/>
    </contact>
    <inertial>
      <origin xyz="0 0.01 0.02"/>
      <mass value="0.03"/>
      <inertia ixx="2e-5" ixy="0" ixz="0" iyy="2e-5" iyz="0" izz="1e-5"/>
    </inertial>
    <visual><geometry><mesh filename="{mesh}/visual/finger.obj"/></geometry></visual>
    <collision><geometry><mesh filename="{mesh}/collision/finger.obj"/></geometry></collision>
  </link>
  <link name="right_finger">
    <contact>
      <lateral_friction value="{friction}"/>
      <spinning_friction value="0.002"/>
    </contact>
    <inertial>
      <origin xyz="0 -0.01 0.02"/>
      <mass value="0.03"/>
      <inertia ixx="2e-5" ixy="0" ixz="0" iyy="2e-5" iyz="0" izz="1e-5"/>
    </inertial>
    <visual>
      <origin rpy="0 0 3.14159265359"/>
      <geometry><mesh filename="{mesh}/visual/finger.obj"/></geometry>
    </visual>
    <collision>
      <origin rpy="0 0 3.14159265359"/>
      <geometry><mesh filename="{mesh}/collision/finger.obj"/></geometry>
    </collision>
  </link>
  <joint name="left_finger_joint" type="prismatic">
    <parent link="hand"/>
    <child link="left_finger"/>
    <origin xyz="0 0 0.0584"/>
    <axis xyz="0 1 0"/>
    <limit effort="20" lower="0.0" upper="0.04" velocity="0.2"/>
  </joint>
  <joint name="right_finger_joint" type="prismatic">
    <parent link="hand"/>
    <child link="right_finger"/>
    <origin xyz="0 0 0.0584"/>
    <axis xyz="0 -1 0"/>
    <limit effort="20" lower="0.0" upper="0.04" velocity="0.2"/>
  </joint>
</robot>
"""


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "advgrasp"


def hand_urdf(finger_friction: float = 1.0) -> Path:
    """Write (once) and return the hand-only URDF for the given finger friction."""
    mesh_dir = Path(pybullet_data.getDataPath()) / "franka_panda" / "meshes"
    text = _HAND_URDF.format(mesh=mesh_dir.as_posix(), friction=finger_friction)
    digest = hashlib.sha1(text.encode()).hexdigest()[:12]
    path = _cache_dir() / f"panda_hand_{digest}.urdf"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so parallel workers never read a half-written file.
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return path


@dataclass
class HandPose:
    """Where the point between the fingertips is, in metres, and the closing direction.

    `theta` is the angle in radians, in the world xy plane from +x, of the line along which the
    fingers close.
    """

    x: float
    y: float
    z: float
    theta: float


class PandaHand:
    """The hand in a `Sim`, pointing down, moved by a constraint.

    Args:
        sim: the physics client wrapper.
        park_position: where the hand waits, out of the camera's view (metres).
        finger_force_n: force limit of each finger drive, in newtons (the Panda's rating is 20).
        finger_friction: lateral friction of the finger pads.
        max_force_n: force limit of the constraint that carries the hand.
    """

    def __init__(self, sim: Sim, park_position=(0.0, 0.6, 0.4), finger_force_n: float = 20.0,
                 finger_friction: float = 1.0, max_force_n: float = 300.0):
        self.sim = sim
        self.park_position = np.asarray(park_position, dtype=float)
        self.finger_force_n = finger_force_n
        self.max_force_n = max_force_n
        down = Sim.quat_from_euler(np.pi, 0, 0)
        self.body = sim.load_urdf(str(hand_urdf(finger_friction)), self.park_position, down)
        names = sim.joint_names(self.body)
        self.fingers = (names.index("left_finger_joint"), names.index("right_finger_joint"))
        # Both fingers are driven to the same target with the same force, so a held object is
        # squeezed equally from both sides; the gear keeps them together on the way in.
        sim.gear(self.body, self.fingers[0], self.fingers[1], ratio=-1, max_force=500)
        for link in self.fingers:
            sim.set_dynamics(self.body, link, jointLowerLimit=0.0, jointUpperLimit=FINGER_TRAVEL_M)
        self.constraint = sim.fix_to_world(self.body, self.park_position, down)
        self.finger_target = FINGER_TRAVEL_M
        self._target_pos = self.park_position.copy()
        self._target_quat = down

    @staticmethod
    def orientation(theta: float) -> tuple:
        """Hand quaternion pointing down with the fingers closing along world angle `theta`."""
        return Sim.quat_from_euler(np.pi, 0.0, theta + np.pi / 2)

    def hand_position_for(self, pose: HandPose) -> np.ndarray:
        """Hand-frame origin that puts the grasp point at `pose` (the hand points down)."""
        return np.array([pose.x, pose.y, pose.z + GRASP_TARGET_OFFSET_M])

    def teleport(self, pose: HandPose, opening: float = FINGER_TRAVEL_M) -> None:
        """Put the hand at `pose` at once, fingers at `opening` (metres from the centre line)."""
        quat = self.orientation(pose.theta)
        pos = self.hand_position_for(pose)
        self.sim.set_pose(self.body, pos, quat)
        for joint in self.fingers:
            self.sim.reset_joint(self.body, joint, opening)
        self._target_pos, self._target_quat = pos, quat
        self.sim.move_constraint(self.constraint, pos, quat, self.max_force_n)
        self.set_fingers(opening)

    def park(self) -> None:
        """Move the hand out of the camera's view with the fingers open."""
        self.sim.set_pose(self.body, self.park_position, self.orientation(0.0))
        for joint in self.fingers:
            self.sim.reset_joint(self.body, joint, FINGER_TRAVEL_M)
        self._target_pos, self._target_quat = self.park_position, self.orientation(0.0)
        self.sim.move_constraint(self.constraint, self._target_pos, self._target_quat,
                                 self.max_force_n)
        self.set_fingers(FINGER_TRAVEL_M)

    def set_target(self, pose: HandPose) -> None:
        """Where the constraint pulls the hand on the next steps."""
        self._target_pos = self.hand_position_for(pose)
        self._target_quat = self.orientation(pose.theta)
        self.sim.move_constraint(self.constraint, self._target_pos, self._target_quat,
                                 self.max_force_n)

    def set_fingers(self, opening: float, max_velocity: float = 0.2) -> None:
        """Drive the fingers to `opening` metres from the centre line, at most `max_velocity`."""
        self.finger_target = opening
        for joint in self.fingers:
            self.sim.drive_joint(self.body, joint, opening, self.finger_force_n, max_velocity)

    def finger_positions(self) -> tuple[float, float]:
        return (self.sim.joint_position(self.body, self.fingers[0]),
                self.sim.joint_position(self.body, self.fingers[1]))

    def touching(self, body: int) -> tuple[bool, bool]:
        """Whether each finger is in contact with `body`."""
        return (self.sim.contact_count(self.body, body, self.fingers[0]) > 0,
                self.sim.contact_count(self.body, body, self.fingers[1]) > 0)

    def grasp_point(self) -> np.ndarray:
        """World position of the point between the fingertips."""
        pos, quat = self.sim.pose(self.body)
        return pos + Sim.rotate(quat, [0, 0, GRASP_TARGET_OFFSET_M])
