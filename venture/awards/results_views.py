"""Results pages (staff and the auditor): the frozen ranking with its diagnostics, freeze, verify, sign off, the
audited unlock of a sealed sheet, and the results report PDF.

Everything shown comes from the snapshot's stored ``outputs``: nothing is recomputed per request, and a page costs
the same fixed number of queries whatever the size of the round (proposals and judges are fetched once each).
"""

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from judging import scoring
from judging.forms import ReasonForm
from judging.models import Judge, PanelStage, ScoreSheet, SheetStatus
from judging.queries import board
from judging.ranking import decided_label
from venture import charts, permissions
from venture.competitions.models import AggregationMethod, Competition, Stage
from venture.pdf import pdf_response, render_pdf
from venture.proposals.models import Proposal

from . import services
from .models import ResultSnapshot

STRIP_PLOT_LIMIT = 30  # rows in the strip plot of judges' totals
SENSITIVITY_ALL_BELOW = 30  # up to this many proposals the sensitivity table lists them all
METHOD_LABELS = {"mean": AggregationMethod.MEAN.label, "median": AggregationMethod.MEDIAN.label,
                 "trimmed_mean": AggregationMethod.TRIMMED_MEAN.label, "zscore": "z-score"}


def _round(request, competition_pk):
    return permissions.get_for(request.user, "results.view", Competition.objects.all(), pk=competition_pk)


def _shown_snapshot(competition):
    """The valid snapshot, as services.current_snapshot, for display only: without the sealed inputs (30,000 score
    rows in a 500-proposal round, a third of the page's time to decode) and with the users it names."""
    return (ResultSnapshot.objects.filter(competition=competition, valid=True)
            .defer("inputs").select_related("created_by", "signed_off_by").first())


# --- Presentation of a snapshot (shared by the page and the PDF) -------------------------------------------------


def _f2(x):
    return "" if x is None else f"{x:.2f}"


def _signed(x):
    return "" if x is None else f"{x:+.2f}"


def _pct(x):
    return "" if x is None else f"{x * 100:.0f}%"


def _decided(code, names):
    return decided_label(code, names) if code else ""


def method_in_words(method, trim):
    """The ranking method as a sentence; scoring.md requires saying that the trim applies to the totals."""
    if method == AggregationMethod.TRIMMED_MEAN:
        return _(
            "Trimmed mean of the judges' totals: each judge's total for a project is the weighted sum of their points "
            "on the criteria (0–100); for each project the %(trim)s highest and %(trim)s lowest totals are dropped "
            "and the remaining totals are averaged. The trim applies to each judge's TOTAL, not to each criterion "
            "separately, so the per-criterion averages (plain means over all judges) need not add up to the score."
        ) % {"trim": trim}
    if method == AggregationMethod.MEDIAN:
        return _("Median of the judges' totals: each judge's total for a project is the weighted sum of their points "
                 "on the criteria (0–100); the project's score is the middle total.")
    return _("Mean of the judges' totals: each judge's total for a project is the weighted sum of their points on "
             "the criteria (0–100); the project's score is the plain mean over the judges who scored it (a recused "
             "judge is left out, not counted as zero).")


def tiebreak_in_words(chain, names):
    steps = []
    for rule in chain:
        code = f"criterion:{rule[1]}" if isinstance(rule, list | tuple) else rule
        steps.append(decided_label(code, names))
    steps.append(_("Tie (chair decides)"))
    return steps


