"""Who scores what in expert pre-scoring: a pure-Python planner (no Django), tested with literal data.

Rules (issue: screening and judging): every proposal gets exactly k judges; loads differ by at most one; a judge is
never given a proposal listed in ``forbidden`` (declared conflicts, shared affiliations); the judge–proposal graph is
connected, so the additive judge-effect model can put every judge on one scale. When the rules cannot all hold, the
planner raises ``AssignmentImpossible`` with a message that says which rule fails and why.
"""

import random
from collections import defaultdict


class AssignmentImpossible(ValueError):
    """``code`` names the rule that fails and ``params`` its figures, so the web layer can say it in the user's
    language; ``str()`` is the English explanation."""

    def __init__(self, code, message, **params):
        super().__init__(message)
        self.code = code
        self.params = params


def _components(plan, judges):
    """Connected components of the bipartite judge–proposal graph, as sets of proposals."""
    parent: dict[tuple[str, object], tuple[str, object]] = {}  # union-find over ("p", proposal) and ("j", judge)

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for proposal, assigned in plan.items():
        for judge in assigned:
            a, b = find(("p", proposal)), find(("j", judge))
            if a != b:
                parent[a] = b
    groups = defaultdict(set)
    for proposal in plan:
        groups[find(("p", proposal))].add(proposal)
    return list(groups.values())


def is_connected(plan, judges=()):
    return len(_components(plan, judges)) <= 1


def plan_assignment(proposals, judges, k=3, forbidden=(), seed=0):
    """Return {proposal: [judge, ...]} (k judges each). ``proposals`` and ``judges`` are hashable ids."""
    proposals, judges = list(proposals), list(judges)
    forbidden = set(forbidden)
    if k < 1:
        raise AssignmentImpossible("k", "Each proposal needs at least one judge.", k=k)
    if not proposals:
        raise AssignmentImpossible("no_proposals", "There are no proposals to assign.")
    if len(judges) < k:
        raise AssignmentImpossible(
            "few_judges", f"{len(judges)} judges cannot give every proposal {k} judges.", judges=len(judges), k=k
        )
    if len(proposals) * k < len(proposals) + len(judges) - 1:
        raise AssignmentImpossible(
            "sparse",
            f"{len(proposals)} proposals with {k} judges each make {len(proposals) * k} score sheets, too few to link "
            f"{len(judges)} judges into one connected design (at least {len(proposals) + len(judges) - 1} needed); "
            "use fewer judges or raise k.",
            proposals=len(proposals),
            judges=len(judges),
            k=k,
            sheets=len(proposals) * k,
            needed=len(proposals) + len(judges) - 1,
        )
    rng = random.Random(seed)
    eligible = {p: [j for j in judges if (j, p) not in forbidden] for p in proposals}
    short = [p for p in proposals if len(eligible[p]) < k]
    if short:
        raise AssignmentImpossible(
            "conflicts",
            f"{len(short)} proposal(s) have fewer than {k} judges without a conflict (for example {short[0]!r} has "
            f"{len(eligible[short[0]])}); add judges or lower k.",
            n=len(short),
            k=k,
            example=short[0],
            available=len(eligible[short[0]]),
        )
    load = dict.fromkeys(judges, 0)
    order = sorted(proposals, key=lambda p: (len(eligible[p]), rng.random()))
    plan = {}
    for p in order:
        candidates = sorted(eligible[p], key=lambda j: (load[j], rng.random()))
        chosen = candidates[:k]
        for j in chosen:
            load[j] += 1
        plan[p] = chosen
    _balance(plan, eligible, load, rng)
    _connect(plan, eligible, judges)
    spread = max(load.values()) - min(load.values())
    if spread > 1:
        raise AssignmentImpossible(
            "balance",
            f"Loads cannot be balanced within one (they range from {min(load.values())} to {max(load.values())}): "
            "the conflicts leave some judges too few proposals they may score.",
            low=min(load.values()),
            high=max(load.values()),
        )
    if not is_connected(plan, judges):
        raise AssignmentImpossible(
            "disconnected",
            "The conflicts split the judges and proposals into separate groups that share no judge, so scores of "
            "different groups cannot be put on one scale; add a judge who may score in both groups.",
        )
    return {p: sorted(plan[p], key=judges.index) for p in proposals}


def _balance(plan, eligible, load, rng):
    """Move single assignments from the heaviest judges to the lightest eligible ones until loads differ by ≤ 1."""
    for _ in range(10 * sum(load.values()) + 10):
        heavy = max(load.values())
        light = min(load.values())
        if heavy - light <= 1:
            return
        moved = False
        heavies = [j for j in load if load[j] == heavy]
        rng.shuffle(heavies)
        for h in heavies:
            for p, assigned in plan.items():
                if h not in assigned:
                    continue
                options = [j for j in eligible[p] if j not in assigned and load[j] <= heavy - 2]
                if options:
                    j = min(options, key=lambda x: load[x])
                    assigned[assigned.index(h)] = j
                    load[h] -= 1
                    load[j] += 1
                    moved = True
                    break
            if moved:
                break
        if not moved:
            return


def _connect(plan, eligible, judges):
    """Join components by swapping one judge between two proposals of different components. Loads are unchanged;
    a swap is kept only when it lowers the number of components."""
    while True:
        comps = _components(plan, judges)
        if len(comps) <= 1 or not _try_join(plan, eligible, judges, comps):
            return


def _try_join(plan, eligible, judges, comps):
    before = len(comps)
    for a_index, a in enumerate(comps):
        for b in comps[a_index + 1 :]:
            for pa in sorted(a, key=str):
                for pb in sorted(b, key=str):
                    for ja in list(plan[pa]):
                        for jb in list(plan[pb]):
                            if ja == jb or jb not in eligible[pa] or ja not in eligible[pb]:
                                continue
                            if jb in plan[pa] or ja in plan[pb]:
                                continue
                            ia, ib = plan[pa].index(ja), plan[pb].index(jb)
                            plan[pa][ia], plan[pb][ib] = jb, ja
                            if len(_components(plan, judges)) < before:
                                return True
                            plan[pa][ia], plan[pb][ib] = ja, jb
    return False
