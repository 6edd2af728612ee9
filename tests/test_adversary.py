"""The learned adversary against a frozen grasper: random < learned <= oracle."""

from advgrasp.evaluate import evaluate, geometric
from advgrasp.train import train_adversary_against


def test_learned_adversary_beats_random_and_stays_under_oracle():
    learned = train_adversary_against(geometric, attempts=300, seed=1)
    result = evaluate({"geometric": geometric}, object_sets=("random_urdfs",), scenes=60,
                      learned=learned)["results"]["random_urdfs"]["geometric"]
    drops = {name: r["drop_given_lifted"] for name, r in result["adversaries"].items()}
    assert result["lifted"] >= 30
    assert drops["random"] < drops["learned"] <= drops["oracle"], drops
