"""Study sessions without a window: scripted participants and matched controls.

`run_condition` plays one participant's session in one condition with the same trial logic as
the pygame window (`advgrasp.human.trials.TrialRunner`): in a human condition a
`ScriptedParticipant` chooses the pushes; in the other conditions a simulated adversary does
(random, oracle, the robot's jointly learned one, or none), on the same objects, budget and
scene seeds. Every trial is committed to the study the moment it ends. The robot each session
leaves behind is then evaluated on held-out poses and objects (`advgrasp.study.heldout`).
"""

from __future__ import annotations

import logging

import numpy as np

from advgrasp.study.errors import ParticipantStateError, StudyDataError
from advgrasp.study.heldout import evaluate_pending, robot_dir
from advgrasp.study.store import StudyStore
from envs.adversary import NoAdversary, OracleAdversary, RandomAdversary
from envs.perturbation import Perturbation, PerturbationSet

log = logging.getLogger(__name__)


class ScriptedParticipant:
    """A simple model of a person choosing pushes.

    The person keeps a Beta(1, 1) belief about how often each push direction knocks the object
    out and picks by sampling from these beliefs (Thompson sampling: they try things early and
    settle on what worked); they take the stronger level with probability `strength_bias`.
    Reaction times are log-normal with a median that falls from `rt_median_s` to 60 % of it
    as they practise; a draw beyond the time limit is a time-out (no push).

    Args:
        rng: the person's random generator (choices, reaction times, answers).
        allowed: the perturbations the environment allows.
        time_limit_s: the per-trial limit in seconds.
        rt_median_s: median reaction time of the first trials, in seconds.
        strength_bias: probability of choosing the strongest level of the chosen direction.
    """

    def __init__(self, rng: np.random.Generator, allowed: list[Perturbation],
                 time_limit_s: float, rt_median_s: float = 2.5, strength_bias: float = 0.7):
        self.rng, self.allowed, self.time_limit_s = rng, allowed, time_limit_s
        self.rt_median_s, self.strength_bias = rt_median_s, strength_bias
        self.directions = sorted({p.direction for p in allowed})
        self.wins = dict.fromkeys(self.directions, 1.0)
        self.losses = dict.fromkeys(self.directions, 1.0)
        self.pushes = 0

    def choose(self, held_state: dict) -> tuple[Perturbation | None, float | None]:
        """A push and the reaction time in seconds, or (None, None) on a time-out."""
        median = self.rt_median_s * (0.6 + 0.4 * np.exp(-self.pushes / 5))
        reaction = float(median * np.exp(self.rng.normal(0.0, 0.4)))
        if reaction > self.time_limit_s:
            return None, None
        belief = {d: self.rng.beta(self.wins[d], self.losses[d]) for d in self.directions}
        direction = max(belief, key=belief.get)
        levels = sorted((p for p in self.allowed if p.direction == direction),
                        key=lambda p: p.magnitude_n)
        strong = self.rng.random() < self.strength_bias
        return (levels[-1] if strong else levels[int(self.rng.integers(len(levels)))]), reaction

    def observe(self, push: Perturbation, dropped: bool) -> None:
        """What the person saw after a push."""
        self.pushes += 1
        if dropped:
            self.wins[push.direction] += 1
        else:
            self.losses[push.direction] += 1

    def answer(self, questionnaire: dict, drop_rate: float) -> dict[str, int]:
        """Likert answers: pushes felt effective and the block enjoyable in proportion to how
        often the person won, with noise of about one scale point."""
        low, high = questionnaire["scale"]["min"], questionnaire["scale"]["max"]
        centre = (low + high) / 2
        answers = {}
        for item in questionnaire["items"]:
            lean = (drop_rate - 0.5) * (high - low) * 0.8
            value = centre - lean if item["reverse"] else centre + lean
            answers[item["id"]] = int(np.clip(round(value + self.rng.normal(0, 1.0)), low, high))
        return answers


def runner_settings(stored: dict):
    """The session runner's `SessionSettings` from settings stored with a session: the
    study's (`StudyStore.session_settings`) or the runner's own (`SessionSettings.as_dict`)."""
    from dataclasses import fields

    from advgrasp.human.settings import SessionSettings

    if set(stored) <= {f.name for f in fields(SessionSettings)}:
        return SessionSettings.from_dict(stored)
    return SessionSettings.from_study(stored, seed=stored.get("seed", 0),
                                      updates_per_trial=stored.get("updates_per_trial", 4))


def _adversary_for(kind: str, runner):
    if kind == "random":
        return RandomAdversary(runner.world.config.perturbations)
    if kind == "oracle":
        return OracleAdversary(runner.world)
    if kind == "learned":
        return runner.trainer.learned
    if kind == "none":
        return NoAdversary()
    raise StudyDataError(f"condition adversary {kind!r} runs with a person (human) or one of "
                         "random, oracle, learned, none")


