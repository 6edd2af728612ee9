"""Condition orders counterbalanced across participants: the balanced Latin square.

A balanced Latin square (Williams 1949) puts every condition once at every position and lets
every condition directly follow every other one equally often, so first-order carry-over
effects cancel. For n conditions the first order is 0, 1, n-1, 2, n-2, 3, ... and order r adds
r to each entry (mod n). With an odd n the n orders cannot balance the pairs; the n reversed
orders are added, giving 2n orders in which each ordered pair is adjacent exactly twice.
"""

from __future__ import annotations

from advgrasp.study.errors import StudyDataError


def balanced_latin_square(n: int) -> list[list[int]]:
    """The condition orders for `n` conditions: n orders for even n, 2n for odd n.

    Args:
        n: number of conditions, at least 1.

    Returns:
        A list of orders; each order lists the condition indices 0..n-1 in the sequence a
        participant meets them. Participant k (0-based) takes order k mod len(orders).
    """
    if n < 1:
        raise StudyDataError(f"a Latin square needs at least 1 condition, got {n}")
    first, low, high = [0], 1, n - 1
    while len(first) < n:
        first.append(low)
        low += 1
        if len(first) < n:
            first.append(high)
            high -= 1
    orders = [[(c + r) % n for c in first] for r in range(n)]
    if n % 2 and n > 1:
        orders += [order[::-1] for order in orders]
    return orders


def order_for(participant_number: int, n_conditions: int) -> list[int]:
    """The condition order of the participant added `participant_number`-th (0-based)."""
    orders = balanced_latin_square(n_conditions)
    return orders[participant_number % len(orders)]
