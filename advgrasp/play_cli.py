"""`advgrasp play`: a person plays the adversary against a learning robot in a pygame window."""

from __future__ import annotations

import os


def _size(text: str) -> tuple[int, int]:
    from advgrasp.human.errors import SessionError

    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise SessionError(f"size {text!r}: write it as WIDTHxHEIGHT, such as 1024x640")
    return int(width), int(height)


def cmd_play(args) -> int:
    from advgrasp.human.errors import SessionError
    from advgrasp.human.settings import ASSET_OBJECTS, SessionSettings
    from advgrasp.human.window import WindowOptions

    if args.headless:
        os.environ["SDL_VIDEODRIVER"], os.environ["SDL_AUDIODRIVER"] = "dummy", "dummy"
    options = WindowOptions(size=_size(args.size), playback_speed=args.speed)
    if args.render or args.screenshot:
        options.render_size = _size(args.render or "320x240")
    objects = args.objects.split(",") if args.objects else None
    if args.screenshot:
        from advgrasp.human.screenshot import save_screenshot

        settings = SessionSettings(objects=tuple(objects or ASSET_OBJECTS), trials=args.trials
                                   or 12, practice_trials=0, checkpoint=args.checkpoint,
                                   seed=args.seed, updates_per_trial=0)
        print(f"screenshot: {save_screenshot(args.screenshot, settings, options)}")
        return 0
    if not args.study or not args.participant:
        raise SessionError("advgrasp play needs the study file and --participant CODE (or "
                           "--screenshot PATH)")
    from advgrasp.human.session import run_session
    from advgrasp.study.store import StudyStore

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