def run_condition(store: StudyStore, code: str, condition: dict,
                  person: ScriptedParticipant | None = None) -> int:
    """Play (or resume) one participant's session in one condition without a window.

    Args:
        store: the open study.
        code: the participant's code.
        condition: the condition row (`StudyStore.condition`).
        person: the scripted participant; needed when the condition is human.

    Returns:
        The session id.
    """
    from advgrasp.human.trials import TrialRunner

    settings = store.session_settings(code, condition["id"])
    session_id = store.start_session(code, condition["id"], settings)
    done = store.finished_trials(session_id)
    runner = TrialRunner(runner_settings(settings),
                         run_dir=robot_dir(store, session_id))
    try:
        if done:
            runner.resume(done)
        kind = condition["adversary"]
        if kind == "human" and person is None:
            raise StudyDataError(f"condition {condition['name']} needs a person: pass a "
                                 "ScriptedParticipant")
        adversary = None if kind == "human" else _adversary_for(kind, runner)
        while not runner.finished:
            held = runner.begin()
            log.debug("session %d: trial %d grasped", session_id, held.index)
            push, reaction = None, None
            if held.lifted and adversary is None:
                push, reaction = person.choose(held.outcome.held_state)
            elif held.lifted:
                adversary.reset(np.random.default_rng(held.seed))
                push = adversary.act(held.outcome.held_state)
            trial = runner.push(push, reaction)
            store.record_trial(session_id, trial)
            log.debug("session %d: trial %d logged", session_id, held.index)
            if push is not None and adversary is None:
                person.observe(push, bool(trial["r_h"]))
        if kind == "human":
            scored = [t for t in store.finished_trials(session_id) if t["perturbation"]]
            rate = float(np.mean([t["r_h"] for t in scored])) if scored else 0.0
            store.record_answers(session_id, person.answer(
                store.study_config()["questionnaire"], rate))
        store.end_session(session_id, "finished")
    finally:
        runner.close()
    return session_id


def simulate_study(store: StudyStore, participants: int, evaluate: bool = True) -> dict:
    """Run a whole study with scripted participants S01, S02, ... (resuming a stopped run).

    Each participant plays every condition in their counterbalanced order; then every robot
    not yet evaluated is (`advgrasp.study.heldout.evaluate_pending`) when `evaluate` is set.

    Returns:
        {"participants": codes, "sessions": ids, "trials": scored trials logged}.
    """
    config = store.study_config()
    codes, sessions = [], []
    known = {p["code"] for p in store.participants()}
    for number in range(participants):
        code = f"S{number + 1:02d}"
        if code not in known:
            store.add_participant(code)
        row = store.participant(code)
        if row["withdrawn_at"]:
            continue
        codes.append(code)
        rng = np.random.default_rng([config["seed"], row["order_number"], 7])
        person = None
        while (condition := store.next_condition(code)) is not None:
            if person is None:
                person = ScriptedParticipant(rng, PerturbationSet().all, config["time_limit_s"])
            log.info("participant %s: condition %s", code, condition["name"])
            sessions.append(run_condition(store, code, condition, person))
    if evaluate:
        evaluate_pending(store)
    trials = store.rows("SELECT COUNT(*) AS n FROM trials WHERE practice = 0")[0]["n"]
    return {"participants": codes, "sessions": sessions, "trials": trials}


def run_controls(store: StudyStore, codes: list[str] | None = None,
                 evaluate: bool = True) -> dict:
    """Run the conditions without a person for participants already in the study.

    These are the matched controls of real participants: the same objects, budget and scene
    seeds as their sessions at the window. Conditions with a person are left to
    `advgrasp play`; finished sessions are skipped, a stopped one resumes. With `evaluate`,
    every finished session's robot not yet evaluated is then, the window sessions' included.

    Returns:
        {"participants": codes, "sessions": ids, "trials": scored trials logged}.
    """
    people = [store.participant(code) for code in codes] if codes else store.participants()
    named_withdrawn = [p["code"] for p in people if codes and p["withdrawn_at"]]
    if named_withdrawn:
        raise ParticipantStateError(f"participants {named_withdrawn} withdrew: their controls "
                                    "are not run; leave them out of --controls")
    finished = {(r["participant_id"], r["condition_id"]) for r in store.rows(
        "SELECT participant_id, condition_id FROM sessions WHERE status = 'finished'")}
    sessions = []
    for person in people:
        if person["withdrawn_at"]:
            log.info("participant %s withdrew: no controls", person["code"])
            continue
        for condition_id in person["condition_order"]:
            condition = store.condition(condition_id)
            if condition["adversary"] == "human" or (person["id"], condition_id) in finished:
                continue
            log.info("participant %s: control %s", person["code"], condition["name"])
            sessions.append(run_condition(store, person["code"], condition, None))
    if evaluate:
        evaluate_pending(store)
    trials = store.rows("SELECT COUNT(*) AS n FROM trials WHERE practice = 0")[0]["n"]
    return {"participants": [p["code"] for p in people if not p["withdrawn_at"]],
            "sessions": sessions, "trials": trials}
