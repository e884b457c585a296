"""Documents and exports: fetch with permission, build the context or the frame, hand it to venture.pdf or
venture.exports. Every PDF view of the site is here. Each view costs a fixed number of queries whatever the size of the round; the frames come from
``values()`` queries, never from loops over model instances.

The frame and context builders are plain functions next to the views, each testable on its own.
"""

import math
from decimal import Decimal

import pandas as pd
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Prefetch, Q, Sum, prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext as _

from judging.models import Assignment, ConflictStatus, Judge, PanelStage, RoadshowSlot, SheetStatus
from judging.ranking import decided_label
from venture import permissions
from venture.audit.services import record
from venture.awards.models import Award, AwardStatus, GrantAgreement, ObjectionStatus, PublicNotice
from venture.awards.services import approved_lines, notice_open, with_published_identities
from venture.competitions.models import Competition, TrancheCondition
from venture.exports import dataframe_response, download_name
from venture.help import manual
from venture.organizations.services import identity, payee
from venture.pdf import pdf_response, render_pdf
from venture.proposals.forms import ProposalFilterForm
from venture.proposals.models import BudgetLine, Proposal, ProposalStatus
from venture.results.models import ResultSnapshot
from venture.results.queries import shown_snapshot
from venture.results.services import current_snapshot, live_check, record_bundle
from venture.supervision.models import FundedProject
from venture.supervision.photos import thumbnail
from venture.supervision.queries import budget_figures
from venture.version import app_version

from . import score_matrix, stored
from .guide import budget_template_frames, guide_context
from .models import DocumentStatus
from .results_report import report_pdf, results_report

ZERO = Decimal("0")
# Proposals that reached the final review: finalists, and those the final decided on.
REACHED_FINAL = (ProposalStatus.FINALIST, ProposalStatus.AWARDED, ProposalStatus.NOT_FUNDED)
PROPOSALS = Proposal.objects.select_related("competition", "organization", "category")
ASSIGNMENTS = Assignment.objects.select_related(
    "judge__user", "panel__competition", "proposal__organization", "proposal__category", "sheet"
)
AGREEMENTS = GrantAgreement.objects.select_related(
    "award__competition", "award__proposal__organization", "award__proposal__category"
)
PROJECTS = FundedProject.objects.select_related("competition", "organization", "agreement")


def _format(request):
    return "csv" if request.GET.get("format") == "csv" else "xlsx"


def _pdf(request, template, context, filename):
    return pdf_response(render_pdf(template, context, request=request), filename)


# --- The application book (申报书) -------------------------------------------------------------------------------


def book_entries(proposals):
    """What the application book prints for each proposal: the budget lines grouped by category with subtotals and
    the total summed in the database, milestones, indicators, attachments. Six queries for any number of
    proposals. (Contact details are printed only where the template's "organization.contacts" check allows.)"""
    prefetch_related_objects(
        proposals,
        Prefetch(
            "budget_lines",
            queryset=BudgetLine.objects.select_related("category").order_by("category__order", "category_id", "id"),
        ),
        "milestones",
        "indicators",
        "attachments",
    )
    ids = [p.pk for p in proposals]
    lines = BudgetLine.objects.filter(proposal_id__in=ids).order_by()
    subtotals = {
        (row["proposal_id"], row["category_id"]): row["total"]
        for row in lines.values("proposal_id", "category_id").annotate(total=Sum("amount"))
    }
    totals = dict(lines.values("proposal_id").annotate(total=Sum("amount")).values_list("proposal_id", "total"))
    entries = []
    for proposal in proposals:
        groups = []
        for line in proposal.budget_lines.all():
            if not groups or groups[-1]["category"].pk != line.category_id:
                groups.append(
                    {"category": line.category, "lines": [], "subtotal": subtotals[(proposal.pk, line.category_id)]}
                )
            groups[-1]["lines"].append(line)
        entries.append(
            {
                "proposal": proposal,
                "organization": proposal.organization,
                "budget": groups,
                "budget_total": totals.get(proposal.pk, ZERO),
            }
        )
    return entries


def application_book_context(proposal, *, contacts=False):
    """``contacts``: print the organization's contact details (the stored copy for readers allowed to see them)."""
    return {
        "competition": proposal.competition,
        "entries": book_entries([proposal]),
        "book": False,
        "with_contacts": contacts,
    }


