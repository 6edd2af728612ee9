"""`advgrasp`: train, evaluate and run the demo from the command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from envs.errors import AdvGraspError

log = logging.getLogger("advgrasp")


def read_run_json(run_dir: Path) -> dict:
    """The run folder's `run.json`, or a clear error when it cannot be read."""
    from envs.errors import ConfigError

    path = run_dir / "run.json"
    try:
        saved = json.loads(path.read_text())
        saved["config"]["adversary"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"cannot read {path}: {type(err).__name__}: {err}; it is damaged or "
                          "not from advgrasp train (rerun the training to rewrite it)") from None
    return saved


def load_learned_adversary(run_dir: Path):
    """The run's trained learned adversary (`adversary.pt`), or None when the run has none or
    trained against an adversary under which it does not learn."""
    import torch

    from advgrasp.agents import LearnedAdversary
    from advgrasp.config import TRAINS_LEARNED
    from envs.perturbation import PerturbationSet

    path = run_dir / "adversary.pt"
    config = read_run_json(run_dir)["config"]
    if config["adversary"] not in TRAINS_LEARNED or not path.exists():
        return None
    adversary = LearnedAdversary(PerturbationSet().all)
    adversary.net.load_state_dict(torch.load(path, weights_only=True))
    return adversary


def evaluate_runs(runs: dict[str, Path], out_dir: Path, scenes: int, title: str,
                  notes: list[str] | None = None, fine: bool = True,
                  seed: int | None = None) -> tuple[Path, dict]:
    """Evaluate the policies of `runs` and the baselines on the same held-out scenes
    (`fine`: grasp policies refine their grid picks, `GraspPolicy.predict`; `seed`: the first
    scene's seed, default the evaluation's own)."""
    from advgrasp.agents import GraspPolicy
    from advgrasp.baselines import MODEL, sb3_chooser
    from advgrasp.evaluate import BASELINES, evaluate, policy_chooser
    from advgrasp.report import write_report

    choosers = {label: sb3_chooser(run) if (Path(run) / MODEL).exists()
                else policy_chooser(GraspPolicy.load(run), fine) for label, run in runs.items()}
    choosers.update(BASELINES)
    notes = list(notes or []) + ([""] if notes else []) + [
        "Grasp policies: the best of the grid's cells and angle bins, scored in 8 views, then "
        + ("refined to pixel resolution (and, for the rotating network, 5 degree steps) by the "
           "fine search." if fine else "taken as it is (`--grid-only`: no fine search).")]
    learned = next((a for a in (load_learned_adversary(r) for r in runs.values()) if a), None)
    evaluation = evaluate(choosers, scenes=scenes, learned=learned,
                          **({} if seed is None else {"seed": seed}))
    evaluation["fine_search"] = fine
    report = write_report(out_dir, evaluation, runs, title=title, notes=notes)
    return report, evaluation


def cmd_train(args) -> int:
    from advgrasp.config import config_from_args

    config = config_from_args(args, args.preset)
    run_dir = Path(args.run_dir or f"runs/{args.algo}-{config.adversary}-{config.seed}")
    if args.algo != "grasp" and config.ray_workers:
        from envs.errors import ConfigError

        raise ConfigError(f"--ray-workers {config.ray_workers} applies to --algo grasp only; the "
                          f"{args.algo} baseline runs in this process")
    start = time.perf_counter()
    if args.algo == "grasp":
        from advgrasp.train import GraspTrainer

        trainer = GraspTrainer(config, run_dir)
        try:
            trainer.run()
            done = trainer.attempt - trainer.started_at
        finally:
            trainer.close()
        label, saved = "trained policy", run_dir / "policy.pt"
    else:
        from advgrasp.baselines import train_sb3

        done, label = config.attempts, f"{args.algo} policy"
        saved = train_sb3(args.algo, config, run_dir)
    if done:
        print(f"trained {done} attempts in {time.perf_counter() - start:.0f} s -> {saved}")
    else:
        print(f"{run_dir} had already trained all {config.attempts} attempts")
    if config.eval_scenes:
        report, _ = evaluate_runs({label: run_dir}, run_dir, config.eval_scenes,
                                  f"advgrasp run {run_dir.name}")
        print(f"report: {report}")
    return 0


def cmd_evaluate(args) -> int:
    from envs.errors import ConfigError

    run_dir = Path(args.run)
    if not run_dir.exists():
        raise ConfigError(f"run folder {run_dir} does not exist; pass the folder that "
                          "`advgrasp train --run-dir` wrote (such as runs/demo/adversarial)")
    if run_dir.is_file():
        run_dir = run_dir.parent
    if args.scenes < 1:
        raise ConfigError(f"--scenes {args.scenes} must be at least 1")
    if args.scene_seed is not None and not 0 <= args.scene_seed < 2**31:
        raise ConfigError(f"--scene-seed {args.scene_seed} must be within [0, 2**31)")
    if not (run_dir / "run.json").exists():
        inner = sorted(p.parent for p in run_dir.glob("*/run.json"))
        hint = (f"; it holds the runs {', '.join(str(p) for p in inner)}: pass one of them"
                if inner else "; pass the folder a training run wrote")
        raise ConfigError(f"{run_dir} is not a run folder (no run.json){hint}")
    report, evaluation = evaluate_runs({"trained policy": run_dir}, run_dir, args.scenes,
                                       f"advgrasp run {run_dir.name}", fine=not args.grid_only,
                                       seed=args.scene_seed)
    for set_name in evaluation["results"]:
        print("\n".join(results_summary(evaluation, set_name)))
    print(f"report: {report}")
    return 0


