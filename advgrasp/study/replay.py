"""Replay: re-simulate a logged session and check that every logged outcome comes out again.

The robot starts again from the session's starting checkpoint (or the same seeded fresh
robot), meets the same scenes, chooses its grasps with the same random draws, learns from the
same outcomes and receives the logged pushes. For every trial the replay compares what the
log says with what the simulation gives: object, seed, the grasp pose (x, y, theta) and its
predicted success, the model version, R_R, R_H and the reward. A logged grasp pose that was
altered after the session shows up as a mismatch, as does any change to the simulator or the
learner that changes an outcome.
"""

from __future__ import annotations

import logging
import math
import shutil
from dataclasses import dataclass, field

from advgrasp.study.store import StudyStore

log = logging.getLogger(__name__)

EXACT = ("object", "seed", "model_version", "r_r", "r_h", "reward", "perturbation")
CLOSE = {"grasp_x": 1e-9, "grasp_y": 1e-9, "grasp_theta": 1e-9, "predicted_success": 1e-6}
"""Fields compared exactly, and floats compared within an absolute tolerance (m, rad, 1)."""


@dataclass
class ReplayResult:
    """What a replay found.

    Attributes:
        session_id: the session replayed.
        trials: trials replayed (practice included).
        mismatches: one dict per differing field: trial_id (the database id that
            `advgrasp study exclude --trial` takes), index (position in the session, from 0,
            counted separately for practice), practice, field, logged, replayed.
    """

    session_id: int
    trials: int
    mismatches: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def lines(self) -> list[str]:
        head = (f"session {self.session_id}: {self.trials} trials replayed, "
                f"{'every outcome matches the log' if self.ok else 'MISMATCH'}")
        return [head] + [f"  trial id {m['trial_id']} "
                         f"({'practice' if m['practice'] else 'scored'} trial "
                         f"{m['index'] + 1} of the session): "
                         f"{m['field']} logged {m['logged']!r}, replayed {m['replayed']!r}"
                         for m in self.mismatches]


def _differs(name: str, logged, replayed) -> bool:
    if name in CLOSE:
        return not math.isclose(float(logged), float(replayed), rel_tol=0.0,
                                abs_tol=CLOSE[name])
    return logged != replayed


def replay_session(store: StudyStore, session_id: int) -> ReplayResult:
    """Re-simulate one logged session; see the module docstring for what is compared."""
    from advgrasp.human.settings import perturbation_from_name
    from advgrasp.human.trials import TrialRunner
    from advgrasp.study.simulate import runner_settings

    session = store.session(session_id)
    logged = store.finished_trials(session_id)
    result = ReplayResult(session_id, len(logged))
    runner = TrialRunner(runner_settings(session["settings"]), run_dir=None)
    scratch = runner.trainer.run_dir
    try:
        for trial in logged:
            held = runner.begin()
            push = perturbation_from_name(trial["perturbation"], runner.allowed)
            if push is not None and not held.lifted:
                push = None  # the replayed grasp missed: the mismatch on r_r reports it
            replayed = runner.push(push, trial["reaction_time_s"])
            for name in (*EXACT, *CLOSE):
                if _differs(name, trial[name], replayed[name]):
                    result.mismatches.append({"trial_id": trial["id"], "index": trial["index"],
                                              "practice": trial["practice"], "field": name,
                                              "logged": trial[name], "replayed": replayed[name]})
    finally:
        runner.close()
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("replayed session %d: %d trials, %d mismatches", session_id, result.trials,
             len(result.mismatches))
    return result


def replay_study(store: StudyStore, session_ids: list[int] | None = None) -> list[ReplayResult]:
    """Replay the given sessions, or every session of the study that logged a trial."""
    if session_ids is None:
        session_ids = [r["session_id"] for r in store.rows(
            "SELECT DISTINCT session_id FROM trials ORDER BY session_id")]
    return [replay_session(store, session_id) for session_id in session_ids]
