"""A replay buffer of fixed capacity over numpy arrays, saved whole in checkpoints."""

from __future__ import annotations

import numpy as np


class ReplayBuffer:
    """Ring buffer of named fields; the oldest rows are overwritten once full.

    Args:
        capacity: rows kept.
        spec: field name -> (shape of one row, dtype).
    """

    def __init__(self, capacity: int, spec: dict[str, tuple[tuple[int, ...], str]]):
        self.capacity = capacity
        self.data = {k: np.zeros((capacity, *shape), dtype=dtype) for k, (shape, dtype) in
                     spec.items()}
        self.size = 0
        self.next = 0

    def add(self, **row) -> None:
        for key, array in self.data.items():
            array[self.next] = row[key]
        self.next = (self.next + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        index = rng.integers(self.size, size=batch_size)
        return {k: v[index] for k, v in self.data.items()}

    def keep(self, mask: np.ndarray) -> None:
        """Drop the rows where `mask` (over the filled rows, in storage order) is False; the
        kept rows stay in the order they were added."""
        order = np.arange(self.size)
        if self.size == self.capacity:  # wrapped: the oldest row is at `next`
            order = (self.next + order) % self.capacity
        kept = order[np.asarray(mask)[order]]
        for array in self.data.values():
            array[:len(kept)] = array[kept]
        self.size = len(kept)
        self.next = self.size % self.capacity

    def __len__(self) -> int:
        return self.size

    def state_dict(self) -> dict:
        # Only the filled rows: a checkpoint of a young run stays small.
        return {"capacity": self.capacity, "size": self.size, "next": self.next,
                "data": {k: v[:self.size].copy() for k, v in self.data.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.size, self.next = state["size"], state["next"]
        for key, rows in state["data"].items():
            self.data[key][:len(rows)] = rows
