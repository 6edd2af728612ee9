"""The study's TOML files: the study itself (conditions, trials, consent) and its questionnaire.

Both are read and checked completely at `advgrasp study init`, so a malformed file is refused
before anyone sits down, never in the middle of a session. The checked contents are stored in
the study database, which is then self-contained.

Study file (`assets/study/default.toml` is a complete example)::

    [study]
    name = "pilot"                 # free text
    seed = 0                       # seeds every trial's scene, the same in every condition
    consent = "..."                # shown before the first trial
    practice_trials = 2            # before the first condition with a person; not analysed
    trials_per_condition = 12      # the default budget of a condition
    time_limit_s = 10.0            # per trial; no push is logged when it runs out
    questionnaire = "questionnaire.toml"   # relative to the study file
    starting_checkpoint = ""       # run folder or policy.pt; "" = a fresh seeded robot
    object_set = "assets"          # objects of the trials
    held_out_scenes = 20           # scenes per object set when the resulting robots are evaluated
    updates_per_trial = 4          # learning rounds of the robot after each scored trial
    held_out_sets = ["assets", "random_urdfs"]   # object sets whose test split evaluates them

    [participants]
    fields = []                    # extra fields asked at add-participant; none by default

    [[conditions]]                 # one table per condition
    name = "human"
    adversary = "human"            # human, random, oracle, learned or none
    objects = ["mug", "box"]       # trials cycle through these
    budget = 12                    # optional: trials of this condition
    starting_checkpoint = ""       # optional: overrides the study's
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from advgrasp.study.checks import check_checkpoint, check_objects, check_time_limit, object_names
from advgrasp.study.errors import StudyConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 has no tomllib; tomli is the same parser under another name
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None

DEFAULT_STUDY = Path(os.environ.get("ADVGRASP_ASSETS", Path(__file__).resolve().parents[2]
                                   / "assets")) / "study" / "default.toml"
"""The study file shipped with the project (three conditions, see the file)."""

ADVERSARY_KINDS = ("human", "random", "oracle", "learned", "none")
"""What pushes the held object in a condition; every kind but human runs without a person."""

MAX_PRACTICE_TRIALS = 20
"""Practice trials beyond this are a typo: a session of practice nobody sits through."""
MAX_BUDGET = 1000
"""Scored trials of one condition beyond this are a typo (a session is ~15 minutes)."""
TABLES = ("study", "participants", "conditions")
"""The top-level tables of a study file."""

IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")

STUDY_DEFAULTS = {"name": "study", "seed": 0, "consent": "", "practice_trials": 2,
                  "trials_per_condition": 12, "time_limit_s": 10.0,
                  "questionnaire": "questionnaire.toml", "starting_checkpoint": "",
                  "object_set": "assets", "held_out_scenes": 20, "updates_per_trial": 4,
                  "held_out_sets": ["assets", "random_urdfs"]}


def read_toml(path: str | Path, what: str) -> dict:
    """Parse a TOML file, naming the file and the line of a syntax error."""
    path = Path(path)
    if tomllib is None:
        raise StudyConfigError(f"cannot read {what} {path}: Python {sys.version.split()[0]} has "
                               "no tomllib; install tomli or use Python 3.11+")
    if not path.is_file():
        raise StudyConfigError(f"{what} {path} does not exist; pass the path of a TOML file "
                               "such as assets/study/default.toml")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise StudyConfigError(f"{what} {path} is not valid TOML: {err}; fix the file and "
                               "run the command again") from None


def _typed(table: dict, key: str, kinds: tuple, where: str, default=None):
    value = table.get(key, default)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise StudyConfigError(f"{where}: {key} = {value!r} must be a {names}")
    return value


def load_questionnaire(path: str | Path) -> dict:
    """Read and check a questionnaire of Likert items.

    Format::

        title = "After this block"
        [scale]
        min = 1
        max = 7
        labels = ["strongly disagree", ..., "strongly agree"]   # optional, one per point
        [[items]]
        id = "robot_improved"          # letters, digits, underscores
        text = "The robot got better at holding on during this block."
        reverse = false                # optional: a reverse-keyed item

    Returns:
        {"title", "scale": {"min", "max", "labels"}, "items": [{"id", "text", "reverse"}]}.

    Raises:
        StudyConfigError: naming the file and the bad entry.
    """
    raw = read_toml(path, "questionnaire file")
    where = f"questionnaire file {path}"
    scale = raw.get("scale")
    if not isinstance(scale, dict):
        raise StudyConfigError(f"{where} has no [scale] table; add one with min and max "
                               "(for example min = 1, max = 7)")
    low = _typed(scale, "min", (int,), f"{where} [scale]")
    high = _typed(scale, "max", (int,), f"{where} [scale]")
    if high <= low:
        raise StudyConfigError(f"{where} [scale]: max {high} must be above min {low}")
    labels = _typed(scale, "labels", (list,), f"{where} [scale]", default=[])
    if labels and (len(labels) != high - low + 1 or not all(isinstance(t, str) for t in labels)):
        raise StudyConfigError(f"{where} [scale]: labels must be {high - low + 1} strings, one "
                               f"per point from {low} to {high} (got {len(labels)})")
    items = raw.get("items")
    if not isinstance(items, list) or not items:
        raise StudyConfigError(f"{where} has no [[items]]; add at least one item with id and "
                               "text")
    checked, seen = [], set()
    for number, item in enumerate(items, 1):
        at = f"{where} item {number}"
        if not isinstance(item, dict):
            raise StudyConfigError(f"{at} must be a table with id and text")
        item_id = _typed(item, "id", (str,), at)
        if not IDENTIFIER.match(item_id):
            raise StudyConfigError(f"{at}: id {item_id!r} must start with a letter and hold "
                                   "only letters, digits and underscores (at most 40)")
        if item_id in seen:
            raise StudyConfigError(f"{at}: id {item_id!r} is used twice; give each item its own")
        text = _typed(item, "text", (str,), at)
        if not text.strip():
            raise StudyConfigError(f"{at} ({item_id}): text is empty; write the statement")
        unknown = set(item) - {"id", "text", "reverse"}
        if unknown:
            raise StudyConfigError(f"{at} ({item_id}): unknown keys {sorted(unknown)}; use id, "
                                   "text and reverse")
        checked.append({"id": item_id, "text": text.strip(),
                        "reverse": _typed(item, "reverse", (bool,), at, default=False)})
        seen.add(item_id)
    return {"title": str(raw.get("title", "Questionnaire")),
            "scale": {"min": low, "max": high, "labels": list(labels)}, "items": checked}


def load_study_config(path: str | Path) -> dict:
    """Read and check a study file and the questionnaire it names.

    Returns:
        The study settings (`STUDY_DEFAULTS` filled in), with "conditions" (a list of
        {"name", "adversary", "objects", "budget", "starting_checkpoint"}),
        "participant_fields", the checked "questionnaire" and "questionnaire_file" (its
        path).

    Raises:
        StudyConfigError: naming the file and the bad entry.
    """
    path = Path(path)
    raw = read_toml(path, "study file")
    where = f"study file {path}"
    unknown_tables = sorted(set(raw) - set(TABLES))
    if unknown_tables:
        raise StudyConfigError(f"{where}: unknown top-level entries {unknown_tables}; a study "
                               f"file holds only the tables {list(TABLES)} (check spelling)")
    study = raw.get("study", {})
    if not isinstance(study, dict):
        raise StudyConfigError(f"{where}: study must be a [study] table")
    unknown = set(study) - set(STUDY_DEFAULTS)
    if unknown:
        raise StudyConfigError(f"{where} [study]: unknown keys {sorted(unknown)}; known keys "
                               f"are {sorted(STUDY_DEFAULTS)}")
    config = {}
    for key, default in STUDY_DEFAULTS.items():
        kinds = (int, float) if isinstance(default, float) else (type(default),)
        config[key] = _typed(study, key, kinds, f"{where} [study]", default=default)
    for key in ("practice_trials", "held_out_scenes", "updates_per_trial"):
        if config[key] < 0:
            raise StudyConfigError(f"{where} [study]: {key} = {config[key]} must be >= 0")
    if config["seed"] < 0:
        raise StudyConfigError(f"{where} [study]: seed = {config['seed']} must be >= 0")
    if config["practice_trials"] > MAX_PRACTICE_TRIALS:
        raise StudyConfigError(f"{where} [study]: practice_trials = {config['practice_trials']} "
                               f"is more than {MAX_PRACTICE_TRIALS}; give a few, such as 2")
    if not 1 <= config["trials_per_condition"] <= MAX_BUDGET:
        raise StudyConfigError(f"{where} [study]: trials_per_condition = "
                               f"{config['trials_per_condition']} must be from 1 to "
                               f"{MAX_BUDGET}")
    config["time_limit_s"] = check_time_limit(config["time_limit_s"], StudyConfigError,
                                              f"{where} [study] time_limit_s")
    sets = config["held_out_sets"] = list(config["held_out_sets"])
    if not all(isinstance(name, str) and name for name in sets):
        raise StudyConfigError(f"{where} [study]: held_out_sets = {sets!r} must be a list of "
                               "object set names, such as [\"assets\", \"random_urdfs\"]")
    for name in [config["object_set"], *sets]:
        object_names(name, StudyConfigError, f"{where} [study] object set {name!r}")
    fields = _typed(raw.get("participants", {}), "fields", (list,), f"{where} [participants]",
                    default=[])
    for name in fields:
        if not isinstance(name, str) or not IDENTIFIER.match(name):
            raise StudyConfigError(f"{where} [participants]: field {name!r} must be a name of "
                                   "letters, digits and underscores")
    config["participant_fields"] = list(fields)
    config["conditions"] = _conditions(raw.get("conditions"), config, where)
    questionnaire = Path(config["questionnaire"])
    if not questionnaire.is_absolute():
        questionnaire = path.parent / questionnaire
    config["questionnaire"] = load_questionnaire(questionnaire)
    config["questionnaire_file"] = str(questionnaire)
    return config


def _conditions(tables, config: dict, where: str) -> list[dict]:
    if not isinstance(tables, list) or not tables:
        raise StudyConfigError(f"{where} has no [[conditions]]; add at least one with name, "
                               "adversary and objects")
    conditions, names, checked_checkpoints = [], set(), set()
    for number, table in enumerate(tables, 1):
        at = f"{where} condition {number}"
        name = _typed(table, "name", (str,), at)
        if not IDENTIFIER.match(name) or name in names:
            raise StudyConfigError(f"{at}: name {name!r} must be a unique identifier (letters, "
                                   "digits, underscores)")
        adversary = _typed(table, "adversary", (str,), at)
        if adversary not in ADVERSARY_KINDS:
            raise StudyConfigError(f"{at} ({name}): adversary {adversary!r}: use one of "
                                   f"{ADVERSARY_KINDS}")
        objects = _typed(table, "objects", (list,), at)
        if not objects or not all(isinstance(o, str) and o for o in objects):
            raise StudyConfigError(f"{at} ({name}): objects must be a non-empty list of object "
                                   "names, such as [\"mug\"]")
        budget = _typed(table, "budget", (int,), at, default=config["trials_per_condition"])
        if not 1 <= budget <= MAX_BUDGET:
            raise StudyConfigError(f"{at} ({name}): budget {budget} must be from 1 to "
                                   f"{MAX_BUDGET} trials")
        check_objects(objects, config["object_set"], StudyConfigError, f"{at} ({name})")
        unknown = set(table) - {"name", "adversary", "objects", "budget", "starting_checkpoint"}
        if unknown:
            raise StudyConfigError(f"{at} ({name}): unknown keys {sorted(unknown)}")
        checkpoint = _typed(table, "starting_checkpoint", (str,), at,
                            default=config["starting_checkpoint"])
        if checkpoint not in checked_checkpoints:
            check_checkpoint(checkpoint, StudyConfigError, f"{at} ({name})")
            checked_checkpoints.add(checkpoint)
        conditions.append({"name": name, "adversary": adversary, "objects": list(objects),
                           "budget": budget, "starting_checkpoint": checkpoint})
        names.add(name)
    return conditions
