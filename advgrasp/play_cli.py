"""`advgrasp play`: a person plays the adversary against a learning robot in a pygame window."""

from __future__ import annotations

import math
import os
from pathlib import Path

MIN_WINDOW = (480, 300)
"""Smallest window (pixels) that still fits the scene, the arrows and the score."""
MIN_RENDER = (32, 24)
"""Smallest live-view render (pixels) in which the object can still be seen."""


def _size(text: str, option: str, smallest: tuple[int, int]) -> tuple[int, int]:
    from advgrasp.human.errors import SessionError

    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise SessionError(f"{option} size {text!r}: write it as WIDTHxHEIGHT, such as 1024x640")
    if int(width) < smallest[0] or int(height) < smallest[1]:
        raise SessionError(f"{option} {text!r} is too small: give at least "
                           f"{smallest[0]}x{smallest[1]}")
    return int(width), int(height)


def _check_options(args) -> None:
    """Refuse every bad option before anything is opened or written."""
    from advgrasp.human.errors import SessionError

    if not math.isfinite(args.speed) or args.speed < 0:
        raise SessionError(f"--speed {args.speed}: give a number >= 0 (1: real time, 0: as "
                           "fast as it runs)")
    if args.seed < 0:
        raise SessionError(f"--seed {args.seed}: give a seed >= 0")
    if args.trials is not None and args.trials < 1:
        raise SessionError(f"--trials {args.trials}: give at least 1 trial")
    if args.time_limit is not None and not (math.isfinite(args.time_limit)
                                            and args.time_limit > 0):
        raise SessionError(f"--time-limit {args.time_limit}: give a positive number of "
                           "seconds, such as 10")
    if args.screenshot:
        shot = Path(args.screenshot)
        if shot.is_dir() or shot.suffix.lower() != ".png":
            raise SessionError(f"--screenshot {shot} must name a .png file, such as "
                               f"{shot / 'session.png' if shot.is_dir() else 'session.png'}")


def _check_display() -> None:
    """A person must see the window: refuse SDL's off-screen drivers, which pygame falls back
    to (as 'offscreen') when there is no display, and which would wait for a key nobody can
    press."""
    import pygame

    from advgrasp.human.errors import SessionError

    try:
        pygame.display.init()
        driver = pygame.display.get_driver()
    except pygame.error as err:
        driver = f"none ({err})"
    if driver in ("dummy", "offscreen") or driver.startswith("none"):
        raise SessionError(f"pygame found no display to show the session on (SDL video driver "
                           f"{driver!r}, SDL_VIDEODRIVER={os.environ.get('SDL_VIDEODRIVER')!r})"
                           "; run play on a machine with a screen (DISPLAY or WAYLAND_DISPLAY "
                           "set, SDL_VIDEODRIVER unset), or use --headless --screenshot FILE")


def cmd_play(args) -> int:
    from advgrasp.human.errors import SessionError
    from advgrasp.human.settings import ASSET_OBJECTS, SessionSettings
    from advgrasp.human.window import WindowOptions

    _check_options(args)
    options = WindowOptions(size=_size(args.size, "--size", MIN_WINDOW),
                            playback_speed=args.speed)
    if args.render or args.screenshot:
        options.render_size = _size(args.render or "320x240", "--render", MIN_RENDER)
    objects = [o.strip() for o in args.objects.split(",")] if args.objects else None
    if args.headless:
        os.environ["SDL_VIDEODRIVER"], os.environ["SDL_AUDIODRIVER"] = "dummy", "dummy"
    if args.screenshot:
        from advgrasp.human.screenshot import save_screenshot
        from advgrasp.human.session import check_settings

        settings = SessionSettings(objects=tuple(objects or ASSET_OBJECTS), trials=args.trials
                                   or 12, practice_trials=0, checkpoint=args.checkpoint,
                                   seed=args.seed, updates_per_trial=0)
        check_settings(settings)
        print(f"screenshot: {save_screenshot(args.screenshot, settings, options)}")
        return 0
    if not args.study or not args.participant:
        raise SessionError("advgrasp play needs the study file and --participant CODE (or "
                           "--screenshot PATH)")
    from advgrasp.human.session import run_session
    from advgrasp.study.store import StudyStore

    if not args.headless:
        _check_display()

    overrides = {"trials": args.trials, "objects": objects,
                 "starting_checkpoint": args.checkpoint, "time_limit_s": args.time_limit}
    with StudyStore.open(args.study) as store:
        result = run_session(store, args.participant, args.condition, overrides,
                             options=options)
    score = result["score"]
    print(f"session {result['session_id']} {result['status']}: {result['trials']} trials "
          f"logged; robot {score.robot}, person {score.person}, missed {score.missed}"
          + ("; run the same command to resume" if result["status"] != "finished" else ""))
    return 0


def register(subparsers) -> None:
    """Add `advgrasp play` to the CLI."""
    play = subparsers.add_parser(
        "play", help="play the adversary against a learning robot in a window (a study "
        "session), or save a screenshot")
    play.add_argument("study", nargs="?", help="study file made by `advgrasp study init`")
    play.add_argument("--participant", help="the participant's pseudonymous code")
    play.add_argument("--condition", help="condition name (default: the participant's next "
                      "human condition in counterbalanced order)")
    play.add_argument("--trials", type=int, help="scored trials (default: the condition's "
                      "budget)")
    play.add_argument("--objects", help="comma-separated object names (default: the "
                      "condition's)")
    play.add_argument("--checkpoint", help="starting checkpoint: a run folder or policy.pt "
                      "(default: the study's)")
    play.add_argument("--time-limit", type=float, help="seconds to choose a push (default: "
                      "the study's, 10)")
    play.add_argument("--size", default="1024x640", help="window size WIDTHxHEIGHT "
                      "(default 1024x640; the window can be resized)")
    play.add_argument("--render", help="the live view is rendered at WIDTHxHEIGHT and scaled "
                      "to the window (default 160x120; 320x240 for --screenshot)")
    play.add_argument("--speed", type=float, default=1.0, help="physics playback speed "
                      "(1: real time; 0: as fast as it runs)")
    play.add_argument("--screenshot", help="save a screenshot of a held object with a push "
                      "being dragged to this PNG, and exit (no study needed)")
    play.add_argument("--seed", type=int, default=0, help="scene seed of --screenshot")
    play.add_argument("--headless", action="store_true", help="no window on screen (SDL "
                      "dummy drivers), for --screenshot on a machine without a display")
    play.set_defaults(func=cmd_play)
