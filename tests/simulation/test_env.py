"""The Gymnasium environments: gymnasium's env checker, vector-env checks (batched spaces,
seeding, NEXT_STEP autoreset, gymnasium's vector wrappers), registration, the generator's
spawns, labels and failure reasons in ``info``."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from behaviorbench.simulation import rollout
from behaviorbench.simulation.env import (
    ENV_IDS,
    EnvConfig,
    TerrainEnv,
    TerrainVecEnv,
    flat_terrain,
)
from behaviorbench.simulation.policy import N_PROPRIO
from behaviorbench.simulation.progress import FAILURE_REASONS, FELL, NONE
from behaviorbench.simulation.terrain import TerrainConfig

SMALL = TerrainConfig.small(num_rows=3, num_cols=2)
CFG = EnvConfig(num_envs=4, terrain=SMALL, episode_s=1.0, max_init_terrain_level=2)


@pytest.fixture(scope="module")
def vec():
    env = TerrainVecEnv(CFG)
    yield env
    env.close()


def test_check_env_passes():
    env = TerrainEnv(CFG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    # the one remark: legged_gym's action clip (+-100) is not a normalised [-1, 1] box
    assert all("symmetric and normalized" in str(w.message) for w in caught), \
        [str(w.message) for w in caught]
    proprio = TerrainEnv(CFG, observation=EnvConfig().observation.__class__(height_scan=False))
    check_env(proprio, skip_render_check=True)
    assert proprio.observation_space.shape == (N_PROPRIO,)


def test_vector_env_spaces_and_outputs(vec):
    n = vec.num_envs
    assert vec.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert vec.observation_space == batch_space(vec.single_observation_space, n)
    assert vec.action_space == batch_space(vec.single_action_space, n)
    assert vec.single_observation_space.shape == (235,)
    assert vec.single_action_space.shape == (12,)
    obs, info = vec.reset(seed=3)
    assert obs in vec.observation_space and obs.dtype == np.float32
    vec.action_space.seed(0)
    for _ in range(3):
        obs, rew, term, trunc, info = vec.step(np.clip(vec.action_space.sample(), -1, 1))
        assert obs in vec.observation_space
        assert rew.shape == (n,) and rew.dtype == np.float64 and (rew >= 0).all()
        assert term.shape == trunc.shape == (n,) and term.dtype == trunc.dtype == np.bool_
        for key in ("terrain_type", "terrain_type_2", "terrain_slope", "terrain_difficulty",
                    "failure_reason", "success", "command_vel", "added_mass"):
            assert np.shape(info[key]) == (n,), key
        assert info["base_pos"].shape == (n, 3)


def test_vector_env_seeding_is_deterministic():
    a, b = TerrainVecEnv(CFG), TerrainVecEnv(CFG)
    actions = np.random.default_rng(0).uniform(-1, 1, (10, CFG.num_envs, 12))
    for env in (a, b):
        env.reset(seed=7)
    for act in actions:
        oa, ra, ta, ua, _ = a.step(act)
        ob, rb, tb, ub, _ = b.step(act)
        assert oa.tobytes() == ob.tobytes() and ra.tobytes() == rb.tobytes()
        assert (ta == tb).all() and (ua == ub).all()
    # reseeding restarts the same episodes
    o1, i1 = a.reset(seed=7)
    o2, i2 = b.reset(seed=7)
    assert o1.tobytes() == o2.tobytes()
    o3, _ = a.reset(seed=8)
    assert o3.tobytes() != o1.tobytes()


def test_spawns_masses_and_commands_are_the_generators(vec):
    """Robot i's first episode after reset(seed) is trajectory i of the run with that seed."""
    _, info = vec.reset(seed=5)
    run = vec.config.run_spec(5)
    spawn = rollout.draw_spawns(run, rollout.run_terrain(run), range(vec.num_envs))
    np.testing.assert_array_equal(info["added_mass"], spawn.added_mass)
    np.testing.assert_array_equal(info["base_pos"], spawn.qpos[:, :3])
    assert set(info["command_vel"].tolist()) <= set(CFG.command_vels)
    # the terrain is the generator's for that run
    assert np.array_equal(vec.terrain.heights, rollout.run_terrain(
        rollout.RunSpec(terrain=SMALL, seed=0, terrain_seed=0)).heights)
    # the next reset (no seed) starts the next episodes: trajectories n .. 2n - 1
    _, info2 = vec.reset()
    spawn2 = rollout.draw_spawns(run, rollout.run_terrain(run), range(4, 8))
    np.testing.assert_array_equal(info2["added_mass"], spawn2.added_mass)