@login_required
def application_book(request, pk):
    """One proposal's application book: a cover, then every field, the budget, plan, indicators and attachments.
    Once submitted it is a final document, served as rendered in the background (``stored``)."""
    proposal = permissions.get_for(request.user, "proposal.view", PROPOSALS, pk=pk)
    filename = f"申报书-{proposal.title}.pdf"
    return stored.serve(
        request,
        "application_book",
        proposal,
        filename,
        contacts=permissions.can(request.user, "organization.contacts", proposal.organization),
        on_demand=lambda: _pdf(request, "pdf/application_book.html", application_book_context(proposal), filename),
    )


def finalists(competition):
    """The proposals of the final review, in the roadshow's presentation order once drawn, else by title."""
    positions = dict(
        RoadshowSlot.objects.filter(roadshow__competition=competition).values_list("proposal_id", "position")
    )
    proposals = PROPOSALS.filter(competition=competition, status__in=REACHED_FINAL)
    return sorted(proposals, key=lambda p: (positions.get(p.pk, math.inf), p.title, p.pk)), positions


def finalists_book_context(competition, proposals, positions, *, contacts=False):
    entries = book_entries(proposals)
    for number, entry in enumerate(entries, start=1):
        entry["number"] = number
    toc = [
        {
            "id": f"proposal-{e['proposal'].pk}",
            "title": f"{e['number']}. {e['proposal'].title} · {e['organization'].name}",
        }
        for e in entries
    ]
    context = {
        "competition": competition,
        "entries": entries,
        "book": True,
        "toc": toc,
        "drawn": bool(positions),
        "today": timezone.localdate(),
        "with_contacts": contacts,
    }
    return context


@login_required
def finalists_book(request, competition_pk):
    """All finalists' application books as one PDF with a table of contents, each proposal from a new page. Once the
    finalists are confirmed it is a final document (one per presentation order), rendered in the background; a
    reader who may see the contact details of some finalists but not of others gets it rendered on demand."""
    competition = permissions.get_for(request.user, "proposal.list", Competition.objects.all(), pk=competition_pk)
    proposals, positions = finalists(competition)
    filename = f"入围项目申报书汇编-{competition.title}.pdf"

    def on_demand():
        context = finalists_book_context(competition, proposals, positions)
        return _pdf(request, "pdf/application_book.html", context, filename)

    allowed = {permissions.can(request.user, "organization.contacts", p.organization) for p in proposals}
    if len(allowed) > 1:
        return on_demand()
    return stored.serve(
        request, "finalists_book", competition, filename, contacts=allowed == {True}, on_demand=on_demand
    )


# --- Judge score sheets (评分表) ----------------------------------------------------------------------------------


def sheet_context(competition, criteria, *, points=None):
    """The rubric as rows to print; ``points`` ({criterion pk: points}) fills them in."""
    points = points or {}
    return {
        "competition": competition,
        "rows": [{"criterion": c, "points": points.get(c.pk)} for c in criteria],
        "max_total": sum((c.weight for c in criteria), ZERO),
        "weighted": any(c.weight != c.max_points for c in criteria),
    }


@login_required
def blank_score_sheet(request, competition_pk):
    """The rubric with empty boxes, a comment box and signature and date lines, to print for a paper roadshow."""
    competition = permissions.get_for(request.user, "rubric.print", Competition.objects.all(), pk=competition_pk)
    context = sheet_context(competition, list(competition.criteria.all()))
    context["filled"] = False
    return _pdf(request, "pdf/score_sheet.html", context, f"评分表-{competition.title}.pdf")


@login_required
def filled_score_sheet(request, pk):
    """One judge's submitted sheet for one proposal. A judge gets only their own; staff and the auditor any."""
    assignment = permissions.get_for(request.user, "sheet.print", ASSIGNMENTS, pk=pk)
    sheet = getattr(assignment, "sheet", None)
    if sheet is None or sheet.status != SheetStatus.SUBMITTED:
        raise Http404
    competition = assignment.panel.competition
    points = dict(sheet.scores.values_list("criterion_id", "points"))
    context = sheet_context(competition, list(competition.criteria.all()), points=points)
    context.update(
        {
            "filled": True,
            "assignment": assignment,
            "proposal": assignment.proposal,
            "sheet": sheet,
            "judge": assignment.judge,
            "stage": assignment.panel.get_stage_display(),
        }
    )
    name = f"评分表-{assignment.proposal.title}-{assignment.judge.user.display_name}.pdf"
    return _pdf(request, "pdf/score_sheet.html", context, name)