def cmd_demo(args) -> int:
    """Adversarial and self-supervised training with the same budget, then one report."""
    from dataclasses import replace

    from advgrasp.config import config_from_args
    from advgrasp.train import GraspTrainer

    base = config_from_args(args, args.preset)
    out = Path(args.run_dir)
    runs = {"adversarial (learned adversary)": out / "adversarial",
            "self-supervised (same budget)": out / "self_supervised"}
    configs = [base, replace(base, adversary="none")]
    start = time.perf_counter()
    for (label, run_dir), config in zip(runs.items(), configs, strict=True):
        print(f"training {label}: {config.attempts} attempts -> {run_dir}")
        trainer = GraspTrainer(config, run_dir)
        try:
            trainer.run()
        finally:
            trainer.close()
    trained = time.perf_counter() - start
    print(f"training done in {trained:.0f} s; evaluating on held-out objects ...")
    report, evaluation = evaluate_runs(runs, out, base.eval_scenes, "advgrasp demo")
    summary = demo_summary(evaluation)
    (out / "summary.txt").write_text("\n".join(summary) + "\n")
    print("\n".join(summary))
    print(f"total {time.perf_counter() - start:.0f} s; report: {report}")
    return 0


def results_summary(evaluation: dict, set_name: str = "random_urdfs") -> list[str]:
    """One line per policy of one held-out set: grasp and robust success."""
    lines = [f"held-out {set_name} (test split):"]
    for name, r in evaluation["results"][set_name].items():
        robust = ", ".join(f"{a} {v['robust_success']:.1%}" for a, v in r["adversaries"].items())
        lines.append(f"  {name:<34} grasp {r['grasp_success']:.1%}  robust: {robust}")
    return lines


def demo_summary(evaluation: dict) -> list[str]:
    results = evaluation["results"]["random_urdfs"]
    adv, selfsup = (results["adversarial (learned adversary)"],
                    results["self-supervised (same budget)"])
    random_on = results["random on object"]["grasp_success"]
    lines = results_summary(evaluation)
    ratio = adv["grasp_success"] / max(random_on, 1e-9)
    lines.append(f"target: grasp success >= 1.5 x random-on-object: {ratio:.2f} x -> "
                 f"{'MET' if ratio >= 1.5 else 'NOT MET'}")
    lines.append("robust success vs oracle: adversarial "
                 f"{adv['adversaries']['oracle']['robust_success']:.1%}, self-supervised "
                 f"{selfsup['adversaries']['oracle']['robust_success']:.1%}")
    return lines


def _preset_text(name: str) -> str:
    from advgrasp.config import PRESETS

    return ", ".join(f"{k}={v}" for k, v in PRESETS[name].items())


def build_parser() -> argparse.ArgumentParser:
    from advgrasp import gan_cli, play_cli, study_cli
    from advgrasp.config import PRESETS, add_config_arguments

    parser = argparse.ArgumentParser(prog="advgrasp", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a grasp policy, evaluate it, write a report")
    train.add_argument("--preset", default="demo", choices=sorted(PRESETS),
                       help="starting values; options given override them. demo: the "
                            "defaults below; full: " + _preset_text("full") + "; tiny: "
                            + _preset_text("tiny"))
    train.add_argument("--algo", default="grasp", choices=["grasp", "ppo", "sac"],
                       help="grasp: the one-step adversarial trainer; ppo, sac: "
                            "stable-baselines3 on the continuous environment")
    train.add_argument("--run-dir", help="run folder (resumes if it holds a checkpoint)")
    add_config_arguments(train)
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="evaluate a run folder on held-out objects")
    evaluate.add_argument("run", help="run folder with policy.pt")
    evaluate.add_argument("--scenes", type=int, default=150,
                          help="held-out scenes per object set (default 150)")
    evaluate.add_argument("--grid-only", action="store_true",
                          help="grasp at the policy's best grid cell and angle bin, without the "
                          "fine search to pixel resolution (faster; the README compares both)")
    evaluate.add_argument("--scene-seed", type=int, default=None,
                          help="seed of the first held-out scene (default 7000000, the scenes "
                          "every report uses); another value gives fresh scenes of the same "
                          "held-out objects, such as 7100000")
    evaluate.set_defaults(func=cmd_evaluate)

    demo = sub.add_parser("demo", help="the main job: adversarial and self-supervised "
                          "training with one budget, evaluation and a report")
    demo.add_argument("--preset", default="demo", choices=sorted(PRESETS),
                      help="starting values of both runs (default demo)")
    demo.add_argument("--run-dir", default="runs/demo",
                      help="folder of the two runs and the report (default runs/demo)")
    add_config_arguments(demo)
    demo.set_defaults(func=cmd_demo)
    gan_cli.register(sub)
    study_cli.register(sub)
    play_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except AdvGraspError as err:
        print(f"advgrasp: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        print(f"advgrasp: interrupted{': ' + str(err) if str(err) else ''}", file=sys.stderr)
        return 130
    except OSError as err:  # an output path that is a file, a missing parent, no permission
        where = f" {err.filename!r}" if err.filename else ""
        print(f"advgrasp: error: cannot use{where}: {err.strerror or err}; pick a writable "
              "folder path", file=sys.stderr)
        return 2
    except Exception as err:
        from gan_core.errors import GanCoreError
        if isinstance(err, GanCoreError):
            print(f"advgrasp: error: {err}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
