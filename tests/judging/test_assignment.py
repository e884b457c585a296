from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judging.assignment import AssignmentImpossible, is_connected, plan_assignment


def loads(plan):
    return Counter(j for judges in plan.values() for j in judges)


def test_fifty_proposals_nine_judges_three_each():
    proposals = [f"P{i}" for i in range(50)]
    judges = [f"J{i}" for i in range(9)]
    plan = plan_assignment(proposals, judges, k=3, seed=1)
    assert all(len(plan[p]) == 3 and len(set(plan[p])) == 3 for p in proposals)
    counts = loads(plan)
    assert sum(counts.values()) == 150
    assert max(counts.values()) - min(counts.values()) <= 1
    assert sorted(set(counts.values())) == [16, 17]
    assert is_connected(plan)


def test_forbidden_pairs_are_never_assigned():
    proposals = [f"P{i}" for i in range(20)]
    judges = [f"J{i}" for i in range(6)]
    forbidden = {("J0", f"P{i}") for i in range(10)} | {("J1", "P3"), ("J2", "P3")}
    plan = plan_assignment(proposals, judges, k=3, forbidden=forbidden, seed=7)
    for p, assigned in plan.items():
        for j in assigned:
            assert (j, p) not in forbidden
    counts = loads(plan)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_too_few_judges_without_conflict_is_said_plainly():
    with pytest.raises(AssignmentImpossible) as exc:
        plan_assignment(["P1", "P2"], ["A", "B", "C"], k=3, forbidden={("A", "P2")})
    assert exc.value.code == "conflicts"
    assert exc.value.params == {"n": 1, "k": 3, "example": "P2", "available": 2}


def test_disconnected_design_is_refused():
    # Judges A, B may only score P1, P2; C, D only P3, P4: two groups that share no judge.
    forbidden = {("A", "P3"), ("A", "P4"), ("B", "P3"), ("B", "P4"), ("C", "P1"), ("C", "P2"), ("D", "P1"), ("D", "P2")}
    with pytest.raises(AssignmentImpossible) as exc:
        plan_assignment(["P1", "P2", "P3", "P4"], ["A", "B", "C", "D"], k=2, forbidden=forbidden)
    assert exc.value.code == "disconnected"


def test_unbalanceable_loads_are_refused():
    # J3 may score only P0, so it can carry 1 while the others carry about 4.
    proposals = [f"P{i}" for i in range(5)]
    forbidden = {("J3", f"P{i}") for i in range(1, 5)}
    with pytest.raises(AssignmentImpossible) as exc:
        plan_assignment(proposals, ["J0", "J1", "J2", "J3"], k=3, forbidden=forbidden)
    assert exc.value.code == "balance"


def test_same_seed_same_plan():
    args = ([f"P{i}" for i in range(30)], [f"J{i}" for i in range(7)])
    assert plan_assignment(*args, k=3, seed=5) == plan_assignment(*args, k=3, seed=5)


@settings(max_examples=60, deadline=None)
@given(n_p=st.integers(3, 40), n_j=st.integers(3, 12), k=st.integers(3, 4), seed=st.integers(0, 10_000))
def test_property_k_each_balanced_connected(n_p, n_j, k, seed):
    if n_j < k or n_p * k < n_p + n_j - 1:
        return
    plan = plan_assignment(range(n_p), range(n_j), k=k, seed=seed)
    assert all(len(set(v)) == k for v in plan.values())
    counts = loads(plan)
    values = [counts.get(j, 0) for j in range(n_j)]
    assert max(values) - min(values) <= 1
    assert is_connected(plan)


def test_too_few_sheets_to_connect_the_judges_is_said_plainly():
    with pytest.raises(AssignmentImpossible) as exc:
        plan_assignment(["P1", "P2", "P3"], [f"J{i}" for i in range(8)], k=3)
    assert exc.value.code == "sparse"
    assert exc.value.params["sheets"] == 9 and exc.value.params["needed"] == 10