def bundle_context(snapshot):
    """The signed-sheet bundle's content: every judge's submitted final-stage sheet (judges cleared of conflicts) in
    roadshow order, then by judge, and the panel for the cover's signature lines. Five queries for any size."""
    competition = snapshot.competition
    criteria = list(competition.criteria.all())
    positions = dict(
        RoadshowSlot.objects.filter(roadshow__competition=competition).values_list("proposal_id", "position")
    )
    assignments = list(
        ASSIGNMENTS.filter(
            panel__competition=competition,
            panel__stage=PanelStage.FINAL,
            conflict__status=ConflictStatus.CLEAR,
            sheet__status=SheetStatus.SUBMITTED,
        ).prefetch_related("sheet__scores")
    )
    assignments.sort(
        key=lambda a: (positions.get(a.proposal_id, math.inf), a.proposal.title, a.proposal_id, a.judge.user.username)
    )
    stage = PanelStage.FINAL.label
    sheets = []
    for a in assignments:
        entry = sheet_context(competition, criteria, points={s.criterion_id: s.points for s in a.sheet.scores.all()})
        entry.update(
            {
                "proposal": a.proposal,
                "sheet": a.sheet,
                "judge": a.judge,
                "stage": stage,
                "position": positions.get(a.proposal_id, "—"),
            }
        )
        sheets.append(entry)
    judges = (
        Judge.objects.filter(panels__competition=competition, panels__stage=PanelStage.FINAL)
        .select_related("user")
        .order_by("user__username")
    )
    return {"competition": competition, "snapshot": snapshot, "sheets": sheets, "judges": list(judges)}


@login_required
def signed_sheet_bundle(request, competition_pk):
    """The signed-sheet bundle of the round's signed-off results, made once (its SHA-256 recorded on the snapshot)
    and then served byte for byte as kept. Before the sign-off there is none: back to the results page."""
    competition = permissions.get_for(request.user, "results.view", Competition.objects.all(), pk=competition_pk)
    snapshot = (
        ResultSnapshot.objects.filter(competition=competition, valid=True)
        .defer("inputs", "outputs")
        .select_related("competition", "signed_off_by")
        .first()
    )
    if snapshot is None or snapshot.signed_off_at is None:
        messages.error(request, _("The signed-sheet bundle is made after the results are frozen and signed off."))
        return redirect("results:results", competition_pk=competition.pk)
    return stored.serve(
        request,
        "sheet_bundle",
        snapshot,
        lambda doc: f"签字评分表汇编-{competition.title}-{doc.sha256[:8]}.pdf",
        on_demand=lambda: None,  # final from its sign-off on: always stored
    )


def sheet_bundle_pdf(snapshot, *, request=None):
    """The bundle's bytes as kept by ``record_bundle``: made by the first call (the worker's, as a rule), recorded in
    the audit trail under the auditor who signed the results off, whose sign-off made it final."""
    bundle = record_bundle(
        snapshot=snapshot,
        by=snapshot.signed_off_by,
        make_pdf=lambda: render_pdf("pdf/sheet_bundle.html", bundle_context(snapshot), request=request),
    )
    return bytes(bundle.pdf)


# --- The public notice (公示) and the grant agreement (资助协议) ---------------------------------------------------


def notice_awards(notice):
    return (
        Award.objects.filter(competition=notice.competition)
        .exclude(status=AwardStatus.CANCELLED)
        .select_related("proposal__organization", "proposal__category", "grade")
        .order_by("rank")
    )


def notice_state(notice):
    """What the notice shows that still changes after publication: the version, whether it is open, the objections
    handled, the awards. None when withdrawn for a correction (no document then)."""
    if notice.reopened_at:
        return None
    return (
        notice.pk,
        notice.version,
        notice.published_at.isoformat(),
        notice.closed_at.isoformat() if notice.closed_at else None,
        notice_open(notice),
        list(notice.objections.exclude(status=ObjectionStatus.PENDING).order_by("pk").values_list("pk", "status")),
        [
            (pk, str(amount), status, rank)
            for pk, amount, status, rank in notice_awards(notice).values_list("pk", "amount", "status", "rank")
        ],
    )


