"""Demo data: a fictional city union (示范市总工会) and its venture-philanthropy round, modelled on the round that
domain.md describes (50+ applications, strict preliminary review, 12 finalists, a roadshow before 9 judges).

Everything is invented: the city, the organizations, the people. The builder is deterministic (a seeded random
generator) and idempotent (``build`` does nothing when the demo round exists). Each lifecycle stage adds its part
here so that the demo shows every stage.
"""

import random
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from stdnum.cn import uscc as stdnum_uscc

from judging import ranking
from judging import services as judging
from judging.models import Criterion, Expertise, Judge, PanelStage, Roadshow, RoadshowPhase
from venture.accounts.models import Role, User
from venture.awards import services as awards
from venture.awards.models import Award, AwardGrade, AwardStatus
from venture.awards.services import create_agreement
from venture.competitions.models import (
    BudgetCategory,
    Category,
    Competition,
    Stage,
    TrancheCondition,
    TranchePlanItem,
)
from venture.competitions.services import advance_stage
from venture.organizations.models import Membership, Organization, OrgStatus, OrgType
from venture.proposals.models import BudgetLine, Indicator, Milestone, Proposal, ProposalStatus, StatusChange
from venture.results import services as results
from venture.screening import services as screening
from venture.screening.models import ChecklistItem
from venture.supervision import services as sup
from venture.supervision.ledger import refresh_totals
from venture.supervision.models import EvaluationCriterion, EvaluationKind, Expenditure, ProgressReport, ReportStatus

DEMO_PASSWORD = "Demo-2026"
DEMO_ROUND_TITLE = "示范市总工会2026年新就业形态劳动者服务项目公益创投大赛"
NEXT_ROUND_TITLE = "示范市总工会2027年新就业形态劳动者服务项目公益创投大赛"  # the stage is not part of a title
CITY = "示范市"
TZ = timezone.get_fixed_timezone(8 * 60)

CATEGORIES = ["权益保障", "文化艺术", "技能培训", "子女成长赋能", "女性劳动者关爱"]

RUBRIC = [
    # code, name, max points = weight, description, bands
    (
        "targeting",
        "项目定位精准性",
        25,
        "服务对象是否明确为新就业形态劳动者，需求分析是否有调研依据。",
        [(21, 25, "优秀"), (16, 20, "良好"), (10, 15, "一般"), (0, 9, "较差")],
    ),
    (
        "feasibility",
        "内容可行性",
        25,
        "活动设计、进度安排、团队能力与风险应对是否可行。",
        [(21, 25, "优秀"), (16, 20, "良好"), (10, 15, "一般"), (0, 9, "较差")],
    ),
    (
        "social_benefit",
        "社会效益",
        30,
        "受益人数、服务成效、可持续性与示范推广价值。",
        [(25, 30, "优秀"), (19, 24, "良好"), (12, 18, "一般"), (0, 11, "较差")],
    ),
    (
        "budget",
        "资金预算",
        20,
        "预算是否细化、合理、与活动匹配，是否符合管理费等比例要求。",
        [(17, 20, "优秀"), (13, 16, "良好"), (8, 12, "一般"), (0, 7, "较差")],
    ),
]

BUDGET_CATEGORIES = [
    # name, cap %, management fee?
    ("人员经费", Decimal("30"), False),
    ("活动经费", None, False),
    ("专家劳务费", Decimal("15"), False),
    ("宣传及物料费", None, False),
    ("交通差旅费", Decimal("10"), False),
    ("管理费", Decimal("10"), True),
]