def results_data(competition, snapshot, *, strip_limit=STRIP_PLOT_LIMIT):
    """The ranking, diagnostics and charts of a snapshot, ready for a template. Three queries: criteria, proposals
    (with organization and category), judges (with their user)."""
    outputs = snapshot.outputs
    criteria = list(competition.criteria.all())
    names = {c.code: c.name for c in criteria}
    ranking = outputs["ranking"]
    proposals = (Proposal.objects.select_related("organization", "category")
                 .only("id", "title", "organization__name", "category__name")
                 .in_bulk([r["proposal"] for r in ranking]))
    judge_ids = [j["judge"] for j in outputs["judges"]]
    judges = Judge.objects.select_related("user").in_bulk(judge_ids)
    top_k = outputs["top_k"]

    def judge_name(pk):
        judge = judges.get(pk)
        return judge.user.display_name if judge else f"#{pk}"

    labels = {}  # rule code -> words, translated once per request

    def label(code):
        if code not in labels:
            labels[code] = _decided(code, names)
        return labels[code]

    behind, tied, interval = _("behind the previous on: %(rule)s"), _("tied with the previous"), _("rank %(lo)s–%(hi)s")
    rows = []
    for r in ranking:  # plain strings only: the template then renders 500 rows without per-value localization
        proposal = proposals.get(r["proposal"])
        prev = r.get("decided_by_prev")
        rows.append({
            "pk": r["proposal"], "rank": str(r["rank"]),
            "title": proposal.title if proposal else f"#{r['proposal']}",
            "organization": proposal.organization.name if proposal else "",
            "category": proposal.category.name if proposal and proposal.category_id else "—",
            "score": _f2(r["score"]), "mean": _f2(r["mean"]), "median": _f2(r["median"]), "n": str(r["n_judges"]),
            "decided_by": label(r["decided_by"]),
            # "behind the previous on …" only when a tie-break (not the score itself) separated the two
            "decided_prev": (tied if prev == "tie" else behind % {"rule": label(prev)}
                             if prev and prev != "score" else ""),
            "p_top_k": _pct(r["p_top_k"]), "p_rank1": _pct(r["p_rank1"]),
            "interval": interval % {"lo": r["rank_lo"], "hi": r["rank_hi"]},
            "criteria": [_f2(r["criteria"].get(c.code)) for c in criteria],
            "ranks": [r["sensitivity"].get(m) for m in scoring.SENSITIVITY_METHODS],
            "top_k_changes": r["top_k_changes"],
        })
    n = len(rows)
    if n <= SENSITIVITY_ALL_BELOW:
        sensitivity = rows
    else:  # the projects that are in the top K under at least one method: the only ones the method could move
        sensitivity = [row for row in rows if min(v for v in row["ranks"] if v is not None) <= top_k]

    def title(row):
        return f"{row['rank']}. {row['title']}"

    strip_rows = ranking[:strip_limit]
    strip = charts.strip_plot(
        {title(row): [t for _j, t in r["totals"]] for row, r in zip(rows, strip_rows, strict=False)},
        marks={title(row): r["score"] for row, r in zip(rows, strip_rows, strict=False)},
        title=_("Judges' totals per project (bar: the score)"))
    judge_choices = sorted(((pk, judge_name(pk)) for pk in judge_ids), key=lambda item: item[1])
    judge_rows = [{
        "name": judge_name(j["judge"]), "count": int(j["count"] or 0), "mean": _f2(j["mean"]), "sd": _f2(j["sd"]),
        "leniency": _signed(j["leniency"]), "share_trimmed": _pct(j["share_trimmed"]),
        "outliers": int(j["outliers"] or 0),
    } for j in outputs["judges"]]
    leniency_chart = charts.bar_chart(
        [(judge_name(j["judge"]), j["leniency"]) for j in outputs["judges"]],
        title=_("Judge leniency (points above or below the other judges)"), value_format=_signed)
    icc = outputs.get("icc")
    return {
        "criteria": criteria, "rows": rows, "n": n, "top_k": top_k, "n_boot": outputs.get("n_boot"),
        "kendall_w": _f2(outputs.get("kendall_w")), "alpha": _f2(outputs.get("krippendorff_alpha")),
        "icc": [(k, _f2(v)) for k, v in icc.items()] if icc else None,
        "judges": judge_rows, "judge_choices": judge_choices,
        "sensitivity": sensitivity, "sensitivity_all": sensitivity is rows,
        "sensitivity_methods": [METHOD_LABELS[m] for m in scoring.SENSITIVITY_METHODS],
        "strip_plot": strip, "strip_limited": n > strip_limit, "strip_limit": strip_limit,
        "leniency_chart": leniency_chart,
        "method_words": method_in_words(snapshot.method, snapshot.params.get("trim", 1)),
        "tiebreak_steps": tiebreak_in_words(snapshot.params.get("tiebreak", []), names),
    }


