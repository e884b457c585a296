"""The final documents: which they are, when each becomes final, and what of it can still change.

| kind | object | final once | a new state when |
|---|---|---|---|
| ``application_book`` | proposal | submitted | resubmitted after a return |
| ``finalists_book`` | round | the finalists are confirmed | the list or the roadshow order changes |
| ``results_report`` | snapshot | frozen (intact) | signed off |
| ``sheet_bundle`` | snapshot | signed off | never (kept by ``record_bundle``) |
| ``notice`` | public notice | published | an objection is handled, the notice closes, a re-publication |
| ``agreement`` | grant agreement | issued | never |

``connect`` follows the audit actions that make them final (``venture.audit.services.follow``) and enqueues their
rendering in the round's language (zh-hans) after the commit: a document is usually ready before it is asked for;
other languages and variants are rendered on the first request.
"""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from venture.audit.services import follow
from venture.awards.models import PublicNotice
from venture.competitions.models import Competition
from venture.pdf import render_pdf
from venture.proposals.models import EDITABLE_BY_APPLICANT, ProposalStatus
from venture.results.models import ResultSnapshot

from . import stored, views
from .results_report import report_pdf

# The queue's order (higher first), the order in which people ask for them: the round's quick documents that many
# read (the results report, the public notice), then the agreements, then the long ones (the signed-sheet bundle, the
# finalists' book: some seconds each), then the application books (many, each needed by few).
PRIORITY_FIRST, PRIORITY_NEXT, PRIORITY_SLOW, PRIORITY_BOOKS = 20, 10, 0, -10
SNAPSHOTS = ResultSnapshot.objects.defer("inputs").select_related("competition", "created_by", "signed_off_by")


def _book(context):
    return render_pdf("pdf/application_book.html", {**context, "user": AnonymousUser()})


# --- application book ---


def _proposal_state(proposal):
    if proposal.submitted_at is None or proposal.status in EDITABLE_BY_APPLICANT:
        return None
    return (proposal.pk, proposal.submitted_at.isoformat())


# --- finalists' book ---


def _finalists_state(competition):
    proposals, positions = views.finalists(competition)
    if not proposals:
        return None
    return [(p.pk, positions.get(p.pk)) for p in proposals]


def _finalists_render(competition, *, contacts):
    proposals, positions = views.finalists(competition)
    return _book(views.finalists_book_context(competition, proposals, positions, contacts=contacts))


# --- results report and signed-sheet bundle ---


def _report_state(snapshot):
    if not snapshot.valid:
        return None
    return (snapshot.pk, snapshot.digest, snapshot.signed_off_at.isoformat() if snapshot.signed_off_at else None)


def _bundle_state(snapshot):
    if not snapshot.valid or snapshot.signed_off_at is None:
        return None
    return (snapshot.pk, snapshot.digest, snapshot.signed_off_at.isoformat())


stored.register(
    stored.Kind(
        name="application_book",
        load=lambda pk: views.PROPOSALS.get(pk=pk),
        state=_proposal_state,
        render=lambda p, *, contacts: _book(views.application_book_context(p, contacts=contacts)),
        audience=True,
        priority=PRIORITY_BOOKS,
    )
)
stored.register(
    stored.Kind(
        name="finalists_book",
        load=lambda pk: Competition.objects.get(pk=pk),
        state=_finalists_state,
        render=_finalists_render,
        audience=True,
        priority=PRIORITY_SLOW,
    )
)
stored.register(
    stored.Kind(
        name="results_report",
        load=lambda pk: SNAPSHOTS.get(pk=pk),
        state=_report_state,
        render=lambda s, *, contacts: report_pdf(s.competition, s),
        priority=PRIORITY_FIRST,
    )
)
stored.register(
    stored.Kind(
        name="sheet_bundle",
        load=lambda pk: SNAPSHOTS.get(pk=pk),
        state=_bundle_state,
        render=lambda s, *, contacts: views.sheet_bundle_pdf(s),
        priority=PRIORITY_SLOW,
    )
)
stored.register(
    stored.Kind(
        name="notice",
        load=lambda pk: PublicNotice.objects.select_related("competition").get(pk=pk),
        state=views.notice_state,
        render=lambda n, *, contacts: render_pdf("pdf/notice.html", views.notice_context(n)),
        priority=PRIORITY_FIRST,
    )
)
stored.register(
    stored.Kind(
        name="agreement",
        load=lambda pk: views.AGREEMENTS.get(pk=pk),
        state=lambda a: (a.pk, a.number, a.created_at.isoformat()),
        render=lambda a, *, contacts: render_pdf("pdf/agreement.html", views.agreement_context(a)),
        priority=PRIORITY_NEXT,
    )
)


# --- When documents become final ---

ROUND_ACTIONS = (
    "screening.finalists",
    "roadshow.draw",
    "roadshow.redraw",
    "results.freeze",
    "results.sign_off",
    "notice.publish",
    "notice.republish",
    "notice.close",
    "objection.upheld",
    "objection.dismissed",
)


def prepare_round(competition):
    """Enqueue the rendering of every document of the round that is final and not rendered yet (in the round's
    language; the staff's variant, with contact details)."""
    language = settings.LANGUAGE_CODE
    stored.prepare("finalists_book", competition, language=language, contacts=True)
    snapshot = SNAPSHOTS.filter(competition=competition, valid=True).first()
    if snapshot is not None:
        stored.prepare("results_report", snapshot, language=language)
        stored.prepare("sheet_bundle", snapshot, language=language)
    notice = PublicNotice.objects.filter(competition=competition).select_related("competition").first()
    if notice is not None:
        stored.prepare("notice", notice, language=language)
    for agreement in views.AGREEMENTS.filter(award__competition=competition):
        stored.prepare("agreement", agreement, language=language)


def prepare_proposal(proposal):
    stored.prepare("application_book", proposal, language=settings.LANGUAGE_CODE, contacts=True)


def _round_followed(event):
    if not settings.DOCUMENTS_PREPARE_WHEN_FINAL:
        return
    if event.object_type == "competitions.competition":
        competition = Competition.objects.filter(pk=event.object_id).first()
        if competition is not None:
            prepare_round(competition)


def _proposal_followed(event):
    if not settings.DOCUMENTS_PREPARE_WHEN_FINAL:
        return
    proposal = views.PROPOSALS.filter(pk=event.object_id).first()
    if proposal is not None:
        prepare_proposal(proposal)


def prepare_everything():
    """Every final document of every round (``manage.py prepare_documents``, run by ``make run`` after the demo)."""
    for competition in Competition.objects.order_by("pk"):
        prepare_round(competition)
    submitted = views.PROPOSALS.exclude(status__in=EDITABLE_BY_APPLICANT).exclude(submitted_at=None).order_by("pk")
    for proposal in submitted:
        prepare_proposal(proposal)


def connect():
    follow(ROUND_ACTIONS, _round_followed)
    follow([f"proposal.{ProposalStatus.SUBMITTED}"], _proposal_followed)
