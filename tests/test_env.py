"""The Gymnasium environments: registration, checkers, spaces, info, errors, vector envs."""

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs
from envs import AdversarialGraspEnv, InvalidActionError


@pytest.mark.parametrize("env_id", envs.ENV_IDS)
@pytest.mark.parametrize("action_type", ["discrete", "continuous"])
def test_every_id_passes_both_checkers(env_id, action_type):
    env = gymnasium.make(env_id, action_type=action_type)
    gym_check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=False)
    env.close()


def test_module_prefix_registers_without_import():
    # What a user writes in a fresh process: the module prefix imports envs first.
    import subprocess
    import sys

    code = ("import gymnasium; e = gymnasium.make('envs:advgrasp/AdversarialGrasp-v0'); "
            "o, _ = e.reset(seed=0); print(o.shape)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert "(64, 64, 3)" in out.stdout


@pytest.mark.parametrize("obs_mode, channels", [("rgb", 3), ("depth", 1), ("rgbd", 4)])
def test_observation_modes(obs_mode, channels):
    env = gymnasium.make("advgrasp/Grasp-v0", obs_mode=obs_mode, image_size=48)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (48, 48, channels) and obs.dtype == np.uint8
    assert env.observation_space.contains(obs)
    if obs_mode != "rgb":
        depth = obs[:, :, -1]
        assert depth.min() == 0 and depth.max() > 20  # bare tray is 0, the object stands up
    env.close()


def test_info_and_reward_follow_the_paper():
    env = AdversarialGraspEnv(adversary="oracle", alpha=0.5, object_set="assets", split="all")
    seen = set()
    for seed in range(12):
        env.reset(seed=seed)
        height = env.world.render_top_down()[1]
        x, y, theta = envs.geometric_grasp(height, env.world.camera)
        side = env.world.config.workspace_side_m
        _, reward, terminated, truncated, info = env.step(
            np.array([x / (side / 2), y / (side / 2), theta / np.pi * 2 - 1], np.float32)
            if env.action_type == "continuous" else _nearest_discrete(env, x, y, theta))
        assert terminated and not truncated
        assert reward == pytest.approx(info["R_R"] - 0.5 * info["R_H"])
        assert info["is_success"] == (info["R_R"] == 1 and info["R_H"] == 0)
        assert (info["perturbation"]["direction"] == "none") == (info["R_R"] == 0)
        assert info["sanity"]["finite"] and info["sanity"]["penetration_ok"], info["sanity"]
        assert set(info["grasp"]) == {"x", "y", "z", "theta"}
        seen.add(info["failure"])
        seen.add(reward)
    # Over these scenes the oracle knocks out at least one grasp: reward 1 - alpha occurs.
    assert 0.5 in seen and "pushed_out" in seen
    env.close()


def _nearest_discrete(env, x, y, theta):
    side, grid = env.world.config.workspace_side_m, env.grid
    col = int(np.clip((x + side / 2) / side * grid, 0, grid - 1))
    row = int(np.clip((side / 2 - y) / side * grid, 0, grid - 1))
    k = int(round(theta / (np.pi / envs.ANGLE_BINS))) % envs.ANGLE_BINS
    return (row * grid + col) * envs.ANGLE_BINS + k


def test_discrete_action_layout():
    env = AdversarialGraspEnv(adversary="none", grid=4)
    env.reset(seed=0)
    x, y, theta, _ = env.action_to_grasp((1 * 4 + 2) * 18 + 9)
    cell = 0.30 / 4
    assert x == pytest.approx(-0.15 + 2.5 * cell) and y == pytest.approx(0.15 - 1.5 * cell)
    assert theta == pytest.approx(np.pi / 2)
    env.close()


def test_bad_actions_get_clear_errors():
    env = AdversarialGraspEnv(action_type="continuous")
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="NaN or infinite"):
        env.step(np.array([np.nan, 0.0, 0.0]))
    with pytest.raises(InvalidActionError, match=r"inf"):
        env.step(np.array([0.0, np.inf, 0.0]))
    # Finite values out of range are clipped, and said so.
    _, _, _, _, info = env.step(np.array([3.0, -2.0, 0.5]))
    assert info["action_clipped"]
    with pytest.raises(InvalidActionError, match="before reset"):
        env.step(np.zeros(3))
    env.close()
    discrete = AdversarialGraspEnv(action_type="discrete", grid=2)
    discrete.reset(seed=0)
    with pytest.raises(InvalidActionError, match=r"72 is outside \[0, 71\]"):
        discrete.step(72)
    with pytest.raises(InvalidActionError, match="not an integer"):
        discrete.step(3.5)
    discrete.close()


