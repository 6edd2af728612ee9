"""The replay buffer, and what the trainer keeps in it when the adversary starts."""

import pytest

from advgrasp.buffer import ReplayBuffer
from advgrasp.config import TrainConfig
from advgrasp.train import GraspTrainer


def filled(capacity, count):
    buffer = ReplayBuffer(capacity, {"x": ((), "int64")})
    for i in range(count):
        buffer.add(x=i)
    return buffer


@pytest.mark.parametrize("capacity,count", [(10, 6), (5, 8)])  # not yet full; wrapped around
def test_keep_drops_rows_and_keeps_the_order_they_came_in(capacity, count):
    buffer = filled(capacity, count)
    stored = buffer.data["x"][:len(buffer)].copy()
    buffer.keep(stored % 2 == 0)
    survivors = [i for i in range(max(0, count - capacity), count) if i % 2 == 0]
    assert len(buffer) == len(survivors)
    assert buffer.data["x"][:len(buffer)].tolist() == survivors
    buffer.add(x=100)  # the next row goes right after them
    assert buffer.data["x"][len(survivors)] == 100 and len(buffer) == len(survivors) + 1


def test_phase_one_lifts_leave_the_buffer_when_the_adversary_starts(tmp_path):
    config = TrainConfig(attempts=14, pretrain_attempts=10, warmup_attempts=100, batch_size=4,
                         adversary="random", eval_scenes=0, progress=False, seed=3)
    trainer = GraspTrainer(config, tmp_path / "run")
    try:
        rewards = [trainer.attempt_once()["R_R"] for _ in range(10)]
        assert 0 < sum(rewards) < 10  # phase one lifted some and missed some
        assert len(trainer.grasps) == 10
        trainer.attempt_once()  # the adversary's first attempt
        kept = trainer.grasps.data["target"][:len(trainer.grasps)]
        assert len(trainer.grasps) == 10 - sum(rewards) + 1
        assert (kept[:-1] == 0).all()  # phase one's misses stay
    finally:
        trainer.close()
