"""The robots a study produced, evaluated on held-out poses and objects.

Each session leaves its robot's checkpoint in `STUDY.sessions/session-ID/` (simulated and
window sessions alike). Every robot is evaluated the same way: `advgrasp.evaluate.evaluate`
with its fixed seed, on the test split of each of the study's `held_out_sets`, every lifted
grasp pushed by the random and the oracle adversary from the same saved state. One row per
session and object set goes into the `evaluations` table.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from advgrasp.study.errors import StudyDataError
from advgrasp.study.sessions import now
from advgrasp.study.store import StudyStore

log = logging.getLogger(__name__)


def robot_dir(store: StudyStore, session_id: int) -> Path:
    """Where a session's robot checkpoint lives: `STUDY.sessions/session-ID/` beside the
    study file (the window sessions of `advgrasp play` use the same place)."""
    return store.path.with_name(store.path.stem + ".sessions") / f"session-{session_id}"


def session_robot(store: StudyStore, session_id: int):
    """The grasp policy a session ended with, read from its checkpoint."""
    from advgrasp.agents import GraspPolicy
    from advgrasp.train import CHECKPOINT
    from envs.world import WorldConfig
    from gan_core.checkpoint import read_checkpoint

    path = robot_dir(store, session_id) / CHECKPOINT
    if not path.is_file():
        raise StudyDataError(f"session {session_id} left no robot checkpoint at {path}; it "
                             "learned nothing (no scored trial) or its folder was removed")
    state, extra = read_checkpoint(path, None)
    config, world = extra["config"], WorldConfig()
    policy = GraspPolicy(config["image_size"], world.workspace_side_m, world.depth_range_m,
                         config["width"], net=config.get("grasp_net", "angles"))
    policy.net.load_state_dict(state["players"]["grasper"]["model"])
    return policy


def evaluate_robot(store: StudyStore, session_id: int, policy) -> list[dict]:
    """Evaluate one robot on the study's held-out scenes and log one row per object set."""
    from advgrasp.evaluate import evaluate, policy_chooser

    config = store.study_config()
    result = evaluate({"robot": policy_chooser(policy)}, tuple(config["held_out_sets"]),
                      scenes=config["held_out_scenes"], image_size=policy.image_size,
                      keep_images=0)
    rows = []
    with store.write() as c:
        for set_name, by_chooser in result["results"].items():
            r = by_chooser["robot"]
            row = (session_id, set_name, result["scenes"], r["grasp_success"],
                   r["adversaries"]["random"]["robust_success"],
                   r["adversaries"]["oracle"]["robust_success"], json.dumps(r), now())
            c.execute("INSERT OR REPLACE INTO evaluations (session_id, object_set, scenes, "
                      "grasp_success, robust_random, robust_oracle, result_json, evaluated_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            rows.append(dict(zip(("session_id", "object_set", "scenes", "grasp_success",
                                  "robust_random", "robust_oracle"), row[:6], strict=True)))
    return rows


def evaluate_pending(store: StudyStore) -> list[int]:
    """Evaluate the robot of every finished session that has no evaluation yet (withdrawn
    participants' sessions are skipped). Returns the sessions evaluated."""
    if not store.study_config()["held_out_scenes"]:
        return []
    pending = [r["id"] for r in store.rows(
        "SELECT s.id FROM sessions s JOIN participants p ON p.id = s.participant_id WHERE "
        "s.status = 'finished' AND p.withdrawn_at IS NULL AND NOT EXISTS (SELECT 1 FROM "
        "evaluations e WHERE e.session_id = s.id) ORDER BY s.id")]
    for session_id in pending:
        log.info("evaluating the robot of session %d on held-out scenes", session_id)
        evaluate_robot(store, session_id, session_robot(store, session_id))
    return pending
