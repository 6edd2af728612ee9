"""Training throughput against environment-only throughput, measured in the same run.

Environment-only: the trainer's own attempt loop (reset, observe, network inference, grasp,
adversary, push, store) with learning switched off. Training: the same loop with the default
learning schedule (one grasper and one adversary update every `update_every` attempts).
Target (issue: trainer): learning costs under 25 % of the environment-only throughput.

    python benchmarks/bench_train.py --attempts 600 [--grasp-net rotating] [--adversary oracle]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from advgrasp.config import TrainConfig
from advgrasp.train import GraspTrainer
from envs.errors import ConfigError


def measure(attempts: int, learn: bool, config: TrainConfig) -> float:
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = GraspTrainer(config, run_dir)
        # Warm up and fill the buffers so that both players learn from the first timed attempt.
        for _ in range(config.warmup_attempts):
            trainer.attempt_once()
        start = time.perf_counter()
        for _ in range(attempts):
            trainer.attempt_once()
            if learn and trainer.attempt % config.update_every == 0:
                trainer.learn()
        rate = attempts / (time.perf_counter() - start)
        trainer.trainer.close()
        trainer.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=600)
    parser.add_argument("--update-every", type=int, default=TrainConfig.update_every)
    parser.add_argument("--torch-threads", type=int, default=TrainConfig.torch_threads)
    parser.add_argument("--grasp-net", default=TrainConfig.grasp_net,
                        help="grasp network kind: angles or rotating")
    parser.add_argument("--adversary", default=TrainConfig.adversary,
                        help="phase two's adversary: learned, or oracle (the oracle search, "
                        "which trains the learned adversary too)")
    args = parser.parse_args()
    # Phase two from the start, so both players are timed.
    config = TrainConfig(attempts=10**6, pretrain_attempts=0, warmup_attempts=64,
                         progress=False, eval_scenes=0, update_every=args.update_every,
                         torch_threads=args.torch_threads, grasp_net=args.grasp_net,
                         adversary=args.adversary)
    try:
        config.validate()
    except ConfigError as err:
        parser.error(str(err))
    env_only = measure(args.attempts, False, config)
    training = measure(args.attempts, True, config)
    cost = 1 - training / env_only
    print(f"attempts timed per mode: {args.attempts}; {config.adversary} adversary in phase two; "
          f"update every {config.update_every} attempts, batch {config.batch_size}, "
          f"torch threads {config.torch_threads}, grasp network {config.grasp_net}")
    print(f"environment only (trainer loop, no learning): {env_only:6.1f} attempts/s")
    print(f"training (same loop with learning):           {training:6.1f} attempts/s")
    print(f"learning costs {cost:.1%} of the environment-only throughput (target < 25 %): "
          f"{'PASS' if cost < 0.25 else 'FAIL'}")
    print(json.dumps({"env_only_attempts_per_s": env_only, "training_attempts_per_s": training,
                      "learning_cost": cost}))


if __name__ == "__main__":
    main()