def test_next_step_autoreset_after_truncation():
    env = TerrainVecEnv(CFG)
    first, info0 = env.reset(seed=1)
    zero = np.zeros((CFG.num_envs, 12))
    for k in range(CFG.n_frames):
        obs, rew, term, trunc, info = env.step(zero)
        assert not term.any(), info["failure_reason"]
        assert trunc.all() == (k == CFG.n_frames - 1)
    assert info["success"].all()
    # the step after the end resets every robot (its action ignored), reward 0
    obs, rew, term, trunc, info = env.step(np.full((CFG.num_envs, 12), 50.0))
    assert not term.any() and not trunc.any() and (rew == 0).all()
    spawn = rollout.draw_spawns(env.config.run_spec(1), env.terrain, range(4, 8))
    np.testing.assert_array_equal(info["base_pos"], spawn.qpos[:, :3])
    np.testing.assert_array_equal(obs[:, 36:48], 0)  # last actions start at zero


def test_a_fall_terminates_with_the_generators_reason():
    """Full-scale actions throw robots over: terminated, failure_reason fell (the
    generator's rule); only robots that ended are reset on the next step."""
    env = TerrainVecEnv(CFG, episode_s=3.0)
    env.reset(seed=2)
    rng = np.random.default_rng(0)
    ended = None
    for _ in range(150):
        _, _, term, trunc, info = env.step(rng.uniform(-100, 100, (CFG.num_envs, 12)))
        if term.any():
            ended = term.copy()
            break
    assert ended is not None, "no robot fell"
    codes = info["failure_reason"]
    assert (codes[ended] != NONE).all() and (codes[~ended] == NONE).all()
    assert FELL in codes[ended].tolist() and not info["success"][ended].any()
    t_before = env._t.copy()
    env.step(np.zeros((CFG.num_envs, 12)))
    assert (env._t[ended] == 0).all() and (env._t[~ended] == t_before[~ended] + 1).all()


def test_single_env_info_names_the_failure():
    env = TerrainEnv(CFG, episode_s=3.0)
    env.reset(seed=2)
    rng = np.random.default_rng(0)
    for _ in range(150):
        _, r, term, trunc, info = env.step(rng.uniform(-100, 100, 12).astype(np.float32))
        assert isinstance(r, float)
        if term or trunc:
            break
    assert term and info["failure_name"] in FAILURE_REASONS[1:]
    assert isinstance(info["terrain_type"], int) and info["base_pos"].shape == (3,)


def test_registered_ids_make_both_kinds():
    for env_id, robot in ENV_IDS.items():
        env = gym.make(env_id, terrain=flat_terrain(), episode_s=1.0)
        obs, _ = env.reset(seed=0)
        assert obs.shape == (235,) and env.unwrapped.config.robot == robot
        env.close()
    venv = gym.make_vec("behaviorbench/AnymalB-Terrain-v0", num_envs=3,
                        vectorization_mode="vector_entry_point", terrain=flat_terrain())
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (3, 235) and venv.unwrapped.config.robot == "anymal_b"


def test_gymnasium_vector_wrappers_accept_it():
    from gymnasium.wrappers.vector import NormalizeObservation, RecordEpisodeStatistics

    env = RecordEpisodeStatistics(NormalizeObservation(TerrainVecEnv(CFG, episode_s=0.2)))
    env.reset(seed=0)
    episodes = 0
    for _ in range(12):
        _, _, term, trunc, info = env.step(np.zeros((CFG.num_envs, 12)))
        if "episode" in info:
            episodes += int(info["_episode"].sum())
    assert episodes == CFG.num_envs


@pytest.mark.parametrize(("field", "value"), [
    ("robot", "spot"), ("num_envs", 0), ("command_vels", ()), ("command_vels", (5.0,)),
    ("episode_s", 0.0), ("added_mass_range", (5.0, -5.0)), ("terrain_seed", -1),
])
def test_config_is_validated_on_construction(field, value):
    with pytest.raises(ValueError, match=f"EnvConfig.{field}"):
        EnvConfig(**{field: value})
