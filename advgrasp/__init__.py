"""Learning and people: grasp policy, adversarial trainer, evaluation, CLI."""
