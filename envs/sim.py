"""The one wrapper around PyBullet: every engine call of the simulator goes through `Sim`.

The rest of `envs` speaks in domain terms (hand, object, tray, camera); this module knows about
clients, body ids, constraints and the renderer. Each `Sim` owns its own physics client, so two
worlds in one process never share state.
"""

from __future__ import annotations

import numpy as np
import pybullet as pb
from pybullet_utils.bullet_client import BulletClient

GEOM = {"box": pb.GEOM_BOX, "cylinder": pb.GEOM_CYLINDER, "sphere": pb.GEOM_SPHERE,
        "mesh": pb.GEOM_MESH}


class Sim:
    """A PyBullet physics client with the calls the simulator needs.

    Args:
        gui: open the PyBullet GUI window instead of the headless (DIRECT) client.
        timestep_s: physics step in seconds.
        solver_iterations: constraint solver iterations per step.
    """

    def __init__(self, gui: bool = False, timestep_s: float = 1 / 240, solver_iterations: int = 50):
        self.client = BulletClient(connection_mode=pb.GUI if gui else pb.DIRECT)
        self.timestep_s = timestep_s
        self.client.setPhysicsEngineParameter(
            fixedTimeStep=timestep_s,
            numSolverIterations=solver_iterations,
            deterministicOverlappingPairs=1,
        )
        self.client.setGravity(0, 0, -9.81)
        if gui:
            self.client.configureDebugVisualizer(pb.COV_ENABLE_GUI, 0)
        self.steps_taken = 0
        self.substeps = 1

    # -- bodies ---------------------------------------------------------------------------

    def shapes(self, parts: list[dict], visual: bool) -> int:
        """Create a (compound) collision or visual shape from primitive or mesh parts.

        Each part is a dict with `kind` (box, cylinder, sphere, mesh), `size` (half extents,
        (radius, length), (radius,) or mesh scale), `file` for meshes, `pos`, `quat` and, for
        visual parts, `rgba`.
        """
        kw: dict = {
            "shapeTypes": [GEOM[p["kind"]] for p in parts],
            "halfExtents": [p["size"] if p["kind"] == "box" else [0, 0, 0] for p in parts],
            "radii": [p["size"][0] if p["kind"] in ("cylinder", "sphere") else 0 for p in parts],
            "lengths": [p["size"][1] if p["kind"] == "cylinder" else 0 for p in parts],
            "fileNames": [p.get("file", "") for p in parts],
            "meshScales": [p["size"] if p["kind"] == "mesh" else [1, 1, 1] for p in parts],
        }
        if visual:
            kw["rgbaColors"] = [p.get("rgba", (0.7, 0.7, 0.7, 1)) for p in parts]
            kw["visualFramePositions"] = [p["pos"] for p in parts]
            kw["visualFrameOrientations"] = [p["quat"] for p in parts]
            return self.client.createVisualShapeArray(**kw)
        kw["collisionFramePositions"] = [p["pos"] for p in parts]
        kw["collisionFrameOrientations"] = [p["quat"] for p in parts]
        return self.client.createCollisionShapeArray(**kw)

    def mesh_shape(self, file: str, scale: list[float], rgba=None) -> tuple[int, int]:
        """Collision shape (one convex hull per mesh piece) and visual shape of a mesh file."""
        collision = self.client.createCollisionShape(pb.GEOM_MESH, fileName=file, meshScale=scale)
        visual = self.client.createVisualShape(
            pb.GEOM_MESH, fileName=file, meshScale=scale, rgbaColor=rgba)
        return collision, visual

    def box(self, half_extents, pos, rgba, mass: float = 0.0) -> int:
        """A box body; static when `mass` is 0."""
        col = self.client.createCollisionShape(pb.GEOM_BOX, halfExtents=half_extents)
        vis = self.client.createVisualShape(pb.GEOM_BOX, halfExtents=half_extents, rgbaColor=rgba)
        return self.client.createMultiBody(mass, col, vis, pos)

    def body(self, mass: float, collision: int, visual: int, pos, quat, inertial_pos) -> int:
        body = self.client.createMultiBody(
            baseMass=mass, baseCollisionShapeIndex=collision, baseVisualShapeIndex=visual,
            basePosition=pos, baseOrientation=quat, baseInertialFramePosition=inertial_pos)
        self.no_sleep(body)
        return body

    def load_urdf(self, path: str, pos, quat, flags: int = 0) -> int:
        body = self.client.loadURDF(path, pos, quat, flags=flags)
        self.no_sleep(body)
        return body

    def remove(self, body: int) -> None:
        self.client.removeBody(body)

    def no_sleep(self, body: int) -> None:
        self.client.changeDynamics(body, -1, activationState=pb.ACTIVATION_STATE_DISABLE_SLEEPING)

    def set_dynamics(self, body: int, link: int = -1, **kw) -> None:
        self.client.changeDynamics(body, link, **kw)

    def inertia_diagonal(self, body: int) -> np.ndarray:
        return np.array(self.client.getDynamicsInfo(body, -1)[2])

    def set_color(self, body: int, rgba, link: int = -1) -> None:
        self.client.changeVisualShape(body, link, rgbaColor=rgba)

    # -- state ----------------------------------------------------------------------------

    def pose(self, body: int) -> tuple[np.ndarray, np.ndarray]:
        pos, quat = self.client.getBasePositionAndOrientation(body)
        return np.array(pos), np.array(quat)

    def set_pose(self, body: int, pos, quat) -> None:
        self.client.resetBasePositionAndOrientation(body, pos, quat)
        self.client.resetBaseVelocity(body, [0, 0, 0], [0, 0, 0])

    def velocity(self, body: int) -> tuple[np.ndarray, np.ndarray]:
        lin, ang = self.client.getBaseVelocity(body)
        return np.array(lin), np.array(ang)

    def aabb(self, body: int, link: int = -1) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.client.getAABB(body, link)
        return np.array(lo), np.array(hi)

    def link_position(self, body: int, link: int) -> np.ndarray:
        return np.array(self.client.getLinkState(body, link)[4])

    def joint_position(self, body: int, joint: int) -> float:
        return self.client.getJointState(body, joint)[0]

    def reset_joint(self, body: int, joint: int, position: float) -> None:
        self.client.resetJointState(body, joint, position, 0.0)

    def joint_names(self, body: int) -> list[str]:
        return [self.client.getJointInfo(body, j)[1].decode()
                for j in range(self.client.getNumJoints(body))]

    def drive_joint(self, body: int, joint: int, target: float, force: float,
                    max_velocity: float) -> None:
        self.client.setJointMotorControl2(
            body, joint, pb.POSITION_CONTROL, targetPosition=target, force=force,
            maxVelocity=max_velocity)

    def free_joint(self, body: int, joint: int) -> None:
        """Switch off a joint's default velocity motor so that it moves freely."""
        self.client.setJointMotorControl2(body, joint, pb.VELOCITY_CONTROL, force=0)

    def contact_count(self, a: int, b: int, link_a: int | None = None) -> int:
        """Number of contact points between body `a` (or its link `link_a`) and body `b`."""
        if link_a is None:
            return len(self.client.getContactPoints(a, b))
        return len(self.client.getContactPoints(a, b, link_a, -1))

    def min_contact_distance(self, a: int, b: int) -> float:
        """Smallest signed distance between contacts of two bodies (negative = penetration)."""
        points = self.client.getContactPoints(a, b)
        return min((c[8] for c in points), default=0.0)

    def distance(self, a: int, b: int, max_distance: float) -> float:
        """Exact gap in metres between the shapes of two bodies, capped at `max_distance`."""
        points = self.client.getClosestPoints(a, b, max_distance)
        return min((c[8] for c in points), default=max_distance)

    def save_state(self) -> int:
        return self.client.saveState()

    def restore_state(self, state: int) -> None:
        self.client.restoreState(stateId=state)

    def drop_state(self, state: int) -> None:
        self.client.removeState(state)

    # -- constraints and forces ------------------------------------------------------------

    def fix_to_world(self, body: int, pos, quat) -> int:
        return self.client.createConstraint(
            body, -1, -1, -1, pb.JOINT_FIXED, [0, 0, 0], [0, 0, 0], pos, childFrameOrientation=quat)

    def move_constraint(self, constraint: int, pos, quat, max_force: float) -> None:
        self.client.changeConstraint(constraint, jointChildPivot=pos,
                                     jointChildFrameOrientation=quat, maxForce=max_force)

    def gear(self, body: int, link_a: int, link_b: int, ratio: float, max_force: float) -> int:
        c = self.client.createConstraint(body, link_a, body, link_b, pb.JOINT_GEAR, [1, 0, 0],
                                         [0, 0, 0], [0, 0, 0])
        self.client.changeConstraint(c, gearRatio=ratio, erp=0.8, maxForce=max_force)
        return c

    def push(self, body: int, force) -> None:
        """Apply a world-frame force at the body's centre of mass for the next step only."""
        pos, _ = self.client.getBasePositionAndOrientation(body)
        self.client.applyExternalForce(body, -1, force, pos, pb.WORLD_FRAME)

    def set_substeps(self, substeps: int) -> None:
        """Split each `step` into this many physics sub-steps (1: no split)."""
        self.client.setPhysicsEngineParameter(numSubSteps=substeps)
        self.substeps = substeps

    def step(self) -> None:
        self.client.stepSimulation()
        self.steps_taken += 1

    # -- rendering ------------------------------------------------------------------------

    def render(self, width: int, height: int, view, projection, light_direction=None,
               with_segmentation: bool = False):
        """Render with the software renderer; returns (rgb uint8 HxWx3, depth buffer HxW)."""
        kw = {"lightDirection": light_direction} if light_direction is not None else {}
        flags = 0 if with_segmentation else pb.ER_NO_SEGMENTATION_MASK
        _, _, rgba, depth, _ = self.client.getCameraImage(
            width, height, view, projection, renderer=pb.ER_TINY_RENDERER, flags=flags,
            shadow=0, **kw)
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4)[:, :, :3]
        return rgb, np.asarray(depth, dtype=np.float32).reshape(height, width)

    def view_matrix(self, eye, target, up) -> list[float]:
        return self.client.computeViewMatrix(eye, target, up)

    def perspective(self, fov_deg: float, aspect: float, near: float, far: float) -> list[float]:
        return self.client.computeProjectionMatrixFOV(fov_deg, aspect, near, far)

    @staticmethod
    def quat_from_euler(roll: float, pitch: float, yaw: float) -> tuple:
        return pb.getQuaternionFromEuler([roll, pitch, yaw])

    @staticmethod
    def euler_from_quat(quat) -> np.ndarray:
        return np.array(pb.getEulerFromQuaternion(quat))

    @staticmethod
    def rotate(quat, vector) -> np.ndarray:
        m = np.array(pb.getMatrixFromQuaternion(quat)).reshape(3, 3)
        return m @ np.asarray(vector, dtype=float)

    def close(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client = None