def notice_context(notice):
    competition = notice.competition
    awards = notice_awards(notice)
    judges = (
        Judge.objects.filter(panels__competition=competition, panels__stage=PanelStage.FINAL)
        .select_related("user")
        .order_by("expertise", "user__username")
    )
    objection_url = settings.SITE_URL.rstrip("/") + reverse("awards:objection", args=[competition.pk])
    return {
        "notice": notice,
        "competition": competition,
        "awards": with_published_identities(notice, awards),
        "judges": list(judges),
        "total": awards.aggregate(total=Sum("amount"))["total"] or ZERO,
        "handled": list(notice.objections.exclude(status=ObjectionStatus.PENDING).select_related("award__proposal")),
        "open": notice_open(notice),
        "today": timezone.localdate(),
        # Where to lodge an objection: the notice's own objection page (the PDF is read away from the site, so the
        # address is spelt out in full).
        "objection_url": objection_url,
        "objection_link": format_html('<span class="nobr">{}</span>', objection_url),  # one line in the PDF
    }


def notice_pdf(request, competition_pk):
    """公示 as a PDF: public, like the notice page, from the moment the notice is published; kept once rendered
    for each state of the notice (each objection handled, the close, is a new state)."""
    notice = get_object_or_404(PublicNotice.objects.select_related("competition"), competition_id=competition_pk)
    competition = notice.competition
    if notice.reopened_at:  # withdrawn for a correction (issue #14): no PDF of figures being changed
        messages.info(
            request,
            _(
                "This notice has been withdrawn for a correction; the corrected notice will be "
                "published with a new notice period."
            ),
        )
        return redirect("awards:notice", competition_pk=competition.pk)
    filename = f"公示-{competition.title}.pdf"
    return stored.serve(
        request,
        "notice",
        notice,
        filename,
        on_demand=lambda: _pdf(request, "pdf/notice.html", notice_context(notice), filename),
    )


@login_required
def agreement_pdf(request, award_pk):
    """资助协议 of one final award: parties, project, amount in figures and in Chinese capitals, tranches, signatures.
    An agreement is issued once (when the notice closes): rendered then in the background and kept."""
    agreement = permissions.get_for(request.user, "agreement.view", AGREEMENTS, award_id=award_pk)
    filename = f"资助协议-{agreement.number}.pdf"
    return stored.serve(
        request,
        "agreement",
        agreement,
        filename,
        on_demand=lambda: _pdf(request, "pdf/agreement.html", agreement_context(agreement), filename),
    )


def agreement_context(agreement):
    conditions = dict(TrancheCondition.choices)
    tranches = [
        {
            "order": t["order"],
            "percent": Decimal(str(t["percent"])),
            "amount": Decimal(str(t["amount"])),
            "condition": conditions.get(t["condition"], t["condition"]),
        }
        for t in agreement.tranches
    ]
    award = agreement.award
    # Party B as the agreement was issued, never as the organization reads today (an agreement issued before the
    # bank account was kept with it shows the organization's account).
    organization = award.proposal.organization
    party = {**payee(organization), **(agreement.party or identity(organization))}
    budget = _budget_by_category(agreement.budget or approved_lines(award.proposal, agreement.amount))
    context = {
        "agreement": agreement,
        "award": award,
        "competition": award.competition,
        "proposal": award.proposal,
        "organization": party,
        "tranches": tranches,
        "budget": budget,
        "budget_total": sum((Decimal(line["amount"]) for group in budget for line in group["lines"]), Decimal("0")),
    }
    return context


def _budget_by_category(rows):
    """The approved budget's lines grouped by category, in order: [{"category", "lines", "subtotal"}]."""
    groups: dict[str, dict] = {}
    for row in rows:
        group = groups.setdefault(row["category"], {"category": row["category"], "lines": [], "subtotal": Decimal("0")})
        group["lines"].append({"item": row["item"], "amount": Decimal(row["amount"])})
        group["subtotal"] += Decimal(row["amount"])
    return list(groups.values())


# --- The results report (评审结果报告) and the supervision report (督导报告) ---------------------------------------


@login_required
def results_report_pdf(request, competition_pk):
    """The frozen results as a report: method, ranking, diagnostics, digest and sign-off (rendered once per
    snapshot, see ``results_report``). Mounted as ``results:report_pdf``, beside the results page."""
    competition = permissions.get_for(request.user, "results.view", Competition.objects.all(), pk=competition_pk)
    snapshot = shown_snapshot(competition)
    if snapshot is None:
        messages.error(request, _("There are no valid frozen results to report."))
        return redirect("results:results", competition_pk=competition.pk)
    # The document's own name, in the language the round is run in.
    filename = f"评审结果报告-{competition.year}.pdf"
    if not live_check(snapshot, competition):  # issue #14: the sealed rows no longer match: the red banner, never kept
        return pdf_response(results_report(competition, snapshot, request=request), filename)
    return stored.serve(
        request,
        "results_report",
        snapshot,
        filename,
        on_demand=lambda: pdf_response(report_pdf(competition, snapshot, request=request), filename),
    )