def test_world_rejects_non_finite_grasp():
    world = envs.GraspWorld()
    world.reset(seed=0)
    with pytest.raises(InvalidActionError, match=r"theta = nan"):
        world.grasp(0.0, 0.0, float("nan"))
    with pytest.raises(InvalidActionError, match="outside the workspace"):
        world.grasp(0.5, 0.0, 0.0)
    world.close()


def test_config_errors_name_the_value():
    with pytest.raises(envs.ConfigError, match="alpha 1.5"):
        AdversarialGraspEnv(alpha=1.5)
    with pytest.raises(envs.ConfigError, match="unknown adversary 'nobody'"):
        AdversarialGraspEnv(adversary="nobody")
    with pytest.raises(envs.ConfigError, match="image_size 32"):
        AdversarialGraspEnv(image_size=32)


def test_rgb_array_render():
    env = gymnasium.make("advgrasp/AdversarialGrasp-v0", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8 and frame.std() > 5
    env.close()


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_subproc_vec_env(start_method):
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    # The module prefix makes each worker import envs, which spawn needs.
    vec = make_vec_env("envs:advgrasp/AdversarialGrasp-v0", n_envs=2, seed=0,
                       vec_env_cls=SubprocVecEnv, vec_env_kwargs={"start_method": start_method},
                       env_kwargs={"action_type": "continuous"})
    obs = vec.reset()
    assert obs.shape == (2, 64, 64, 3)
    for _ in range(2):
        obs, rewards, dones, infos = vec.step(np.stack([vec.action_space.sample()] * 2))
        assert dones.all() and len(infos) == 2 and "R_R" in infos[0]
    vec.close()


def test_gymnasium_async_vector_env():
    vec = gymnasium.vector.AsyncVectorEnv(
        [lambda: gymnasium.make("advgrasp/Grasp-v0") for _ in range(2)])
    obs, _ = vec.reset(seed=[1, 2])
    assert obs.shape == (2, 64, 64, 3)
    _, rewards, terminated, _, _ = vec.step(np.array([100, 2000]))
    assert terminated.all() and rewards.shape == (2,)
    vec.close()


def test_vector_env_stacks_infos_with_and_without_pushes():
    # Infos of lifted and missed attempts must stack: one env lifts, the other misses.
    vec = gymnasium.vector.SyncVectorEnv(
        [lambda: AdversarialGraspEnv(object_set="assets", split="all", grid=16)
         for _ in range(2)])
    vec.reset(seed=[0, 1])
    kinds = set()
    for _ in range(6):
        world = vec.envs[0].world
        x, y, theta = envs.geometric_grasp(world.render_top_down()[1], world.camera)
        _, _, terminated, _, info = vec.step(
            np.array([_nearest_discrete(vec.envs[0], x, y, theta), 0]))
        kinds.update(info["perturbation"]["direction"].tolist())
        vec.reset()
    assert "none" in kinds and len(kinds) > 1
    vec.close()


def test_randomisation_is_off_by_default_and_seeded_when_on():
    plain = AdversarialGraspEnv(adversary="none")
    base = plain.reset(seed=3)[0]
    assert np.array_equal(base, plain.reset(seed=3)[0])
    for option in ("randomize_color", "randomize_lighting", "randomize_camera"):
        env = AdversarialGraspEnv(adversary="none", **{option: True})
        first = env.reset(seed=3)[0]
        assert not np.array_equal(first, base), option  # it changes the picture ...
        assert np.array_equal(first, env.reset(seed=3)[0]), option  # ... the same way per seed
        assert not np.array_equal(first, env.reset(seed=4)[0]), option
        env.close()
    plain.close()
