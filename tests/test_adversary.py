"""The learned adversary against a frozen grasper (random < learned <= oracle), and the
oracle search that scores the grasper in training."""

import numpy as np

from advgrasp.agents import LearnedAdversary, OracleSearch
from advgrasp.evaluate import evaluate, geometric
from advgrasp.train import train_adversary_against
from envs.adversary import OracleAdversary
from envs.world import GraspWorld, WorldConfig


def test_learned_adversary_beats_random_and_stays_under_oracle():
    learned = train_adversary_against(geometric, attempts=300, seed=1)
    result = evaluate({"geometric": geometric}, object_sets=("random_urdfs",), scenes=60,
                      learned=learned)["results"]["random_urdfs"]["geometric"]
    drops = {name: r["drop_given_lifted"] for name, r in result["adversaries"].items()}
    assert result["lifted"] >= 30
    assert drops["random"] < drops["learned"] <= drops["oracle"], drops


def test_oracle_search_reaches_the_oracles_verdict_with_fewer_pushes():
    """Training's oracle stops at the first push that drops the object; its R_H must still be
    the evaluation oracle's (some push drops it), and its tries label the learned adversary."""
    world = GraspWorld(WorldConfig(obs_mode="rgbd"))
    pushes = world.config.perturbations.all
    learned = LearnedAdversary(pushes, world.config.held_image_size)
    search, oracle = OracleSearch(world, learned), OracleAdversary(world)
    verdicts, tries_made = [], []
    for seed in range(40):
        world.reset(seed=seed)
        outcome = world.grasp(*geometric(world, world.observe(), None))
        if not outcome.lifted:
            continue
        push, r_h, tries = search.search(outcome.held_state)
        oracle.act(outcome.held_state)
        verdicts.append((r_h, float(any(dropped for _, dropped, _ in oracle.last_trials))))
        tries_made.append(len(tries))
        assert [d for _, d in tries[:-1]] == [0.0] * (len(tries) - 1) and tries[-1][1] == r_h
        assert push == pushes[tries[-1][0]] and len({i for i, _ in tries}) == len(tries)
        assert (r_h == 1.0) or len(tries) == len(pushes)
    world.close()
    assert len(verdicts) >= 20
    # PyBullet's restoreState is not exact (bullet3 issues 2982, 4387): a push tried after
    # others can end differently from the same push tried first, so the verdicts, reached in
    # different orders, may differ on a borderline grasp (4 of 94 of a trained policy's lifts).
    agree = sum(mine == theirs for mine, theirs in verdicts)
    assert agree >= 0.9 * len(verdicts), verdicts
    dropped = sum(mine for mine, _ in verdicts)
    assert 0 < dropped < len(verdicts)
    # An untrained ranking is no better than any order, yet the search tries fewer than all 12.
    assert np.mean(tries_made) < len(pushes) - 2, tries_made