@login_required
def supervision_report_pdf(request, pk):
    """The supervision report of one project (budget against actual with its chart, reports, visits,
    rectifications, evaluations) as a PDF for the file. Mounted as ``supervision:report_pdf``."""
    project = permissions.get_for(request.user, "project.view", PROJECTS, pk=pk)
    today = timezone.localdate()
    visits = list(project.visits.select_related("supervisor").prefetch_related("photos"))
    for visit in visits:  # thumbnails (data: URIs) with the EXIF capture time where the camera wrote one
        visit.thumbnails = [
            (uri, taken, photo.caption) for photo in visit.photos.all() for uri, taken in [thumbnail(photo.file)] if uri
        ]
    context = {
        "project": project,
        "today": today,
        **budget_figures(project, today),
        "reports": project.reports.all(),
        "visits": visits,
        "tranches": project.tranches.prefetch_related("releases"),
        "corrections": project.expenditures.filter(Q(reverses__isnull=False) | Q(corrects__isnull=False))
        .select_related("category", "line")
        .order_by("created_at", "id"),
        "rectifications": project.rectifications.prefetch_related("events__by"),
        "evaluations": project.evaluations.all(),
    }
    return _pdf(request, "pdf/supervision_report.html", context, f"督导报告-{project.title}.pdf")


# --- Spreadsheets ------------------------------------------------------------------------------------------------

PROPOSAL_FIELDS = (
    "pk",
    "title",
    "organization__name",
    "organization__uscc",
    "category__name",
    "status",
    "submitted_at",
    "requested_amount",
    "cofunding_amount",
    "organization__contact_person",
    "organization__mobile",
    "organization__email",
)
PERSONAL_FIELDS = ("organization__contact_person", "organization__mobile", "organization__email")


def proposals_frame(proposals):
    """The staff list's columns and more, one row per proposal, from one ``values_list()`` query; headers in the
    UI language. Returns (frame, money column labels)."""
    labels = {
        "pk": _("Proposal ID"),
        "title": _("Project"),
        "organization__name": _("Organization"),
        "organization__uscc": _("Unified social credit code"),
        "category__name": _("Category"),
        "status": _("Status"),
        "submitted_at": _("Submitted"),
        "requested_amount": _("Requested (yuan)"),
        "cofunding_amount": _("Co-funding (yuan)"),
        "organization__contact_person": _("Contact person"),
        "organization__mobile": _("Mobile"),
        "organization__email": _("Email"),
    }
    frame = pd.DataFrame(list(proposals.values_list(*PROPOSAL_FIELDS)), columns=list(PROPOSAL_FIELDS))
    frame["status"] = frame["status"].map({value: str(label) for value, label in ProposalStatus.choices})
    return frame.rename(columns=labels), [labels["requested_amount"], labels["cofunding_amount"]]


@login_required
def proposals_export(request, competition_pk):
    """The round's proposals, filtered like the staff list. Contains personal data: every export is audited."""
    competition = permissions.get_for(request.user, "proposal.export", Competition.objects.all(), pk=competition_pk)
    form = ProposalFilterForm(request.GET or None, competition=competition)
    proposals = Proposal.objects.filter(competition=competition)
    valid = form.is_valid()
    proposals = form.filter(proposals) if valid else proposals.order_by("-submitted_at", "id")
    frame, money = proposals_frame(proposals)
    fmt = _format(request)
    response = dataframe_response(
        frame, filename=f"申报项目-{competition.title}", fmt=fmt, sheet_name=_("Proposals"), money_columns=money
    )
    filters = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")} if valid else {}
    record(
        actor=request.user,
        action="export.proposals",
        obj=competition,
        after={
            "format": fmt,
            "rows": len(frame),
            "filters": filters,
            "personal_data": list(PERSONAL_FIELDS),
            "proposals": frame.iloc[:, 0].tolist(),
        },
    )
    return response


@login_required
def scores_export(request, competition_pk):
    """The score matrix of a stage (final by default, ``?stage=prescoring``), xlsx or ``?format=csv``: staff and the
    auditor; each download audited. Written in the background (``score_matrix``): the file when it is ready, else
    the page that says it is being prepared and reloads itself; the same sheets, the same file."""
    competition = permissions.get_for(request.user, "scores.export", Competition.objects.all(), pk=competition_pk)
    stage = request.GET.get("stage") or PanelStage.FINAL
    if stage not in PanelStage.values:
        raise Http404
    fmt = _format(request)
    doc, rows = score_matrix.prepare(competition, stage=stage, fmt=fmt)
    filename = download_name(f"评分明细-{competition.title}", fmt)
    if doc.status != DocumentStatus.READY:
        return stored.preparing(request, doc, filename, export=True)
    record(
        actor=request.user,
        action="export.scores",
        obj=competition,
        after={"stage": stage, "format": fmt, "rows": rows},
    )
    return score_matrix.download(doc, filename)