def report_table(data):
    """The results report's ranking table: ``report_rows``, one per project, whose ``figures`` are its score, mean,
    median, number of judges and per-criterion averages set as one line of right-aligned fixed-width fields; and
    ``figure_columns``, the header cells above those fields: (label, the criterion's maximum points or None, width
    in characters).

    WeasyPrint spends about a millisecond on every table cell, whatever it holds (box, cascade, line layout, drawing):
    with a cell per figure a 500-project report took ten seconds. The figures share one cell, in a monospaced font,
    under header cells of the same widths (in ``ch`` of that font), so the columns still line up, at five cells a row.
    """
    rows = data["rows"]
    columns = [(_("Score"), None, [r["score"] for r in rows]), (_("Mean"), None, [r["mean"] for r in rows]),
               (_("Median"), None, [r["median"] for r in rows]), ("n", None, [r["n"] for r in rows])]
    columns += [(c.name, c.max_points, [r["criteria"][i] for r in rows]) for i, c in enumerate(data["criteria"])]
    # the widest value and a gap of two, and at least room for the header: "n"; "Median" or three Chinese characters
    # a line; four for a criterion's name
    widths = [max(max(map(len, values), default=0) + 2, 4 if label == "n" else 7 if points is None else 8)
              for label, points, values in columns]
    figures = ["".join(value.rjust(width) for value, width in zip(line, widths, strict=True))
               for line in zip(*(values for _label, _points, values in columns), strict=True)]
    return {
        "report_rows": [{"rank": r["rank"], "title": r["title"], "organization": r["organization"], "figures": f,
                         "decided_by": r["decided_by"], "decided_prev": r["decided_prev"]}
                        for r, f in zip(rows, figures, strict=True)],
        "figure_columns": [(label, points, width) for (label, points, _values), width in zip(columns, widths,
                                                                                             strict=True)],
    }


# --- Pages -------------------------------------------------------------------------------------------------------


@login_required
def results(request, competition_pk):
    competition = _round(request, competition_pk)
    snapshot = _shown_snapshot(competition)
    context = {"competition": competition, "snapshot": snapshot, "stage": Stage(competition.stage)}
    if snapshot is None:
        context["invalidated"] = (ResultSnapshot.objects.filter(competition=competition, valid=False)
                                  .only("digest", "created_at", "invalidated_at", "invalidated_reason").first())
        if competition.stage == Stage.FINAL:  # sheets in so far: a few queries, no scoring
            status = board(competition, PanelStage.FINAL)
            context["sheets"] = {k: status[k] for k in ("expected", "submitted", "complete")}
        return render(request, "venture/awards/results.html", context)
    context.update(results_data(competition, snapshot))
    context["signed_off_by"] = snapshot.signed_off_by
    if permissions.can(request.user, "sheet.unlock"):
        context["unlock"] = _unlock_picker(request, competition, context)
    return render(request, "venture/awards/results.html", context)


def _unlock_picker(request, competition, data):
    """Step one of an audited unlock: choose project and judge (GET); step two confirms with a reason (POST)."""
    picker = {"proposals": [(r["pk"], r["title"]) for r in data["rows"]],
              "judges": data["judge_choices"], "sheet": None, "error": "", "chosen": (None, None)}
    proposal, judge = request.GET.get("unlock_proposal", ""), request.GET.get("unlock_judge", "")
    if proposal.isdigit() and judge.isdigit():
        picker["chosen"] = (int(proposal), int(judge))
        picker["sheet"] = (ScoreSheet.objects.select_related("assignment__proposal", "assignment__judge__user")
                           .filter(assignment__panel__competition=competition,
                                   assignment__panel__stage=PanelStage.FINAL, assignment__proposal_id=proposal,
                                   assignment__judge_id=judge, status=SheetStatus.SUBMITTED).first())
        if picker["sheet"] is None:
            picker["error"] = _("That judge has no sealed sheet for that project.")
    return picker


