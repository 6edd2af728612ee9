"""`GraspWorld`: the tray, the Panda hand, one object, the top-down camera, and the phases.

The scene is built once. `reset` swaps and re-poses the object and parks the hand; it never
reloads the scene. Each phase is callable on its own, in order:

    world.reset(seed, object)  -> places an object, lets it settle
    world.observe()            -> top-down image (H, W, C) uint8
    world.grasp(x, y, theta)   -> GraspOutcome: descend, close, lift 15 cm; lifted or why not
    world.perturb(push)        -> PerturbOutcome: push the held object; dropped or not

Units are metres, radians, newtons and seconds. The tray surface is z = 0.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from envs.camera import TopDownCamera
from envs.config import WorldConfig
from envs.errors import InvalidActionError, WorldStateError
from envs.hand import HandPose, PandaHand
from envs.objects import ObjectModel, ObjectSet, object_set, read_object_urdf
from envs.outcomes import GraspOutcome, PerturbOutcome
from envs.perturbation import Perturbation
from envs.sim import Sim

TRAY_RGBA = (0.55, 0.55, 0.58, 1.0)


class GraspWorld:
    """A PyBullet world for top-down grasping with adversarial pushes.

    Args:
        config: a `WorldConfig`; defaults when None.
    """

    def __init__(self, config: WorldConfig | None = None):
        self.config = config or WorldConfig()
        self.config.validate()
        cfg = self.config
        self.objects: ObjectSet = object_set(cfg.object_set)
        self.candidates: tuple[Path, ...] = self.objects.split(cfg.split)
        self.sim = Sim(gui=cfg.gui, timestep_s=cfg.timestep_s,
                       solver_iterations=cfg.solver_iterations)
        self.camera = TopDownCamera(side_m=cfg.workspace_side_m, size_px=cfg.image_size,
                                    depth_range_m=cfg.depth_range_m)
        self._build_scene()
        self._models: dict[Path, ObjectModel] = {}
        self._shapes: dict[Path, tuple[int, int]] = {}
        self.object_body: int | None = None
        self.object_model: ObjectModel | None = None
        self.rng = np.random.default_rng()
        self.holding = False
        self.max_penetration_m = 0.0
        self._push: np.ndarray | None = None
        self._render_jitter = {"offset": (0.0, 0.0), "roll": 0.0, "light": None}
        self._watch_falls = False
        self.phase_seconds: dict[str, float] = defaultdict(float)
        self.phase_steps: dict[str, int] = defaultdict(int)

    @contextmanager
    def _phase(self, name: str):
        """Accumulate wall time and physics steps per phase (for the benchmark)."""
        start, steps = time.perf_counter(), self.sim.steps_taken
        try:
            yield
        finally:
            self.phase_seconds[name] += time.perf_counter() - start
            self.phase_steps[name] += self.sim.steps_taken - steps

    @contextmanager
    def _falls_watched(self):
        self._watch_falls = True
        try:
            yield
        finally:
            self._watch_falls = False
            if self.sim.substeps != 1:
                self.sim.set_substeps(1)

    def _build_scene(self) -> None:
        # A thick tray floor with low walls outside the camera's view, and a floor below.
        self.sim.box([1.0, 1.0, 0.01], [0, 0, -0.07], (0.3, 0.3, 0.3, 1))
        self.tray = self.sim.box([0.25, 0.25, 0.03], [0, 0, -0.03], TRAY_RGBA)
        for sx, sy, hx, hy in ((1, 0, 0.01, 0.25), (-1, 0, 0.01, 0.25),
                               (0, 1, 0.25, 0.01), (0, -1, 0.25, 0.01)):
            self.sim.box([hx, hy, 0.02], [sx * 0.24, sy * 0.24, 0.02], TRAY_RGBA)
        # A stiff, damped contact model for the tray keeps squeezed objects from sinking in
        # (worst case measured 0.8 mm, against 3.5 mm with the default rigid contacts).
        self.sim.set_dynamics(self.tray, lateralFriction=0.8)
        if self.config.tray_contact_stiffness > 0:
            self.sim.set_dynamics(self.tray, contactStiffness=self.config.tray_contact_stiffness,
                                  contactDamping=self.config.tray_contact_damping)
        self.hand = PandaHand(self.sim, finger_force_n=self.config.finger_force_n,
                              finger_friction=self.config.finger_friction)

    # -- objects --------------------------------------------------------------------------

    def model(self, path: Path) -> ObjectModel:
        """The parsed model of an object URDF (read once)."""
        path = Path(path)
        if path not in self._models:
            self._models[path] = read_object_urdf(path, Sim.quat_from_euler)
        return self._models[path]

    def _object_shapes(self, model: ObjectModel) -> tuple[int, int]:
        if model.path not in self._shapes:
            self._shapes[model.path] = self._build_shapes(model)
        return self._shapes[model.path]

    def _build_shapes(self, model: ObjectModel) -> tuple[int, int]:
        from envs.errors import ObjectLoadError
        try:
            parts, vis = model.collision, model.visual
            single_mesh = (len(parts) == 1 and parts[0]["kind"] == "mesh"
                           and not any(parts[0]["pos"]))
            if single_mesh:
                rgba = vis[0]["rgba"] if vis else None
                return self.sim.mesh_shape(parts[0]["file"], parts[0]["size"], rgba)
            visual = self.sim.shapes(vis, visual=True) if vis else -1
            return self.sim.shapes(parts, visual=False), visual
        except Exception as err:  # PyBullet raises a bare `error` with little detail
            raise ObjectLoadError(f"cannot load object {model.path}: PyBullet refused its "
                                  f"geometry ({err})") from None

    def _place_object(self, path: Path) -> None:
        model = self.model(path)
        collision, visual = self._object_shapes(model)
        if self.object_body is not None:
            self.sim.remove(self.object_body)
        cfg = self.config
        yaw = self.rng.uniform(-np.pi, np.pi)
        x, y = self.rng.uniform(-cfg.spawn_radius_m, cfg.spawn_radius_m, size=2)
        quat = Sim.quat_from_euler(0, 0, yaw)
        body = self.sim.body(model.mass_kg, collision, visual, [x, y, 0.5], quat,
                             model.inertial_pos)
        if collision < 0 or body < 0:
            from envs.errors import ObjectLoadError
            raise ObjectLoadError(f"cannot load object {model.path}: PyBullet built no body")
        self.sim.set_dynamics(body, lateralFriction=model.lateral_friction,
                              spinningFriction=model.spinning_friction,
                              rollingFriction=model.rolling_friction)
        if model.inertia_scaling != 1.0:
            inertia = self.sim.inertia_diagonal(body) * model.inertia_scaling
            self.sim.set_dynamics(body, localInertiaDiagonal=inertia.tolist())
        # Rest the lowest point 1 mm above the tray; the settle steps do the rest.
        lo, _ = self.sim.aabb(body)
        pos, _ = self.sim.pose(body)
        self.sim.set_pose(body, [pos[0], pos[1], pos[2] - lo[2] + 0.001], quat)
        if cfg.randomize_color:
            self.sim.set_color(body, [*self.rng.uniform(0.05, 1.0, size=3), 1.0])
        self.object_body, self.object_model = body, model

    # -- phases ---------------------------------------------------------------------------

    def reset(self, seed: int | None = None, object: str | Path | None = None) -> None:
        """Start an attempt: park the hand, put an object on the tray, let it settle.

        Args:
            seed: seeds the world's random generator (object choice, pose, randomisation).
            object: a URDF path or an object name in the current split; drawn at random
                from the split when None.
        """
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        path = self._resolve_object(object)
        self.hand.park()
        self.holding = False
        self._push = None
        self.max_penetration_m = 0.0
        with self._phase("reset"):
            self._place_object(path)
            self._randomise_rendering()
            self._run(self.config.settle_s, until_still=True)

    def _resolve_object(self, object: str | Path | None) -> Path:
        if object is None:
            return self.candidates[self.rng.integers(len(self.candidates))]
        path = Path(object)
        if path.suffix == ".urdf":
            return path
        named = [p for p in self.objects.split("all") if p.stem == str(object)]
        if not named:
            from envs.errors import ObjectSetError
            raise ObjectSetError(
                f"object {str(object)!r} is not in set {self.objects.name!r}; pass a URDF path "
                f"or a name such as {self.candidates[0].stem!r}")
        return named[0]

    def _randomise_rendering(self) -> None:
        cfg = self.config
        offset = tuple(self.rng.uniform(-0.005, 0.005, size=2)) if cfg.randomize_camera else (0, 0)
        roll = float(self.rng.uniform(-0.05, 0.05)) if cfg.randomize_camera else 0.0
        light = None
        if cfg.randomize_lighting:
            azimuth, elevation = self.rng.uniform(0, 2 * np.pi), self.rng.uniform(0.6, 1.4)
            light = [np.cos(azimuth) * np.cos(elevation), np.sin(azimuth) * np.cos(elevation),
                     np.sin(elevation)]
        self._render_jitter = {"offset": offset, "roll": roll, "light": light}

    def observe(self) -> np.ndarray:
        """Render the top-down image, (H, W, C) uint8; C is 3, 1 or 4 by `obs_mode`."""
        with self._phase("render"):
            rgb, height = self.render_top_down()
        mode = self.config.obs_mode
        if mode == "rgb":
            return rgb
        depth = self.camera.quantise_height(height)[:, :, None]
        return depth if mode == "depth" else np.concatenate([rgb, depth], axis=2)

    def render_top_down(self) -> tuple[np.ndarray, np.ndarray]:
        """RGB (H, W, 3) uint8 and height above the tray (H, W) float64 in metres."""
        cam, jitter = self.camera, self._render_jitter
        view = self.sim.view_matrix(*cam.view(jitter["offset"], jitter["roll"]))
        rgb, depth = self.sim.render(cam.size_px, cam.size_px, view, cam.projection(),
                                     light_direction=jitter["light"])
        return rgb, cam.height_from_depth_buffer(depth)

    def grasp(self, x: float, y: float, theta: float) -> GraspOutcome:
        """Descend top-down at (x, y) with the fingers closing along `theta`, close, lift.

        Args:
            x, y: grasp point in metres, within the workspace.
            theta: closing direction in radians (any value; taken modulo pi).
        """
        if self.object_body is None:
            raise WorldStateError("grasp() before reset(): call reset() to place an object")
        self._check_grasp(x, y, theta)
        cfg = self.config
        theta = float(np.mod(theta, np.pi))
        above = HandPose(x, y, cfg.grasp_height_m + cfg.approach_height_m, theta)
        at = HandPose(x, y, cfg.grasp_height_m, theta)

        with self._phase("grasp"):
            self.hand.teleport(above)
            at = self._move(above, at, cfg.descend_s, guarded=True)
            self.hand.set_fingers(0.0)
            asymmetry = self._run(cfg.close_s, track_fingers=True)
            touching = all(self.hand.touching(self.object_body))

        with self._phase("lift"), self._falls_watched():
            top = HandPose(x, y, cfg.grasp_height_m + cfg.lift_height_m, theta)
            self._move(at, top, cfg.lift_s)
            self._run(cfg.hold_s)
            self.holding = self._held()
            height = self._object_height()
        reason = None if self.holding else ("slipped" if touching else "missed")
        with self._phase("held_image"):
            image = self.render_held() if self.holding and cfg.held_image_size else None
        return GraspOutcome(self.holding, reason, at, self.object_model.name, height, image,
                            asymmetry)

    def perturb(self, perturbation: Perturbation) -> PerturbOutcome:
        """Push the held object for the perturbation's duration, then judge whether it fell."""
        if not self.holding:
            raise WorldStateError(
                "perturb() needs a held object: the last grasp did not lift one (check "
                "GraspOutcome.lifted before asking the adversary)")
        start, _ = self.sim.pose(self.object_body)
        with self._phase("perturb"), self._falls_watched():
            self._push = perturbation.force
            self._run(perturbation.duration_s)
            self._push = None
            self._run(self.config.push_settle_s)
            self.holding = self._held()
        end, _ = self.sim.pose(self.object_body)
        return PerturbOutcome(not self.holding, perturbation, end - start, self._object_height())

    def trial_push(self, perturbation: Perturbation) -> PerturbOutcome:
        """Apply a push from the held state and put the world back as it was before it.

        PyBullet's `restoreState` is not bit-exact here (bullet3 issues 2982 and 4387): a push
        tried after others can move the object slightly differently from the same push tried
        first, and on a borderline grasp (about 1 push outcome in 100) drop it or not. The same
        sequence of calls still gives the same results.
        """
        state = self.sim.save_state()
        try:
            return self.perturb(perturbation)
        finally:
            self.sim.restore_state(state)
            self.holding = True
            self.sim.drop_state(state)

    # -- helpers --------------------------------------------------------------------------

    def _check_grasp(self, x: float, y: float, theta: float) -> None:
        values = {"x": x, "y": y, "theta": theta}
        for name, value in values.items():
            if not np.isfinite(value):
                raise InvalidActionError(f"grasp {name} = {value} is not finite; pass a number "
                                         "(metres for x and y, radians for theta)")
        half, (cx, cy) = self.config.workspace_side_m / 2, self.camera.center
        if abs(x - cx) > half + 1e-9 or abs(y - cy) > half + 1e-9:
            raise InvalidActionError(
                f"grasp point ({x:.4f}, {y:.4f}) m is outside the workspace "
                f"[{cx - half:.3f}, {cx + half:.3f}] x [{cy - half:.3f}, {cy + half:.3f}] m")

    def _held(self) -> bool:
        left, right = self.hand.touching(self.object_body)
        return bool(left and right and self._object_height() >= self.config.min_lift_height_m)

    def _object_height(self) -> float:
        """Gap between the object and the tray in metres (exact, unlike a tilted AABB)."""
        return float(self.sim.distance(self.object_body, self.tray, 0.5))

    def _steps(self, seconds: float) -> int:
        return max(1, int(round(seconds / self.config.timestep_s)))

    def _step(self) -> None:
        if self._push is not None:
            self.sim.push(self.object_body, self._push)
        self._refine_falls()
        self.sim.step()
        depth = -self.sim.min_contact_distance(self.object_body, self.tray)
        self.max_penetration_m = max(self.max_penetration_m, depth)

    def _refine_falls(self) -> None:
        """Split the step while a dropped object falls, so that it moves at most
        `fall_step_m` per sub-step and its impact on the tray is resolved finely (a pushed
        object can fall at 6 m/s: 27 mm per 240 Hz step, sinking it 3-5 mm for one step)."""
        if not self._watch_falls:
            return
        substeps = 1
        vz = self.sim.velocity(self.object_body)[0][2]
        if vz < -0.2 and not self.sim.contact_count(self.hand.body, self.object_body) \
                and self._object_height() < 0.2:
            travel = -vz * self.config.timestep_s
            substeps = int(min(32, np.ceil(travel / self.config.fall_step_m)))
        if substeps != self.sim.substeps:
            self.sim.set_substeps(max(1, substeps))

    def _run(self, seconds: float, until_still: bool = False, track_fingers: bool = False):
        """Step for `seconds`; returns the largest finger asymmetry seen when tracked."""
        asymmetry = 0.0
        for i in range(self._steps(seconds)):
            self._step()
            if track_fingers and not all(self.hand.touching(self.object_body)):
                # Symmetry of the closing motion, up to the moment both fingers meet the object.
                left, right = self.hand.finger_positions()
                asymmetry = max(asymmetry, abs(left - right))
            if until_still and i >= 10 and i % 5 == 0:
                lin, ang = self.sim.velocity(self.object_body)
                if np.linalg.norm(lin) < 2e-3 and np.linalg.norm(ang) < 2e-2:
                    break
        return asymmetry

    def _move(self, start: HandPose, end: HandPose, seconds: float,
              guarded: bool = False) -> HandPose:
        """Carry the hand along a straight line from `start` to `end` over `seconds`.

        A guarded move stops where the hand first touches the object (as a robot's force
        threshold would), instead of pressing it into the tray; returns where it stopped.
        """
        n = self._steps(seconds)
        a, b = np.array([start.x, start.y, start.z]), np.array([end.x, end.y, end.z])
        for i in range(1, n + 1):
            target = HandPose(*(a + (b - a) * i / n), end.theta)
            self.hand.set_target(target)
            self._step()
            if guarded and self.sim.contact_count(self.hand.body, self.object_body):
                return target
        return end

    def render_held(self) -> np.ndarray:
        """Side view (S, S, 3) uint8 of the grasp point, looking across the closing line."""
        size = self.config.held_image_size
        centre = self.hand.grasp_point()
        theta = self.hand_theta()
        normal = np.array([-np.sin(theta), np.cos(theta), 0.0])
        view = self.sim.view_matrix((centre + 0.4 * normal).tolist(), centre.tolist(), [0, 0, 1])
        cam = TopDownCamera(side_m=0.14, size_px=size, height_m=0.4, near_m=0.2, far_m=0.6)
        rgb, _ = self.sim.render(size, size, view, cam.projection())
        return rgb

    def hand_theta(self) -> float:
        _, quat = self.sim.pose(self.hand.body)
        return float(np.mod(Sim.euler_from_quat(quat)[2] - np.pi / 2, np.pi))

    def render_scene(self, width: int = 320, height: int = 240) -> np.ndarray:
        """Third-person RGB view of the tray and hand, (height, width, 3) uint8, for videos."""
        view = self.sim.view_matrix([0.45, -0.45, 0.45], [0, 0, 0.05], [0, 0, 1])
        rgb, _ = self.sim.render(width, height, view,
                                 self.sim.perspective(45, width / height, 0.05, 3.0))
        return rgb

    @property
    def object_position(self) -> np.ndarray:
        """World position of the object's centre of mass, metres."""
        return self.sim.pose(self.object_body)[0]

    def object_frame(self) -> tuple[np.ndarray, float]:
        """Position of the object's URDF link frame (metres) and its yaw (radians)."""
        com, quat = self.sim.pose(self.object_body)
        origin = com - Sim.rotate(quat, self.object_model.inertial_pos)
        return origin, float(Sim.euler_from_quat(quat)[2])

    def close(self) -> None:
        self.sim.close()