def ranking_frame(competition, snapshot):
    """The frozen ranking from the snapshot's stored outputs (nothing recomputed): rank, project, organization,
    score, mean, median, n, decided by, P(in the top K) and the per-criterion averages."""
    outputs = snapshot.outputs
    ranking = outputs["ranking"]
    criteria = list(competition.criteria.values_list("code", "name"))
    names = dict(criteria)
    projects = {
        pk: (title, org)
        for pk, title, org in Proposal.objects.filter(pk__in=[r["proposal"] for r in ranking]).values_list(
            "pk", "title", "organization__name"
        )
    }
    words = {}

    def decided(code):
        if code not in words:
            words[code] = decided_label(code, names) if code else ""
        return words[code]

    columns = [
        _("Rank"),
        _("Project"),
        _("Organization"),
        _("Score"),
        _("Mean"),
        _("Median"),
        "n",
        _("Decided by"),
        _("P(in the top %(k)s)") % {"k": outputs["top_k"]},
        *(name for _c, name in criteria),
    ]
    rows = []
    for r in ranking:
        title, organization = projects.get(r["proposal"], (f"#{r['proposal']}", ""))
        rows.append(
            [
                r["rank"],
                title,
                organization,
                r["score"],
                r["mean"],
                r["median"],
                r["n_judges"],
                decided(r["decided_by"]),
                r["p_top_k"],
                *(r["criteria"].get(code) for code, _n in criteria),
            ]
        )
    return pd.DataFrame(rows, columns=columns)


@login_required
def ranking_export(request, competition_pk):
    competition = permissions.get_for(request.user, "results.view", Competition.objects.all(), pk=competition_pk)
    snapshot = current_snapshot(competition)
    if snapshot is None:
        messages.error(request, _("There are no valid frozen results to export."))
        return redirect("results:results", competition_pk=competition.pk)
    return dataframe_response(
        ranking_frame(competition, snapshot),
        filename=f"评审排名-{competition.title}",
        fmt=_format(request),
        sheet_name=_("Ranking"),
    )


# --- The applicant's guide (申报指南) and the budget template ------------------------------------------------------

GUIDE_ROUND = Competition.objects.prefetch_related("categories", "budget_categories", "tranche_plan", "criteria")


def round_guide(request, competition_pk):
    """The round's 申报指南 as a PDF, generated from its call text and set-up: public once the call is."""
    competition = permissions.get_for(request.user, "competition.guide", GUIDE_ROUND, pk=competition_pk)
    return _pdf(request, "pdf/guide.html", guide_context(competition), f"申报指南-{competition.title}.pdf")


def budget_template(request, competition_pk):
    """The round's budget template (xlsx): its budget categories to fill in, with their caps."""
    competition = permissions.get_for(request.user, "competition.guide", GUIDE_ROUND, pk=competition_pk)
    return dataframe_response(
        budget_template_frames(competition),
        filename=f"预算模板-{competition.title}",
        money_columns=[_("Unit price"), _("Amount")],
    )


# --- The user manual (操作手册) -------------------------------------------------------------------------------------

MANUAL_LANGUAGES = {"zh-hans": "zh_Hans", "en": "en"}


def manual_pdf(request, language, role):
    """One role's chapter of the manual as a PDF in ``language`` (zh-hans or en), with a table of contents. Who may
    read the chapter in the app may download it: the applicant chapter is public (unions hand it out before a call),
    the others are for anyone signed in ("help.chapter" in venture/help/rules.py)."""
    if language not in MANUAL_LANGUAGES or role == manual.EXPLAINER:
        raise Http404
    chapter = manual.chapter(role, MANUAL_LANGUAGES[language])
    if chapter is None:
        raise Http404
    if not permissions.can(request.user, "help.chapter", chapter):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404
    with translation.override(language):
        context = {"chapter": chapter, "body": chapter.html(), "toc": chapter.toc(), "version": app_version()}
        return _pdf(request, "pdf/manual.html", context, f"{chapter.title}.pdf")