@require_POST
@login_required
def freeze(request, competition_pk):
    competition = _round(request, competition_pk)
    permissions.require(request.user, "results.freeze", competition)
    try:
        snapshot = services.freeze_results(competition=competition, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Results frozen. Digest: %(digest)s") % {"digest": snapshot.digest})
    return redirect("awards:results", competition_pk=competition.pk)


@require_http_methods(["GET", "POST"])
@login_required
def verify_view(request, competition_pk):
    competition = _round(request, competition_pk)
    snapshot = services.current_snapshot(competition)
    if snapshot is None:
        messages.error(request, _("There are no valid frozen results to verify."))
        return redirect("awards:results", competition_pk=competition.pk)
    checks = services.verify(snapshot)
    rows = [(label, checks[key]) for key, label in _verify_checks()]
    return render(request, "venture/awards/results_verify.html", {
        "competition": competition, "snapshot": snapshot, "checks": checks, "rows": rows})


def _verify_checks():
    return [
        ("sheets_unchanged", _("The sealed score sheets in the database are unchanged since the freeze")),
        ("stored_inputs_intact", _("The stored inputs still match the digest")),
        ("ranking_reproduced", _("The ranking is reproduced from the stored inputs")),
        ("code_version_same", _("The scoring code version is the same as at the freeze")),
    ]


@require_POST
@login_required
def sign_off_view(request, competition_pk):
    competition = _round(request, competition_pk)
    permissions.require(request.user, "results.sign_off", competition)
    snapshot = services.current_snapshot(competition)
    if snapshot is None:
        messages.error(request, _("There are no valid frozen results to sign off."))
        return redirect("awards:results", competition_pk=competition.pk)
    try:
        services.sign_off(snapshot=snapshot, by=request.user, note=request.POST.get("note", "").strip()[:2000])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Results signed off."))
    return redirect("awards:results", competition_pk=competition.pk)


@require_POST
@login_required
def unlock(request, competition_pk, sheet_pk):
    sheets = ScoreSheet.objects.select_related("assignment__panel__competition").filter(
        assignment__panel__competition_id=competition_pk, assignment__panel__stage=PanelStage.FINAL)
    sheet = permissions.get_for(request.user, "sheet.unlock", sheets, pk=sheet_pk)
    form = ReasonForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["reason"].strip():
        messages.error(request, _("Give the reason for unlocking."))
        return redirect("awards:results", competition_pk=competition_pk)
    try:
        services.unlock_after_freeze(sheet=sheet, reason=form.cleaned_data["reason"], by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.warning(request, _("Sheet unlocked: the frozen results are invalidated and the round is back in "
                                    "final review. Freeze again once the judge has resubmitted."))
    return redirect("awards:results", competition_pk=competition_pk)


@login_required
def report_pdf(request, competition_pk):
    competition = _round(request, competition_pk)
    snapshot = _shown_snapshot(competition)
    if snapshot is None:
        messages.error(request, _("There are no valid frozen results to report."))
        return redirect("awards:results", competition_pk=competition.pk)
    # A frozen snapshot never changes: the report is rendered once per snapshot, sign-off state, language and day
    # (the report carries its date) and kept in the data folder; a 500-proposal report takes WeasyPrint 3–4 s.
    key = "-".join([str(snapshot.pk), snapshot.digest[:16], snapshot.signed_off_at.strftime("%Y%m%d%H%M%S")
                    if snapshot.signed_off_at else "unsigned", translation.get_language(),
                    timezone.localdate().isoformat()])
    cached = Path(settings.DATA_DIR) / "cache" / "results" / f"{key}.pdf"
    if cached.exists():
        data = cached.read_bytes()
    else:
        shown = results_data(competition, snapshot)
        context = {"competition": competition, "snapshot": snapshot, "today": timezone.localdate(),
                   "signed_off_by": snapshot.signed_off_by, **shown, **report_table(shown)}
        data = render_pdf("pdf/results_report.html", context, request=request)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(cached)
    # The document's own name, in the language the round is run in.
    return pdf_response(data, f"评审结果报告-{competition.year}.pdf")

