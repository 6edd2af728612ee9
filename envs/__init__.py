"""The simulator: a PyBullet grasping world with adversarial pushes, and Gymnasium envs.

Importing this package registers `advgrasp/Grasp-v0` and `advgrasp/AdversarialGrasp-v0`, so
`gymnasium.make("envs:advgrasp/AdversarialGrasp-v0")` works without a prior import.
"""

from gymnasium.envs.registration import register, registry

from envs.adversary import Adversary, NoAdversary, OracleAdversary, RandomAdversary
from envs.baseline import geometric_grasp
from envs.camera import TopDownCamera
from envs.errors import (
    AdvGraspError,
    ConfigError,
    InvalidActionError,
    ObjectLoadError,
    ObjectSetError,
    WorldStateError,
)
from envs.grasp_env import ANGLE_BINS, AdversarialGraspEnv, GraspEnv
from envs.objects import ObjectSet, object_set
from envs.perturbation import DIRECTIONS, Perturbation, PerturbationSet
from envs.world import GraspOutcome, GraspWorld, PerturbOutcome, WorldConfig

ENV_IDS = ("advgrasp/Grasp-v0", "advgrasp/AdversarialGrasp-v0")

for _id, _entry in zip(ENV_IDS, ("envs.grasp_env:GraspEnv", "envs.grasp_env:AdversarialGraspEnv"),
                      strict=True):
    if _id not in registry:
        # No time limit: every episode ends by termination after its one step.
        register(id=_id, entry_point=_entry)

__all__ = [
    "ANGLE_BINS", "DIRECTIONS", "ENV_IDS", "AdvGraspError", "Adversary", "AdversarialGraspEnv",
    "ConfigError", "GraspEnv", "GraspOutcome", "GraspWorld", "InvalidActionError", "NoAdversary",
    "ObjectLoadError", "ObjectSet", "ObjectSetError", "OracleAdversary", "PerturbOutcome",
    "Perturbation", "PerturbationSet", "RandomAdversary", "TopDownCamera", "WorldConfig",
    "WorldStateError", "geometric_grasp", "object_set",
]
