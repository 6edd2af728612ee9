"""Frame times of the play window while the robot learns online.

Plays trials in the session window with a scripted person who answers after a human-like
delay, the physics shown in real time and the robot learning in its worker thread between
trials, and prints percentiles of the time between frames: all frames, frames drawn while the
learning thread ran, and frames drawn while the physics played. The target is under 50 ms.

    python benchmarks/bench_play.py [--trials 8] [--updates 16] [--render 200x150]

Runs headless (SDL's dummy video driver) unless --window is given; on a real display the flip
adds the driver's own time.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def _pair(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--updates", type=int, default=16,
                        help="learning rounds after each trial (a session's default is 4)")
    parser.add_argument("--render", default="160x120", help="live view render size")
    parser.add_argument("--size", default="1024x640", help="window size")
    parser.add_argument("--reaction", type=float, default=0.8, help="scripted reaction, s")
    parser.add_argument("--window", action="store_true", help="open a real window")
    args = parser.parse_args()
    if not args.window:
        os.environ["SDL_VIDEODRIVER"], os.environ["SDL_AUDIODRIVER"] = "dummy", "dummy"

    import pygame
    import torch

    from advgrasp.human.settings import SessionSettings
    from advgrasp.human.trial_screen import play_trial, show_outcome
    from advgrasp.human.trials import TrialRunner
    from advgrasp.human.window import SessionWindow, WindowOptions

    settings = SessionSettings(objects=("can", "mug"), trials=args.trials, practice_trials=0,
                               updates_per_trial=args.updates, seed=3)
    runner = TrialRunner(settings, None, background=True)
    frames: list[tuple[float, str, bool]] = []
    chosen = {"at": None}

    def person(window) -> None:
        frames.append((time.perf_counter(), window.phase, runner.learning))
        if window.phase != "choose":
            chosen["at"] = None
            return
        chosen["at"] = chosen["at"] or time.monotonic()
        if time.monotonic() - chosen["at"] >= args.reaction:
            for key in (pygame.K_LEFT, pygame.K_2, pygame.K_RETURN):
                pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0,
                                                     unicode="", scancode=0))
            chosen["at"] = float("inf")  # posted once per trial

    window = SessionWindow(WindowOptions(size=_pair(args.size), render_size=_pair(args.render)),
                           person)
    window.runner = runner
    start = time.perf_counter()
    learning_s = []
    try:
        while not runner.finished:
            window.trial_label = f"Trial {runner.position + 1} of {settings.total_trials}"
            trial = play_trial(window, runner)
            learn_start = time.perf_counter()
            show_outcome(window, trial, runner)
            learning_s.append(time.perf_counter() - learn_start)
    finally:
        runner.close()
        window.close()

    stamps = np.array([f[0] for f in frames])
    gaps_ms = np.diff(stamps) * 1000
    phases = [f[1] for f in frames[1:]]
    learning = np.array([f[2] for f in frames[1:]])
    playback = np.array([p == "playback" for p in phases])
    print(f"{len(frames)} frames over {time.perf_counter() - start:.1f} s, {args.trials} trials, "
          f"{args.updates} learning rounds per trial (torch threads: {torch.get_num_threads()}),"
          f" live view {args.render} scaled to {args.size}, {os.cpu_count()} CPUs")
    print(f"outcome screen incl. learning: {np.mean(learning_s):.2f} s per trial on average")
    print(f"{'frames':<28}{'n':>6}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}   (ms)")
    for label, mask in (("all", np.ones_like(learning)), ("while the robot learns", learning),
                        ("while the physics plays", playback)):
        values = gaps_ms[mask]
        if values.size:
            p50, p90, p99 = np.percentile(values, [50, 90, 99])
            print(f"{label:<28}{values.size:>6}{p50:>8.1f}{p90:>8.1f}{p99:>8.1f}"
                  f"{values.max():>8.1f}")
    worst = np.argsort(gaps_ms)[-3:][::-1]
    print("slowest frames: " + ", ".join(f"{gaps_ms[i]:.0f} ms ({phases[i]})" for i in worst))
    over = float(np.mean(gaps_ms > 50)) * 100
    print(f"frames over 50 ms: {over:.1f} %")


if __name__ == "__main__":
    main()
