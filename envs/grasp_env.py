"""Gymnasium environments: one grasp attempt per episode, optionally against an adversary."""

from __future__ import annotations

from dataclasses import replace

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.adversary import make_adversary
from envs.errors import ConfigError, InvalidActionError
from envs.world import GraspWorld, WorldConfig

ANGLE_BINS = 18
"""The angle bins of the discrete action: theta_k = k * pi / 18, k = 0..17."""
NO_PUSH = {"direction": "none", "magnitude_n": 0.0, "duration_s": 0.0}
"""`info["perturbation"]` when the adversary did not act (nothing lifted, or it declined)."""


class AdversarialGraspEnv(gym.Env):
    """Top-down grasping with an adversary that pushes the held object.

    ## Description
    A Franka Panda hand grasps one object on a tray from a top-down image. If the grasp lifts
    the object 15 cm, the adversary picks a push (a direction and a force) that tries to knock
    it out of the hand. Reward follows Duan et al. (IROS 2019): r = R_R - alpha * R_H.

    ## Action space
    `action_type="discrete"`: `Discrete(grid * grid * 18)`. Index `(row * grid + col) * 18 + k`
    grasps at the centre of cell (row, col) of a grid over the workspace (row 0 at +y, the top
    of the image) with closing angle theta_k = k * pi / 18.
    `action_type="continuous"`: `Box(-1, 1, (3,), float32)`: x and y map linearly onto the
    workspace, the third value onto theta in [0, pi). Finite values outside [-1, 1] are
    clipped (reported in `info["action_clipped"]`); NaN or infinite values raise
    `InvalidActionError`.

    ## Observation space
    `Box(0, 255, (H, W, C), uint8)`, the top-down image before the attempt; C = 3 (`rgb`),
    1 (`depth`: height above the tray, 0-255 over `depth_range_m`) or 4 (`rgbd`).

    ## Rewards
    R_R = 1 if the object is lifted, else 0; R_H = 1 if the push drops it, else 0 (no push
    when nothing was lifted). r = R_R - alpha * R_H: 0, 1 - alpha or 1.

    ## Episode end
    Every episode is one attempt: `terminated=True` after the first step. The observation
    returned by `step` is the image the action was chosen from.

    ## Info
    `R_R`, `R_H`, `is_success` (lifted and kept), `failure` ('', 'missed', 'slipped',
    'pushed_out'), `perturbation` (direction, magnitude_n, duration_s; direction 'none' when
    no push was made), `object`, `grasp` (x, y, z in metres,
    theta in radians), `action_clipped`, and `sanity` (`finite`, `max_penetration_m`,
    `penetration_ok`, `finger_asymmetry_m`).

    ## Arguments
    `adversary` ('none', 'random', 'oracle' or an object with `act` and `reset`), `alpha`,
    `action_type`, `grid`, `render_mode` ('rgb_array' or 'human'), and any `WorldConfig` field
    as a keyword (`obs_mode`, `image_size`, `object_set`, `split`, ...).

    ## Version history
    v0: first release.
    """

    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": 4}

    def __init__(self, adversary="random", alpha: float = 1.0, action_type: str = "discrete",
                 grid: int = 16, render_mode: str | None = None,
                 config: WorldConfig | None = None, **world_kwargs):
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"alpha {alpha} must be within [0, 1]")
        if action_type not in ("discrete", "continuous"):
            raise ConfigError(f"action_type {action_type!r}: use 'discrete' or 'continuous'")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ConfigError(f"render_mode {render_mode!r}: use one of "
                              f"{self.metadata['render_modes']} or None")
        if grid < 1:
            raise ConfigError(f"grid {grid} must be at least 1")
        config = replace(config or WorldConfig(), **world_kwargs)
        if render_mode == "human":
            config = replace(config, gui=True)
        self.world = GraspWorld(config)
        self.alpha, self.action_type, self.grid = float(alpha), action_type, int(grid)
        self.render_mode = render_mode
        self.adversary = make_adversary(adversary, self.world)
        channels = {"rgb": 3, "depth": 1, "rgbd": 4}[config.obs_mode]
        size = config.image_size
        self.observation_space = spaces.Box(0, 255, (size, size, channels), np.uint8)
        if action_type == "discrete":
            self.action_space = spaces.Discrete(self.grid * self.grid * ANGLE_BINS)
        else:
            self.action_space = spaces.Box(-1.0, 1.0, (3,), np.float32)
        self._observation: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        # The world and the adversary draw from the env's generator, so one seed fixes both.
        self.world.rng = self.np_random
        self.adversary.reset(self.np_random)
        self.world.reset(object=options.get("object"))
        self._observation = self.world.observe()
        return self._observation, {"object": self.world.object_model.name}

    def action_to_grasp(self, action) -> tuple[float, float, float, bool]:
        """(x, y, theta, clipped) in metres and radians for an action of this env's space."""
        side, (cx, cy) = self.world.config.workspace_side_m, self.world.camera.center
        if self.action_type == "discrete":
            if isinstance(action, np.ndarray) and action.size == 1:
                action = action.item()
            if isinstance(action, (float, np.floating)) and not float(action).is_integer():
                raise InvalidActionError(f"discrete action {action} is not an integer index")
            if not isinstance(action, (int, np.integer, float, np.floating)):
                raise InvalidActionError(f"discrete action {action!r} must be an integer index")
            index = int(action)
            if not 0 <= index < self.action_space.n:
                raise InvalidActionError(
                    f"discrete action {index} is outside [0, {self.action_space.n - 1}]")
            cell, k = divmod(index, ANGLE_BINS)
            row, col = divmod(cell, self.grid)
            cell_m = side / self.grid
            x = cx - side / 2 + (col + 0.5) * cell_m
            y = cy + side / 2 - (row + 0.5) * cell_m
            return x, y, k * np.pi / ANGLE_BINS, False
        a = np.asarray(action, dtype=np.float64).reshape(-1)
        if a.shape != (3,):
            raise InvalidActionError(f"continuous action {action!r} must have 3 values")
        if not np.all(np.isfinite(a)):
            raise InvalidActionError(
                f"continuous action {a.tolist()} has NaN or infinite values; a policy that "
                "outputs these has diverged")
        clipped = bool(np.any(np.abs(a) > 1.0))
        a = np.clip(a, -1.0, 1.0)
        theta = min((a[2] + 1) / 2 * np.pi, np.nextafter(np.pi, 0))
        return cx + a[0] * side / 2, cy + a[1] * side / 2, theta, clipped

    def step(self, action):
        if self._observation is None:
            raise InvalidActionError("step() before reset(): call reset() first")
        x, y, theta, clipped = self.action_to_grasp(action)
        grasp = self.world.grasp(x, y, theta)
        r_r, r_h, push = float(grasp.lifted), 0.0, None
        if grasp.lifted:
            push = self.adversary.act(grasp.held_state)
            if push is not None:
                r_h = float(self.world.perturb(push).dropped)
        reward = r_r - self.alpha * r_h
        failure = grasp.reason if not grasp.lifted else ("pushed_out" if r_h else "")
        position = self.world.object_position
        info = {
            "R_R": r_r, "R_H": r_h, "is_success": bool(r_r and not r_h), "failure": failure,
            # Always the same keys and types, so vector envs can stack infos across steps.
            "perturbation": push.as_dict() if push is not None else dict(NO_PUSH),
            "object": grasp.object_name,
            "grasp": {"x": grasp.pose.x, "y": grasp.pose.y, "z": grasp.pose.z,
                      "theta": grasp.pose.theta},
            "action_clipped": clipped,
            "sanity": {
                "finite": bool(np.all(np.isfinite(position))),
                "max_penetration_m": self.world.max_penetration_m,
                "penetration_ok": self.world.max_penetration_m <= 0.002,
                "finger_asymmetry_m": grasp.finger_asymmetry_m,
            },
        }
        observation, self._observation = self._observation.copy(), None
        return observation, reward, True, False, info

    def render(self):
        if self.render_mode == "rgb_array":
            return self.world.render_scene()
        return None

    def close(self):
        if getattr(self, "world", None) is not None:
            self.world.close()
            self.world = None


class GraspEnv(AdversarialGraspEnv):
    """`AdversarialGraspEnv` with no adversary: reward is R_R. See its docstring."""

    def __init__(self, alpha: float = 1.0, action_type: str = "discrete", grid: int = 16,
                 render_mode: str | None = None, config: WorldConfig | None = None,
                 **world_kwargs):
        super().__init__("none", alpha, action_type, grid, render_mode, config, **world_kwargs)
