"""`advgrasp study ...`: create a study, manage participants, export, analyse, replay, simulate.

Every command takes the study file (one SQLite file per study) as its first argument.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def cmd_init(args) -> int:
    from advgrasp.study.config import DEFAULT_STUDY
    from advgrasp.study.store import StudyStore

    with StudyStore.init(args.study, args.config or DEFAULT_STUDY) as store:
        config = store.study_config()
        names = ", ".join(f"{c['name']} ({c['adversary']}, {c['budget']} trials)"
                          for c in store.conditions())
        print(f"created study {args.study} ({config['name']!r}, schema version "
              f"{store.schema_version}): conditions {names}; questionnaire of "
              f"{len(config['questionnaire']['items'])} items")
    return 0


def cmd_add_participant(args) -> int:
    from advgrasp.study.errors import StudyDataError
    from advgrasp.study.store import StudyStore

    fields = {}
    for pair in args.field or []:
        name, sep, value = pair.partition("=")
        if not sep:
            raise StudyDataError(f"--field {pair!r}: write it as NAME=VALUE")
        fields[name] = value
    with StudyStore.open(args.study) as store:
        person = store.add_participant(args.code, fields)
        names = {c["id"]: c["name"] for c in store.conditions()}
        order = " -> ".join(names[i] for i in person["condition_order"])
        print(f"added participant {person['code']} (order {person['order_number']}): {order}")
    return 0


def _out_folder(out: str, option: str = "--out") -> Path:
    """An output folder that may not exist yet; refuse a path that is a file."""
    from advgrasp.study.errors import StudyDataError

    folder = Path(out)
    blocking = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise StudyDataError(f"{option} {out}: {blocking} is a file, not a folder; pass a "
                             "folder (it is created when missing)")
    return folder


def cmd_withdraw(args) -> int:
    from advgrasp.study.store import StudyStore

    with StudyStore.open(args.study) as store:
        store.record_event("withdrawal", args.reason, code=args.code)
        print(f"participant {args.code} withdrawn: their data are left out of the analysis")
    return 0


def cmd_exclude(args) -> int:
    from advgrasp.study.errors import StudyDataError
    from advgrasp.study.store import StudyStore

    if args.session is not None and args.trial is not None:
        raise StudyDataError(f"--session {args.session} and --trial {args.trial} were both "
                             "given: exclude a session or one trial, one at a time")
    with StudyStore.open(args.study) as store:
        store.record_event("exclusion", args.reason, code=args.code, session_id=args.session,
                           trial_id=args.trial)
        what = (f"trial {args.trial}" if args.trial is not None else f"session {args.session}"
                if args.session is not None else "every trial")
        print(f"excluded {what} of participant {args.code}: {args.reason}")
    return 0


def cmd_end_session(args) -> int:
    from advgrasp.study.store import StudyStore

    with StudyStore.open(args.study) as store:
        session = store.abort_session(args.session_id, args.reason)
        print(f"session {args.session_id} of participant {session['participant']} "
              f"({session['condition']}) ended as aborted, its {session['trials']} trials kept; "
              "the next `advgrasp play` for this participant starts a new session")
    return 0


def cmd_status(args) -> int:
    from advgrasp.study.store import StudyStore

    with StudyStore.open(args.study) as store:
        config, conditions = store.study_config(), store.conditions()
        names = {c["id"]: c["name"] for c in conditions}
        counts = {(r["session_id"]): (r["scored"], r["practice"]) for r in store.rows(
            "SELECT session_id, SUM(practice = 0) AS scored, SUM(practice) AS practice "
            "FROM trials GROUP BY session_id")}
        print(f"study {args.study}: {config['name']!r}, schema {store.schema_version}, "
              f"{len(conditions)} conditions, {len(store.participants())} participants")
        for person in store.participants():
            state = f"withdrawn {person['withdrawn_at'][:19]}" if person["withdrawn_at"] \
                else "active"
            order = " -> ".join(names[i] for i in person["condition_order"])
            print(f"  {person['code']:<8} {state:<10} order: {order}")
        for session in store.sessions():
            scored, practice = counts.get(session["id"], (0, 0))
            print(f"    session {session['id']}: {session['participant']} "
                  f"{session['condition']:<14} {session['status']:<9} {scored}/"
                  f"{session['settings']['trials']} trials (+{practice} practice)")
        for event in store.events():
            target = (f"trial {event['trial_id']}" if event["trial_id"] else
                      f"session {event['session_id']}" if event["session_id"] else "")
            print(f"  event {event['id']}: {event['kind']} {event['participant'] or ''} "
                  f"{target}: {event['reason']}")
    return 0


def cmd_export(args) -> int:
    from advgrasp.study.export import export_csv
    from advgrasp.study.store import StudyStore

    out = _out_folder(args.out)
    with StudyStore.open(args.study) as store:
        files = export_csv(store, out)
    print(f"exported {len(files)} CSV files to {args.out}: "
          f"{', '.join(f.name for f in files)}")
    return 0


def cmd_report(args) -> int:
    from advgrasp.study.report import write_report
    from advgrasp.study.store import StudyStore

    out = _out_folder(args.out)
    with StudyStore.open(args.study) as store:
        summary = write_report(store, out, args.outcome)
    left = summary["left_out"]
    print(f"analysed {summary['participants_analysed']} participants; left out "
          f"{left['practice_trials']} practice trials, "
          f"{len(left['withdrawn_participants'])} withdrawn participants "
          f"({left['withdrawn_trials']} trials), {left['excluded_trials']} excluded trials")
    for r in summary["rates"]:
        low, high = r["r_r_ci"]
        print(f"  {r['condition']:<14} {r['trials']:>4} trials  grasp success "
              f"{r['r_r']:.1%} ({low:.1%}-{high:.1%})  kept {r['robust_success']:.1%}")
    for r in summary["gee"]["pairs"]:
        print(f"  GEE {r['a']} vs {r['b']}: log OR {r['log_odds_ratio']:.2f}, "
              f"p = {r['p']:.3f}, Holm p = {r['p_holm']:.3f}")
    for r in summary["wilcoxon"]:
        print(f"  Wilcoxon {r['a']} vs {r['b']}: {r['n']} pairs ({r['zeros']} zero), "
              f"p = {r['p']:.3f}, Holm p = {r['p_holm']:.3f}")
    print(f"report: {Path(args.out) / 'report.md'} (plots: {', '.join(summary['plots'])})")
    return 0


def cmd_replay(args) -> int:
    from advgrasp.study.replay import replay_study
    from advgrasp.study.store import StudyStore

    with StudyStore.open(args.study) as store:
        results = replay_study(store, args.session or None)
    for result in results:
        print("\n".join(result.lines()))
    bad = [r.session_id for r in results if not r.ok]
    print(f"replayed {len(results)} sessions: "
          + (f"MISMATCH in sessions {bad}" if bad else "every logged outcome reproduced"))
    return 1 if bad else 0


def cmd_simulate(args) -> int:
    import time

    import torch

    from advgrasp.study.errors import StudyDataError
    from advgrasp.study.simulate import run_controls, simulate_study
    from advgrasp.study.store import StudyStore

    if args.controls is not None and args.participants is not None:
        raise StudyDataError(f"--participants {args.participants} and --controls were both "
                             "given: run scripted participants or the controls of real ones, "
                             "one at a time")
    participants = 4 if args.participants is None else args.participants
    if args.controls is None and participants < 1:
        raise StudyDataError(f"--participants {args.participants}: give at least 1 scripted "
                             "participant")
    torch.set_num_threads(1)
    start = time.perf_counter()
    if args.config and not Path(args.study).exists():
        StudyStore.init(args.study, args.config).close()
    with StudyStore.open(args.study) as store:
        if args.controls is not None:
            result = run_controls(store, args.controls or None, evaluate=not args.no_evaluate)
            print(f"ran the matched controls of {len(result['participants'])} participants: "
                  f"{len(result['sessions'])} sessions -> {args.study}")
            return 0
        result = simulate_study(store, participants, evaluate=not args.no_evaluate)
    print(f"simulated {len(result['participants'])} scripted participants, "
          f"{len(result['sessions'])} sessions, {result['trials']} scored trials in "
          f"{time.perf_counter() - start:.0f} s -> {args.study}")
    return 0


def register(subparsers) -> None:
    """Add the `study` command group to the `advgrasp` parser."""
    study = subparsers.add_parser("study", help="user study: participants, sessions, export, "
                                  "analysis, replay, simulated studies")
    sub = study.add_subparsers(dest="study_command", required=True)

    def command(name, func, help_text):
        parser = sub.add_parser(name, help=help_text,
                                description=help_text.replace("%%", "%"))
        parser.add_argument("study", help="the study file (SQLite), e.g. pilot.sqlite")
        parser.set_defaults(func=func)
        return parser

    init = command("init", cmd_init, "create a study file from a study TOML file (checked in "
                   "full, questionnaire included)")
    init.add_argument("--config", help="study TOML file (default: the shipped "
                      "assets/study/default.toml)")
    add = command("add-participant", cmd_add_participant, "add a participant by pseudonymous "
                  "code; the condition order comes from the balanced Latin square")
    add.add_argument("code", help="pseudonymous code, e.g. P07 (never a name)")
    add.add_argument("--field", action="append", metavar="NAME=VALUE",
                     help="an extra field the study file's [participants] fields allow")
    withdraw = command("withdraw", cmd_withdraw, "withdraw a participant: their data are "
                       "kept in the file but left out of every analysis")
    withdraw.add_argument("code")
    withdraw.add_argument("--reason", default="withdrew consent", help="logged with the event")
    exclude = command("exclude", cmd_exclude, "exclude a participant, a session or a trial "
                      "from the analysis, with a reason")
    exclude.add_argument("code")
    exclude.add_argument("--reason", required=True, help="why (logged with the event)")
    exclude.add_argument("--session", type=int, help="exclude this session id only")
    exclude.add_argument("--trial", type=int, help="exclude this trial id only")
    end = command("end-session", cmd_end_session, "end a running session as aborted (its "
                  "trials are kept, the next play starts a new session): the way out of a "
                  "session stored with settings that cannot run")
    end.add_argument("session_id", type=int, help="the session id (see `study status`)")
    end.add_argument("--reason", required=True, help="why (logged as a note event)")
    command("status", cmd_status, "participants, their orders, sessions and events")
    export = command("export", cmd_export, "write every table and a tidy trials file as CSV")
    export.add_argument("--out", default="study_export", help="folder (default study_export)")
    report = command("report", cmd_report, "rates with 95 %% intervals, learning curves, "
                     "GEE and Wilcoxon tests (Holm), questionnaires, plots")
    report.add_argument("--out", default="study_report", help="folder (default study_report)")
    report.add_argument("--outcome", default="r_r", choices=["r_r", "robust_success"],
                        help="per-trial outcome the tests compare: r_r (grasp success, "
                             "default) or robust_success (R_R (1 - R_H))")
    replay = command("replay", cmd_replay, "re-simulate logged sessions and check every "
                     "outcome against the log (exit status 1 on a mismatch)")
    replay.add_argument("--session", type=int, action="append",
                        help="a session id (repeatable; default every session)")
    simulate = command("simulate", cmd_simulate, "run the study with scripted participants "
                       "(no window); resumes a stopped run")
    simulate.add_argument("--participants", type=int, default=None,
                          help="scripted participants S01, S02, ... (default 4)")
    simulate.add_argument("--config", help="study TOML file: creates the study file first "
                          "when it does not exist")
    simulate.add_argument("--controls", nargs="*", metavar="CODE",
                          help="instead of scripted participants, run the conditions without a "
                               "person for these participants (none named: every one) as "
                               "matched controls of their window sessions; then evaluate every "
                               "finished session's robot not evaluated yet")
    simulate.add_argument("--no-evaluate", action="store_true",
                          help="skip the held-out evaluation of the resulting robots")
