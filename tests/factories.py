"""Small factories for tests: plain functions with sensible defaults, keyword overrides."""

import itertools
import random
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from stdnum.cn import uscc as stdnum_uscc

from judging.models import (
    Assignment,
    ConflictDeclaration,
    ConflictEntry,
    ConflictEntryKind,
    ConflictStatus,
    Criterion,
    Judge,
    Panel,
)
from venture.accounts.models import User
from venture.competitions.models import BudgetCategory, Category, Competition, Stage, TranchePlanItem
from venture.organizations.models import Membership, Organization, OrgStatus
from venture.proposals.models import BudgetLine, Proposal, ProposalStatus

PASSWORD = "Test-pass-2026"
_counter = itertools.count(1)


def user(username=None, role="applicant", **extra):
    username = username or f"user{next(_counter)}"
    u = User(username=username, role=role, full_name=extra.pop("full_name", username), **extra)
    u.set_password(PASSWORD)
    u.save()
    return u


def valid_uscc(seed=None):
    rng = random.Random(seed if seed is not None else next(_counter))
    body = "52" + "419900" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + stdnum_uscc.calc_check_digit(body)


def organization(name=None, owner=None, status=OrgStatus.VERIFIED, **extra):
    n = next(_counter)
    org = Organization.objects.create(
        name=name or f"测试社会组织{n}",
        uscc=extra.pop("uscc", None) or valid_uscc(n * 7919),
        org_type=extra.pop("org_type", "social_service"),
        registration_authority="示范市民政局",
        registration_date=date(2018, 5, 1),
        legal_representative="王法人",
        contact_person="李联系",
        mobile="13800138000",
        email=f"org{n}@example.org",
        address="示范市建设路1号",
        service_area="示范市",
        status=status,
        **extra,
    )
    if owner is not None:
        Membership.objects.create(organization=org, user=owner, is_owner=True)
    return org


def competition(stage=Stage.OPEN, **extra):
    now = timezone.now()
    defaults = dict(
        title="测试创投大赛",
        year=now.year,
        organizer="示范市总工会",
        fund_pool=Decimal("1000000.00"),
        min_grant=Decimal("50000.00"),
        max_grant=Decimal("150000.00"),
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=10),
        finalist_quota=12,
        project_start_earliest=(now + timedelta(days=30)).date(),
        project_end_latest=(now + timedelta(days=30 + 400)).date(),
        min_project_months=3,
        max_project_months=12,
        stage=stage,
    )
    defaults.update(extra)
    c = Competition.objects.create(**defaults)
    for i, name in enumerate(["权益保障", "技能培训"]):
        Category.objects.create(competition=c, name=name, order=i)
    BudgetCategory.objects.create(competition=c, name="人员经费", cap_percent=Decimal("30"), order=0)
    BudgetCategory.objects.create(competition=c, name="活动经费", order=1)
    BudgetCategory.objects.create(
        competition=c, name="管理费", cap_percent=Decimal("10"), is_management_fee=True, order=2
    )
    for i, (pct, cond) in enumerate([(50, "signing"), (30, "midterm"), (20, "final")], start=1):
        TranchePlanItem.objects.create(competition=c, order=i, percent=Decimal(pct), condition=cond)
    for i, (code, name, pts) in enumerate(
        [
            ("targeting", "项目定位精准性", 25),
            ("feasibility", "内容可行性", 25),
            ("social_benefit", "社会效益", 30),
            ("budget", "资金预算", 20),
        ]
    ):
        Criterion.objects.create(competition=c, code=code, name=name, max_points=pts, weight=pts, order=i)
    return c


def proposal(competition, organization, status="draft", requested=Decimal("100000.00"), **extra):
    p = Proposal.objects.create(
        competition=competition,
        organization=organization,
        category=extra.pop("category", competition.categories.first()),
        title=extra.pop("title", f"测试项目{next(_counter)}"),
        target_group="外卖骑手",
        people_to_serve=200,
        service_area="示范市",
        needs="需求分析",
        objectives="项目目标",
        activities="活动安排",
        team="项目团队",
        period_start=competition.project_start_earliest,
        period_end=competition.project_start_earliest + timedelta(days=180),
        requested_amount=requested,
        status=status,
        **extra,
    )
    return p


def budget(proposal, lines):
    """lines: [(category name, unit_price, quantity)]"""
    cats = {c.name: c for c in proposal.competition.budget_categories.all()}
    objs = []
    for name, price, qty in lines:
        price, qty = Decimal(str(price)), Decimal(str(qty))
        objs.append(
            BudgetLine(
                proposal=proposal,
                category=cats[name],
                item=f"{name}项目",
                unit="项",
                unit_price=price,
                quantity=qty,
                amount=(price * qty).quantize(Decimal("0.01")),
            )
        )
    return BudgetLine.objects.bulk_create(objs)


# --- Judging: judges, finalists, panels and assignments ---------------------------------------------------------------


def judge(username=None, affiliation="示范大学社会工作学院", expertise="professor", email=None, **extra):
    """A judge account (role judge) with its Judge profile."""

    username = username or f"judge{next(_counter)}"
    u = user(
        username,
        role="judge",
        email=f"{username}@example.org" if email is None else email,
        full_name=extra.pop("full_name", username),
    )
    return Judge.objects.create(user=u, affiliation=affiliation, expertise=expertise, **extra)


def finalists(competition, n, **extra):
    """n finalist proposals, each from its own organization, titled 入围项目01, 入围项目02, …"""

    return [
        proposal(competition, organization(), status=ProposalStatus.FINALIST, title=f"入围项目{i:02d}", **extra)
        for i in range(1, n + 1)
    ]


def final_panel(competition, judges, proposals, recused=(), pending=(), stage="final"):
    """The panel of ``stage`` with every judge assigned every proposal, as assign_final_panel leaves it, and each
    conflict declared: ``recused`` and ``pending`` are (judge, proposal) pairs, every other pair is declared clear.
    Returns {(judge.pk, proposal.pk): Assignment}."""

    panel, _created = Panel.objects.get_or_create(competition=competition, stage=stage)
    panel.judges.set(judges)
    assignments = Assignment.objects.bulk_create(
        [Assignment(panel=panel, judge=j, proposal=p) for p in proposals for j in judges]
    )
    recused = {(j.pk, p.pk) for j, p in recused}
    pending = {(j.pk, p.pk) for j, p in pending}
    now = timezone.now()

    def status(a):
        key = (a.judge_id, a.proposal_id)
        return (
            ConflictStatus.RECUSED
            if key in recused
            else ConflictStatus.PENDING
            if key in pending
            else ConflictStatus.CLEAR
        )

    declarations = ConflictDeclaration.objects.bulk_create(
        [ConflictDeclaration(assignment=a, status=status(a)) for a in assignments]
    )
    ConflictEntry.objects.bulk_create(
        [
            ConflictEntry(
                declaration=d,
                panel=panel,
                judge_id=a.judge_id,
                proposal_id=a.proposal_id,
                status=d.status,
                kind=ConflictEntryKind.DECLARED_CONFLICT if d.status == "recused" else ConflictEntryKind.DECLARED_CLEAR,
                reason="曾为该机构提供督导" if d.status == "recused" else "",
                by_id=a.judge.user_id,
                at=now,
            )
            for a, d in zip(assignments, declarations, strict=True)
            if d.status != "pending"
        ]
    )
    return {(a.judge_id, a.proposal_id): a for a in assignments}