ORG_WORDS = [
    "晨曦",
    "同行",
    "暖蜂",
    "骑士之家",
    "益路",
    "星辰",
    "青禾",
    "暖心驿站",
    "向阳",
    "众益",
    "邻里",
    "春晖",
    "启航",
    "安途",
    "知行",
    "守望",
    "汇爱",
    "蒲公英",
    "彩虹桥",
    "微光",
    "同心",
    "聚力",
    "善行",
    "木棉",
    "新桥",
    "乐业",
    "惠民",
    "明德",
    "阳光",
    "初心",
    "和睦",
    "繁星",
    "远航",
    "绿荫",
    "润土",
    "红烛",
    "蓝天",
    "朝阳",
    "润心",
    "乐群",
    "共享",
    "同舟",
    "拾光",
    "灯塔",
    "山海",
    "心连心",
    "小橘灯",
    "恒爱",
    "雁阵",
    "长风",
    "启明",
    "澄明",
    "致远",
    "安心",
]
ORG_SUFFIX = [
    ("社会工作服务中心", OrgType.SOCIAL_SERVICE, "5", "2"),
    ("公益服务中心", OrgType.SOCIAL_SERVICE, "5", "2"),
    ("志愿者协会", OrgType.SOCIAL_GROUP, "5", "1"),
    ("社区发展促进会", OrgType.SOCIAL_GROUP, "5", "1"),
    ("公益基金会", OrgType.FOUNDATION, "5", "3"),
]
DISTRICTS = ["中原区", "金水区", "二七区", "管城区", "惠济区", "高新区", "经开区"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = [
    "志远",
    "晓明",
    "丽娟",
    "建国",
    "海燕",
    "文博",
    "子涵",
    "思远",
    "雨桐",
    "俊杰",
    "佳怡",
    "振华",
    "秀英",
    "国强",
    "慧敏",
    "浩然",
    "婷婷",
    "明轩",
    "欣怡",
    "立新",
    "春梅",
    "宇航",
    "嘉怡",
    "晨阳",
]

PROJECTS = {
    "权益保障": [
        ("骑手权益守护计划", "外卖骑手", "劳动合同与工伤保障法律咨询、维权个案陪伴、平台规则解读讲座"),
        ("快递小哥法律护航站", "快递员", "驿站法律援助、欠薪纠纷调解、职业伤害保障政策宣讲"),
        ("网约车司机权益服务驿站", "网约车司机", "算法与派单规则解读、纠纷调解、休息时间权益倡导"),
        ("货车司机平安行动", "货车司机", "超载罚款与运费纠纷咨询、职业伤害保障参保指导"),
        ("新业态劳动者工伤保障直通车", "外卖骑手和快递员", "工伤认定指导、理赔陪办、安全骑行培训"),
    ],
    "文化艺术": [
        ("骑手之声合唱团", "外卖骑手", "每周合唱排练、节日社区演出、职业故事分享会"),
        ("城市奔跑者摄影计划", "快递员和外卖骑手", "摄影技能工作坊、城市影像展、作品公益义卖"),
        ("新就业群体读书驿站", "网约车司机", "流动书箱、线上读书会、主题沙龙"),
        ("骑行者的城市记忆戏剧工作坊", "外卖骑手", "一人一故事剧场、社区演出、心理减压"),
        ("家政姐妹文艺汇", "家政服务员", "广场舞与戏曲兴趣小组、年终汇演"),
    ],
    "技能培训": [
        ("骑手学历提升与职业发展计划", "外卖骑手", "成人学历报名辅导、职业规划课程、数字技能培训"),
        ("快递员数字技能训练营", "快递员", "电商运营、短视频直播、办公软件实操课程"),
        ("家政服务员持证上岗培训", "家政服务员", "育婴员、养老护理员技能培训与考证辅导"),
        ("网约车司机安全驾驶与服务礼仪课堂", "网约车司机", "防御性驾驶、急救技能、乘客服务沟通"),
        ("新就业形态劳动者电工技能培训", "平台维修工", "低压电工实操培训与持证辅导"),
    ],
    "子女成长赋能": [
        ("小候鸟暑期托管营", "快递员和外卖骑手子女", "暑期托管、课业辅导、安全教育、亲子活动"),
        ("骑手子女四点半课堂", "外卖骑手子女", "放学后托管、作业辅导、阅读陪伴"),
        ("流动儿童成长护航计划", "新就业形态劳动者子女", "心理辅导、兴趣课程、家庭教育讲座"),
        ("小小城市探索家", "网约车司机子女", "周末城市探访、科普研学、亲子沟通工作坊"),
        ("春苗成长陪伴计划", "家政服务员子女", "一对一学业陪伴、寒暑假营会"),
    ],
    "女性劳动者关爱": [
        ("她骑行·女骑手关爱行动", "女性外卖骑手", "两癌筛查、经期关爱包、女性互助小组"),
        ("家政女工身心健康守护计划", "家政女工", "健康体检、心理疏导、法律知识讲座"),
        ("玫瑰驿站·女性快递员暖心服务", "女性快递员", "母婴关爱室、健康讲座、互助支持小组"),
        ("巾帼网约车司机互助计划", "女性网约车司机", "安全防护培训、互助社群、应急援助"),
        ("妈妈骑手的喘息时光", "育有幼儿的女骑手", "临时托育、亲子活动、压力疏导"),
    ],
}


def _now():
    return timezone.now()


def _aware(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def make_uscc(rng, reg_dept, org_cat, area="419900"):
    body = reg_dept + org_cat + area + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + stdnum_uscc.calc_check_digit(body)


def person_name(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile(rng):
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def money(value):
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def demo_exists():
    return Competition.objects.filter(title=DEMO_ROUND_TITLE).exists()


def check_allowed():
    if getattr(settings, "PRODUCTION", False):
        raise RuntimeError("Refusing to load demo data into a production configuration (VENTURE_PROFILE=production).")


def build(seed=2026, stdout=None):
    """Create the whole demo. Returns False (and does nothing) when the demo round already exists.

    The demo goes through the same service functions as the pages (so it also leaves an audit trail); the e-mails
    those services send are kept in memory instead of being printed."""

    check_allowed()
    if demo_exists():
        return False
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), transaction.atomic():
        return _build(seed)


def _build(seed):
    rng = random.Random(seed)
    people = build_people(rng)
    round_ = build_round()
    organizations = build_organizations(rng, people["applicants"])
    proposals = build_proposals(rng, round_, organizations)
    build_screening(rng, round_, proposals, people["staff"])
    build_prescoring(rng, round_, people["judges"], people["staff"])
    build_final_review(rng, round_, people["judges"], people["staff"])
    build_results(round_, people["staff"], people["auditor"])
    build_supervision(rng, organizations, people)
    build_next_round(rng, organizations)
    return True


_HASH = {}


def _user(username, role, full_name, email=None, **extra):
    # One hash for all demo accounts: hashing the shared password once keeps the demo load fast.
    if "hash" not in _HASH:
        _HASH["hash"] = make_password(DEMO_PASSWORD)
    user = User(
        username=username,
        role=role,
        full_name=full_name,
        email=email or f"{username}@demo.invalid",
        password=_HASH["hash"],
        **extra,
    )
    user.save()
    return user


JUDGES = [
    ("教授", "示范大学社会学院", Expertise.PROFESSOR),
    ("副教授", "示范师范学院社会工作系", Expertise.PROFESSOR),
    ("教授", "示范理工大学公共管理学院", Expertise.PROFESSOR),
    ("督导", "示范市社会工作协会", Expertise.SOCIAL_WORK),
    ("高级社工师", "示范市阳光社会工作发展研究院", Expertise.SOCIAL_WORK),
    ("中级社工师", "示范市社区治理研究中心", Expertise.SOCIAL_WORK),
    ("部长", "示范市总工会权益保障部", Expertise.UNION),
    ("副部长", "示范市总工会基层工作部", Expertise.UNION),
    ("主任科员", "示范市总工会财务部", Expertise.UNION),
]


def build_people(rng):
    staff = _user("staff", Role.STAFF, "赵工会（示例）", is_staff=True)
    auditor = _user("auditor", Role.AUDITOR, "钱监督（示例）")
    supervisor = _user("supervisor", Role.SUPERVISOR, "孙督导（示例）")
    judges = []
    for i, (title, affiliation, expertise) in enumerate(JUDGES, start=1):
        user = _user(f"judge{i}", Role.JUDGE, person_name(rng))
        judges.append(
            Judge.objects.create(
                user=user, title=title, affiliation=affiliation, expertise=expertise, phone=mobile(rng)
            )
        )
    return {"staff": staff, "auditor": auditor, "supervisor": supervisor, "judges": judges, "applicants": []}


def _set_up(c, rubric=True):
    """The demo rounds' service categories, budget rules, tranche plan (50/30/20) and, unless told not to, rubric."""
    for i, name in enumerate(CATEGORIES):
        Category.objects.create(competition=c, name=name, order=i)
    for i, (name, cap, mgmt) in enumerate(BUDGET_CATEGORIES):
        BudgetCategory.objects.create(competition=c, name=name, cap_percent=cap, is_management_fee=mgmt, order=i)
    for i, (pct, cond) in enumerate(
        [(50, TrancheCondition.SIGNING), (30, TrancheCondition.MIDTERM), (20, TrancheCondition.FINAL)], start=1
    ):
        TranchePlanItem.objects.create(competition=c, order=i, percent=Decimal(pct), condition=cond)

    for kind in (EvaluationKind.MIDTERM, EvaluationKind.FINAL):
        for i, (name, pts) in enumerate(EVALUATION_RUBRIC):
            EvaluationCriterion.objects.create(competition=c, kind=kind, name=name, max_points=Decimal(pts), order=i)
    if rubric:
        for i, (code, name, points, description, bands) in enumerate(RUBRIC):
            Criterion.objects.create(
                competition=c,
                code=code,
                name=name,
                description=description,
                max_points=Decimal(points),
                weight=Decimal(points),
                order=i,
                bands=[{"min": lo, "max": hi, "label": label} for lo, hi, label in bands],
            )


def build_round():
    c = Competition.objects.create(
        title=DEMO_ROUND_TITLE,
        year=2026,
        organizer="示范市总工会",
        description=(
            "## 项目背景\n\n为服务外卖骑手、快递员、网约车司机、货车司机、家政服务员等新就业形态劳动者，"
            "示范市总工会以“项目创投+专业服务”模式，面向劳动领域社会组织征集服务项目。\n\n"
            "## 申报条件\n\n- 在示范市登记注册、具有法人资格的社会组织；\n- 近两年无不良记录；\n"
            "- 具备开展项目的专业团队。\n\n## 评审方式\n\n初审 → 项目路演 + 现场答辩 → 评审小组综合评分"
            "（去掉一个最高分和一个最低分后取平均）→ 公示 5 个工作日。\n"
        ),
        fund_pool=Decimal("1000000.00"),
        min_grant=Decimal("50000.00"),
        max_grant=Decimal("150000.00"),
        opens_at=_aware(2026, 3, 1, 9),
        closes_at=_aware(2026, 4, 15, 17),
        finalist_quota=12,
        project_start_earliest=date(2026, 7, 1),
        project_end_latest=date(2027, 6, 30),
        min_project_months=6,
        max_project_months=12,
        cofunding_share=Decimal("0"),
        notice_working_days=5,
        tiebreak_criterion="social_benefit",
        stage=Stage.SCREENING,
    )
    _set_up(c)
    return c


def build_organizations(rng, applicants, count=54):
    organizations = []
    words = ORG_WORDS[:count]
    for i, word in enumerate(words, start=1):
        suffix, org_type, dept, cat = ORG_SUFFIX[i % len(ORG_SUFFIX)]
        contact = person_name(rng)
        # The last two organizations registered recently and wait for staff verification.
        status = OrgStatus.PENDING if i > count - 2 else OrgStatus.VERIFIED
        org = Organization.objects.create(
            name=f"{CITY}{word}{suffix}",
            uscc=make_uscc(rng, dept, cat),
            org_type=org_type,
            registration_authority=f"{CITY}民政局",
            registration_date=date(2012 + i % 12, 1 + i % 12, 1 + i % 27),
            legal_representative=person_name(rng),
            contact_person=contact,
            mobile=mobile(rng),
            email=f"contact{i}@demo-ngo.invalid",
            address=f"{CITY}{rng.choice(DISTRICTS)}{rng.choice(['建设路', '文化路', '花园路', '人民路', '友爱街'])}{rng.randint(1, 300)}号",
            service_area=f"{CITY}{rng.choice(DISTRICTS)}",
            staff_count=rng.randint(3, 45),
            past_projects="2024年承接区总工会“暖蜂驿站”运营项目；2025年开展新就业形态劳动者关爱服务。",
            status=status,
            verified_at=_now() if status == OrgStatus.VERIFIED else None,
        )
        user = _user(
            f"applicant{i}", Role.APPLICANT, contact, email=f"applicant{i}@demo-ngo.invalid", mobile=org.mobile
        )
        Membership.objects.create(organization=org, user=user, is_owner=True)
        applicants.append(user)
        organizations.append(org)
    return organizations


BUDGET_ITEMS = {
    # category: (item, unit, unit price, share of the budget aimed at)
    "人员经费": ("项目社工补贴", "人·月", 3000, 0.25),
    "活动经费": ("服务活动场地与物资", "场", 2500, 0.38),
    "专家劳务费": ("律师/讲师授课费", "课时", 800, 0.10),
    "宣传及物料费": ("宣传折页与服务手册", "份", 12, 0.12),
    "交通差旅费": ("外展服务交通费", "次", 150, 0.07),
}


def _budget_lines(rng, proposal, categories, target):
    """Whole quantities at round unit prices near the aimed shares of ``target``; the management fee is 8% of the
    rest, rounded to yuan. Returns unsaved BudgetLine objects; the requested amount is their sum."""
    lines = []
    for cat in categories:
        if cat.is_management_fee:
            continue
        item, unit, price, share = BUDGET_ITEMS[cat.name]
        qty = max(1, round(target * share * rng.uniform(0.85, 1.1) / price))
        lines.append(
            BudgetLine(
                proposal=proposal,
                category=cat,
                item=item,
                unit=unit,
                unit_price=money(price),
                quantity=Decimal(qty),
                amount=money(price * qty),
                note="",
            )
        )
    fee_cat = next(c for c in categories if c.is_management_fee)
    fee = money(round(sum(line.amount for line in lines) * Decimal("0.08")))
    lines.append(
        BudgetLine(
            proposal=proposal,
            category=fee_cat,
            item="项目管理费",
            unit="项",
            unit_price=fee,
            quantity=Decimal(1),
            amount=fee,
            note="不超过总额的10%",
        )
    )
    return lines


# Status plan for the 52 verified organizations' proposals in the demo round (the order is shuffled).
STATUS_PLAN = (
    [ProposalStatus.SUBMITTED] * 42  # screened eligible below; pre-scoring then picks the 12 finalists
    + [ProposalStatus.INELIGIBLE] * 6
    + [ProposalStatus.WITHDRAWN] * 2
    + [ProposalStatus.DRAFT] * 2
)


def build_proposals(rng, competition, organizations):
    categories = list(competition.categories.all())
    budget_categories = list(competition.budget_categories.all())
    verified = [o for o in organizations if o.status == OrgStatus.VERIFIED]
    plan = list(STATUS_PLAN)
    rng.shuffle(plan)
    # Finalists spread over the five categories as in the real round (several fields covered).
    proposals = []
    for i, (org, status) in enumerate(zip(verified, plan, strict=False)):
        category = categories[i % len(categories)]
        title_base, target, activities = PROJECTS[category.name][(i // len(categories)) % 5]
        title = f"{title_base}（{org.service_area.replace(CITY, '')}）"
        target = rng.randrange(60000, 138000, 500)
        start = date(2026, 7, 1)
        end = date(2027, 6, 30) if rng.random() < 0.7 else date(2026, 12, 31)
        p = Proposal.objects.create(
            competition=competition,
            organization=org,
            category=category,
            title=title,
            target_group=target,
            people_to_serve=rng.randrange(80, 1200, 10),
            service_area=org.service_area,
            needs=(
                f"据本组织2025年对{org.service_area}{rng.randint(200, 800)}名{target}的问卷调查，"
                f"{rng.randint(40, 80)}%的受访者表示在相关领域缺乏可及的服务，"
                "工作时间长、流动性强，难以参加常规时段的服务活动。"
            ),
            objectives=f"在项目周期内为{target}提供{activities.split('、')[0]}等服务，提升获得感与归属感。",
            activities=activities.replace("、", "；\n"),
            team=f"项目负责人{org.contact_person}（中级社工师），专职社工2名，志愿者{rng.randint(5, 30)}名。",
            period_start=start,
            period_end=end,
            cofunding_amount=money(rng.choice([0, 0, 5000, 10000, 20000])),
            status=ProposalStatus.DRAFT,
        )
        lines = BudgetLine.objects.bulk_create(_budget_lines(rng, p, budget_categories, target))
        p.requested_amount = sum(line.amount for line in lines)
        p.save(update_fields=["requested_amount"])
        Milestone.objects.bulk_create(
            [
                Milestone(proposal=p, date=start + timedelta(days=30), title="完成需求调研与服务对象招募"),
                Milestone(proposal=p, date=start + timedelta(days=120), title="完成中期服务与中期评估"),
                Milestone(proposal=p, date=end - timedelta(days=15), title="完成结项总结与成果展示"),
            ]
        )
        Indicator.objects.bulk_create(
            [
                Indicator(proposal=p, name="服务人次", target=Decimal(p.people_to_serve * 3), unit="人次"),
                Indicator(proposal=p, name="开展活动", target=Decimal(rng.randint(12, 40)), unit="场"),
                Indicator(proposal=p, name="服务满意度", target=Decimal("90"), unit="%"),
            ]
        )
        _walk_status(p, status, competition)
        proposals.append(p)
    return proposals


def _walk_status(proposal, final_status, competition):
    """Record a believable timeline for the demo proposal up to ``final_status`` (timeline rows included)."""
    submitted = competition.closes_at - timedelta(days=3, hours=proposal.pk % 48)
    steps = []
    S = ProposalStatus
    if final_status == S.DRAFT:
        return
    steps.append((S.SUBMITTED, submitted, ""))
    if final_status == S.SUBMITTED:
        pass
    elif final_status == S.WITHDRAWN:
        steps.append((S.WITHDRAWN, submitted + timedelta(days=1), "机构人员变动，主动撤回申报。"))
    elif final_status == S.INELIGIBLE:
        steps.append(
            (
                S.INELIGIBLE,
                competition.closes_at + timedelta(days=10),
                "初审未通过：管理费超过预算总额的10%或申报材料不完整。",
            )
        )
    else:
        steps.append((S.ELIGIBLE, competition.closes_at + timedelta(days=10), ""))
        if final_status in (S.FINALIST, S.NOT_SELECTED):
            reason = "" if final_status == S.FINALIST else "专家预评分排名未进入前12名。"
            steps.append((final_status, competition.closes_at + timedelta(days=25), reason))
    for status, _at, reason in steps:
        StatusChange.objects.create(proposal=proposal, status=status, reason=reason)
    StatusChange.objects.filter(proposal=proposal).update(at=submitted)
    Proposal.objects.filter(pk=proposal.pk).update(
        status=final_status, submitted_at=submitted, status_reason=steps[-1][2]
    )


CHECKLIST = [
    "申报单位为在示范市登记的社会组织，登记证书在有效期内",
    "申报材料齐全（申报书、预算明细、登记证书）",
    "服务对象为新就业形态劳动者或其家庭",
    "服务领域符合本届征集的五个方向",
    "预算符合规定（管理费不超过10%，人员经费不超过30%）",
]
INELIGIBLE_REASONS = [
    (1, "缺少登记证书扫描件，经通知后仍未补交。"),
    (4, "管理费超过预算总额的10%。"),
    (2, "服务对象以社区老年人为主，不属于新就业形态劳动者。"),
]
COMMENTS = {
    "high": "需求调研扎实，服务设计贴合骑手作息，预算细化合理，建议重点支持。",
    "mid": "项目思路清晰，建议进一步明确可量化的成效指标并细化进度安排。",
    "low": "服务对象定位不够精准，活动与预算匹配度不足，可行性有待论证。",
}


def build_screening(rng, competition, proposals, staff):
    """初审: the checklist, item-by-item results, eligible/ineligible decisions with reasons."""

    items = [ChecklistItem.objects.create(competition=competition, text=t, order=i) for i, t in enumerate(CHECKLIST)]
    submitted = Proposal.objects.filter(competition=competition, status=ProposalStatus.SUBMITTED)
    for p in submitted:
        screening.record_checks(proposal=p, results={item: (True, "") for item in items}, by=staff)
        screening.decide(proposal=p, eligible=True, reason="", by=staff)
    for n, p in enumerate(Proposal.objects.filter(competition=competition, status=ProposalStatus.INELIGIBLE)):
        failed, reason = INELIGIBLE_REASONS[n % len(INELIGIBLE_REASONS)]
        results = {item: (i != failed, reason if i == failed else "") for i, item in enumerate(items)}
        screening.record_checks(proposal=p, results=results, by=staff)


def _points(rng, criterion, quality, lenience):
    """Points on the criterion's scale from a latent quality (0..1) and the judge's leniency, in whole points."""
    value = float(criterion.max_points) * min(0.98, max(0.3, quality + lenience + rng.gauss(0, 0.04)))
    return Decimal(round(value))


def _score(rng, assignment, criteria, quality, lenience, staff):
    points = {c.pk: _points(rng, c, quality, lenience) for c in criteria}
    total = judging.weighted_total(criteria, points)
    comment = COMMENTS["high" if total >= 85 else "mid" if total >= 65 else "low"]
    judging.declare(assignment=assignment, has_conflict=False, reason="", by=assignment.judge.user)
    judging.save_sheet(
        assignment=assignment, by=assignment.judge.user, points=points, comment=comment, expected_version=0, submit=True
    )


def build_prescoring(rng, competition, judges, staff):
    """Expert pre-scoring: 3 judges per eligible proposal, then the finalists from the adjusted ranking."""

    competition = advance_stage(competition=competition, to=Stage.PRESCORING, by=staff)
    panel = judging.generate_prescoring(competition=competition, judges=judges, k=3, seed=2026, by=staff)
    criteria = list(competition.criteria.all())
    lenience = {j.pk: rng.uniform(-0.08, 0.08) for j in judges}
    quality = {p.pk: rng.uniform(0.55, 0.92) for p in competition.proposals.filter(status=ProposalStatus.ELIGIBLE)}
    _QUALITY.update(quality)
    for a in panel.assignments.select_related("judge__user", "proposal", "panel__competition"):
        _score(rng, a, criteria, quality[a.proposal_id], lenience[a.judge_id], staff)
    result = ranking.compute(competition, "prescoring")
    top = [pid for pid, row in result.table.iterrows() if row["rank"] <= competition.finalist_quota]
    finalists = list(Proposal.objects.filter(pk__in=top[: competition.finalist_quota]))
    screening.confirm_finalists(
        competition=competition,
        finalists=finalists,
        by=staff,
        source="专家预评分排名（加性评委效应模型）",
        ranking=[
            {"proposal": int(pid), "rank": int(row["rank"]), "score": round(float(row["score"]), 2)}
            for pid, row in result.table.iterrows()
        ],
    )


_QUALITY = {}


def build_final_review(rng, competition, judges, staff):
    """The roadshow: order drawn by lot, all 9 judges score all 12 finalists, one judge recused from one."""

    competition = advance_stage(competition=competition, to=Stage.FINAL, by=staff)
    judging.set_panel(competition=competition, stage=PanelStage.FINAL, judges=judges, by=staff)
    panel = judging.assign_final_panel(competition=competition, by=staff)
    roadshow = judging.draw_order(competition=competition, by=staff, seed="20260520")
    criteria = list(competition.criteria.all())
    lenience = {j.pk: rng.uniform(-0.06, 0.06) for j in judges}
    lenience[judges[8].pk] = 0.12  # one generous judge, whom the trimmed mean keeps in check
    slots = list(roadshow.slots.select_related("proposal"))
    recused = (judges[3].pk, slots[4].proposal_id)
    assignments = {
        (a.judge_id, a.proposal_id): a
        for a in panel.assignments.select_related("judge__user", "proposal", "panel__competition")
    }
    for slot in slots:
        for judge in judges:
            a = assignments[(judge.pk, slot.proposal_id)]
            if (judge.pk, slot.proposal_id) == recused:
                judging.declare(
                    assignment=a, has_conflict=True, by=judge.user, reason="本人曾担任该机构理事，申请回避。"
                )
                continue
            _score(rng, a, criteria, _QUALITY.get(slot.proposal_id, 0.8) - 0.04, lenience[judge.pk], staff)
    Roadshow.objects.filter(pk=roadshow.pk).update(
        current=slots[-1], phase=RoadshowPhase.DONE, phase_started_at=timezone.now()
    )


def build_results(competition, staff, auditor):
    """Frozen, signed off, awarded, in its public notice, with one objection dismissed."""

    snapshot = results.freeze_results(competition=competition, by=staff)
    results.sign_off(snapshot=snapshot, by=auditor, note="已核对评分表与计算结果，同意公示。")
    for i, name in enumerate(["一等资助", "二等资助", "三等资助"]):
        AwardGrade.objects.create(competition=competition, name=name, order=i)
    made = awards.propose_awards(competition=competition, by=staff)
    notice = awards.publish_notice(
        competition=competition,
        by=staff,
        starts_on=timezone.localdate(),
        text="经初审、专家预评分、项目路演与现场答辩，评审小组综合评分，现将拟资助项目予以公示。",
    )
    objection = awards.submit_objection(
        notice=notice,
        name="刘女士",
        contact="13700001111",
        award=made[-1],
        ip="127.0.0.1",
        text="听说该机构负责人与评委认识，评分可能不公。",
    )
    awards.handle_objection(
        objection=objection,
        upheld=False,
        by=staff,
        outcome="经核查，该项目评审中无评委与申报单位存在利益关系，回避登记完整，异议不成立。",
    )


PAST_ROUND_TITLE = "示范市总工会2025年新就业形态劳动者服务项目公益创投大赛"  # (it would reach the agreements)
EVALUATION_RUBRIC = [("服务成效", 40), ("项目管理", 30), ("资金使用规范", 30)]
# (label, scenario): six funded projects in different health, as union staff see them on the dashboard.
SCENARIOS = ["on_track", "overspend", "report_overdue", "rectification", "failed_midterm", "closed"]


def build_supervision(rng, organizations, people):
    """Last year's round, now under supervision: six funded projects in different health."""

    staff, supervisor = people["staff"], people["supervisor"]
    today = timezone.localdate()
    c = Competition.objects.create(
        title=PAST_ROUND_TITLE,
        year=2025,
        organizer="示范市总工会",
        description="## 2025年度项目\n\n本届项目已签订资助协议，正处于全程督导阶段。",
        fund_pool=Decimal("900000.00"),
        min_grant=Decimal("50000.00"),
        max_grant=Decimal("150000.00"),
        opens_at=_aware(2025, 3, 1, 9),
        closes_at=_aware(2025, 4, 15, 17),
        finalist_quota=8,
        project_start_earliest=today - timedelta(days=430),
        project_end_latest=today + timedelta(days=200),
        min_project_months=6,
        max_project_months=14,
        notice_working_days=5,
        tiebreak_criterion="social_benefit",
        stage=Stage.SUPERVISION,
    )
    _set_up(c, rubric=False)
    receipt = default_storage.save("demo/receipt.pdf", ContentFile(b"%PDF-1.4\n% demo receipt\n%%EOF\n"))
    categories = list(c.categories.all())
    budget_categories = list(c.budget_categories.all())
    for n, scenario in enumerate(SCENARIOS):
        org = organizations[n]
        closed = scenario == "closed"
        start = today - timedelta(days=420 if closed else 240)
        end = today - timedelta(days=60) if closed else today + timedelta(days=125)
        category = categories[n % len(categories)]
        title_base, target, activities = PROJECTS[category.name][(n + n // len(categories)) % 5]
        p = Proposal.objects.create(
            competition=c,
            organization=org,
            category=category,
            title=f"{title_base}（2025）",
            target_group=target,
            people_to_serve=300 + 50 * n,
            service_area=org.service_area,
            needs="2025年需求调研。",
            objectives=f"为{target}提供{activities.split('、')[0]}等服务。",
            activities=activities,
            team=f"项目负责人{org.contact_person}",
            period_start=start,
            period_end=end,
            status=ProposalStatus.AWARDED,
            submitted_at=c.closes_at - timedelta(days=5),
        )
        lines = BudgetLine.objects.bulk_create(_budget_lines(rng, p, budget_categories, 90000 + 8000 * n))
        p.requested_amount = sum(line.amount for line in lines)
        p.save(update_fields=["requested_amount"])
        Milestone.objects.bulk_create(
            [
                Milestone(proposal=p, date=start + timedelta(days=30), title="完成服务对象招募"),
                Milestone(proposal=p, date=start + timedelta(days=150), title="中期评估"),
                Milestone(proposal=p, date=end - timedelta(days=10), title="结项"),
            ]
        )
        Indicator.objects.bulk_create(
            [
                Indicator(proposal=p, name="服务人次", target=Decimal(1200), unit="人次"),
                Indicator(proposal=p, name="开展活动", target=Decimal(24), unit="场"),
            ]
        )
        award = Award.objects.create(
            competition=c, proposal=p, rank=n + 1, amount=p.requested_amount, status=AwardStatus.FINAL
        )
        c.awarded_total += award.amount  # what the award services keep (issue #14)
        c.save(update_fields=["awarded_total"])
        agreement = create_agreement(award=award)
        project = sup.sign_agreement(agreement=agreement, signed_on=start - timedelta(days=5), by=staff)
        project.supervisors.add(supervisor)
        _supervise(rng, project, scenario, today, staff, supervisor, receipt)


def _supervise(rng, project, scenario, today, staff, supervisor, receipt):
    tranche1, tranche2, tranche3 = list(project.tranches.order_by("order"))
    sup.release_tranche(
        tranche=tranche1,
        released_on=project.signed_on + timedelta(days=7),
        voucher_no=f"ZF{project.pk:03d}-1",
        by=staff,
    )
    # Spending roughly in step with time, per line; the overspending project blows one line.
    elapsed = min(today, project.period_end) - project.period_start
    share = Decimal(elapsed.days) / Decimal((project.period_end - project.period_start).days + 1)
    entries = []
    for line in project.lines.select_related("category"):
        target = line.amount * share * Decimal("0.95")
        if scenario == "overspend" and line.category.name == "活动经费":
            target = line.amount * Decimal("1.32")
        if scenario == "closed":
            target = line.amount * Decimal("0.98")
        parts = 4
        for k in range(parts):
            amount = (target / parts).quantize(Decimal("0.01"))
            if amount <= 0:
                continue
            day = project.signed_on + timedelta(days=10 + int((elapsed.days - 20) * (k + 0.5) / parts))
            entries.append(
                Expenditure(
                    project=project,
                    date=min(day, project.period_end),
                    line=line,
                    category=line.category,
                    amount=amount,
                    payee="示范市某服务供应商",
                    description=f"{line.item}（第{k + 1}批）",
                    voucher_no=f"PZ{project.pk:03d}{line.pk:04d}{k}",
                    receipt=receipt,
                    created_by=staff,
                )
            )
    Expenditure.objects.bulk_create(entries)
    refresh_totals([project.pk])
    # Reports: every period that ended is submitted and accepted, except where the scenario says otherwise.
    reports = list(ProgressReport.objects.filter(project=project, period_end__lt=today).order_by("period_start"))
    for i, report in enumerate(reports):
        last = i == len(reports) - 1
        if scenario == "report_overdue" and last:
            continue  # due and not written: overdue
        members = project.organization.memberships.select_related("user")
        author = members[0].user
        indicator = project.indicators.first()
        sup.submit_report(
            report=report,
            by=author,
            narrative=f"本期开展服务活动{6 + i}场，覆盖{80 + 20 * i}人次。",
            people_served=80 + 20 * i,
            activities=[
                {
                    "date": min(report.period_start + timedelta(days=10), report.period_end),
                    "place": "骑手驿站",
                    "participants": 30 + i,
                    "description": "法律咨询与健康讲座",
                }
            ],
            progress={indicator: Decimal(80 + 20 * i)},
        )
        if not (scenario == "rectification" and last):
            sup.review_report(report=report, accept=True, note="", by=supervisor)
    if scenario == "report_overdue":
        ProgressReport.objects.filter(project=project, status=ReportStatus.DUE, period_end__lt=today).update(
            due_on=today - timedelta(days=12)
        )
    visit = sup.record_visit(
        project=project,
        by=supervisor,
        date=today - timedelta(days=20),
        people_met="项目负责人、两名骑手",
        observations="服务台账清晰，活动照片齐全。",
        rating=4 if scenario != "rectification" else 3,
        findings="" if scenario != "rectification" else "部分支出凭证缺少经办人签字。",
    )
    if scenario == "rectification":
        sup.add_rectification(
            project=project,
            by=supervisor,
            visit=visit,
            what="补齐支出凭证的经办人签字并重新装订台账。",
            deadline=today + timedelta(days=14),
            owner=project.organization.contact_person,
        )
    criteria_mid = list(project.competition.evaluation_criteria.filter(kind=EvaluationKind.MIDTERM))
    marks = {"failed_midterm": [18, 14, 20]}.get(scenario, [34, 26, 25])
    # Where a precondition is missing (a report not yet accepted), union staff hold it with the reason, as they may.
    missing = sup.evaluation_missing(project, EvaluationKind.MIDTERM)
    sup.evaluate(
        project=project,
        kind=EvaluationKind.MIDTERM,
        by=staff if missing else supervisor,
        override_reason="按督导计划如期开展中期评估" if missing else "",
        points=dict(zip(criteria_mid, [Decimal(m) for m in marks], strict=True)),
        comment="服务成效不足，资金使用不规范。" if scenario == "failed_midterm" else "按计划推进。",
    )
    if scenario != "failed_midterm":
        sup.release_tranche(
            tranche=tranche2, released_on=today - timedelta(days=30), voucher_no=f"ZF{project.pk:03d}-2", by=staff
        )
    if scenario == "closed":
        criteria_final = list(project.competition.evaluation_criteria.filter(kind=EvaluationKind.FINAL))
        missing = sup.evaluation_missing(project, EvaluationKind.FINAL)
        sup.evaluate(
            project=project,
            kind=EvaluationKind.FINAL,
            by=staff if missing else supervisor,
            override_reason="项目提前完成全部目标，经审批提前终期评估" if missing else "",
            points=dict(zip(criteria_final, [Decimal(36), Decimal(27), Decimal(26)], strict=True)),
            comment="目标全部完成，资金使用规范。",
        )
        sup.release_tranche(
            tranche=tranche3,
            released_on=min(today - timedelta(days=20), project.period_end + timedelta(days=20)),
            voucher_no=f"ZF{project.pk:03d}-3",
            by=staff,
        )
        sup.close_project(project=project, by=staff, closeout_report="项目全部完成，服务1260人次，满意度96%。")
    for k in range(3 + project.pk % 4):
        sup.submit_feedback(
            project=project,
            rating=5 - (k % 2),
            comment=["服务很贴心", "讲座很实用", ""][k % 3],
            ip=f"10.1.{project.pk}.{k}",
            device=f"demo-{project.pk}-{k}",
        )


def build_next_round(rng, organizations):
    """An open call for next year, so that the applicant journey can be tried end to end."""
    now = _now()
    c = Competition.objects.create(
        title=NEXT_ROUND_TITLE,
        year=2027,
        organizer="示范市总工会",
        description="## 征集说明\n\n面向服务新就业形态劳动者的社会组织征集2027年度服务项目，截止前可随时保存草稿。",
        fund_pool=Decimal("1500000.00"),
        min_grant=Decimal("50000.00"),
        max_grant=Decimal("150000.00"),
        opens_at=now - timedelta(days=20),
        closes_at=timezone.localtime(now + timedelta(days=45)).replace(hour=17, minute=0, second=0, microsecond=0),
        finalist_quota=12,
        project_start_earliest=date(2027, 4, 1),
        project_end_latest=date(2028, 3, 31),
        min_project_months=6,
        max_project_months=12,
        cofunding_share=Decimal("10"),
        notice_working_days=5,
        tiebreak_criterion="social_benefit",
        stage=Stage.OPEN,
    )
    _set_up(c)
    return c
