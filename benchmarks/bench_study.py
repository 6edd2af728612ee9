"""Write throughput of the study store: trials committed per second (WAL, synchronous FULL).

One writer logs trials as fast as it can, then two processes write to one study at once.
Each trial is its own immediate transaction with an fsync, as in a real session, where a trial
takes seconds: the figure to compare with is about 1 trial per second per session.

    .venv/bin/python benchmarks/bench_study.py [--trials 500]
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path

import numpy as np

from advgrasp.study.store import StudyStore

STUDY = """[study]
name = "bench"
questionnaire = "{questionnaire}"
[[conditions]]
name = "human"
adversary = "human"
objects = ["mug"]
"""


def trial(index: int) -> dict:
    start = time.monotonic()
    return {"index": index, "practice": False, "object": "mug", "seed": index,
            "wall_time": time.time(), "monotonic_start": start, "monotonic_end": start + 1.0,
            "grasp_x": 0.01, "grasp_y": -0.02, "grasp_theta": 0.5, "predicted_success": 0.6,
            "r_r": 1.0, "perturbation": "left_32N", "reaction_time_s": 1.2, "r_h": 0.0,
            "reward": 1.0, "model_version": index}


def write(path: str, code: str, trials: int, start_at: float) -> list[float]:
    """Log `trials` trials in a new session of `code`; returns each commit's seconds."""
    with StudyStore.open(path) as store:
        session = store.start_session(code, 1, {"bench": True})
        while time.time() < start_at:
            time.sleep(0.001)
        seconds = []
        for i in range(trials):
            begin = time.perf_counter()
            store.record_trial(session, trial(i))
            seconds.append(time.perf_counter() - begin)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=500, help="trials per writer")
    args = parser.parse_args()
    questionnaire = Path(__file__).parents[1] / "assets" / "study" / "questionnaire.toml"
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "bench.toml"
        config.write_text(STUDY.format(questionnaire=questionnaire.as_posix()))
        path = str(Path(folder) / "bench.sqlite")
        with StudyStore.init(path, config) as store:
            for code in ("A", "B", "C"):
                store.add_participant(code)

        began = time.perf_counter()
        one = np.array(write(path, "A", args.trials, 0.0))
        alone = time.perf_counter() - began
        print(f"one writer: {args.trials} trials in {alone:.2f} s = {args.trials / alone:.0f} "
              f"trials/s; commit median {1e3 * np.median(one):.2f} ms, p99 "
              f"{1e3 * np.percentile(one, 99):.2f} ms, max {1e3 * one.max():.1f} ms")

        start_at = time.time() + 2.0
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            jobs = [pool.apply_async(write, (path, code, args.trials, start_at))
                    for code in ("B", "C")]
            both = [np.array(job.get(timeout=600)) for job in jobs]
        together = max(s.sum() for s in both)
        every = np.concatenate(both)
        print(f"two writers at once: {2 * args.trials} trials, about {together:.2f} s of "
              f"commits each = {2 * args.trials / together:.0f} trials/s together; commit "
              f"median {1e3 * np.median(every):.2f} ms, p99 {1e3 * np.percentile(every, 99):.2f} "
              f"ms, max {1e3 * every.max():.1f} ms")
        with StudyStore.open(path) as store:
            kept = store.rows("SELECT COUNT(*) AS n FROM trials")[0]["n"]
        print(f"trials in the study: {kept} of {3 * args.trials}")


if __name__ == "__main__":
    main()
