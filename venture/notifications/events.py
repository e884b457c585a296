"""What each recorded change tells whom: the rules table from audit action codes to messages.

Every state change is audited inside its service's transaction (``venture.audit.services.record``); once that
transaction commits, ``services.dispatch`` looks the event's action up in ``RULES`` and sends what the rule returns.
A rule reads the event (its object, ``before``/``after``, ``note``) and the database as committed, and returns
``Message`` objects: the people told in their inbox and by e-mail, and, for what concerns the whole round, the text
the round's WeCom group robot posts. Messages are written in the site's language (Chinese), whoever made the change.

The group robot posts round-wide news only (finalists, roadshow order, the public notice, objection outcomes, results
and agreements, daily overdue counts): the group is shared, a reason given to one organization is for it alone, and a
robot takes at most 20 messages a minute, which one post per screened proposal would exceed.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from judging.models import Roadshow
from venture.accounts.models import User
from venture.audit.models import AuditEvent
from venture.awards.models import Award, AwardStatus, GrantAgreement, Objection, ObjectionStatus, PublicNotice
from venture.competitions.models import Competition
from venture.money import format_money
from venture.organizations.models import Organization
from venture.organizations.services import list_separator
from venture.proposals.models import Proposal, ProposalStatus
from venture.roles import Role
from venture.supervision.models import FundedProject, Rectification, RectificationStatus, SiteVisit, Tranche

from .models import RoundNotifications


@dataclass
class Message:
    """One thing to tell: ``users`` get it in their inbox and (``mail``) by e-mail at their address, or at ``emails``
    when given; ``webhook`` (markdown) is posted to ``competition``'s group robot when the round has one."""

    event: str
    title: str
    body: str
    link: str = ""  # a path on this site
    users: list = field(default_factory=list)
    emails: list[str] | None = None
    mail: bool = True
    mail_body: str = ""  # the e-mail's text when it differs from ``body`` + the link
    competition: Competition | None = None
    webhook: str = ""
    reminder_key: str = ""  # set for reminders: sent once a day

    def full_link(self):
        return settings.SITE_URL + self.link if self.link else settings.SITE_URL

    def recipients(self):
        if self.emails is not None:
            return sorted(set(self.emails))
        return sorted({u.email for u in self.users if u.email})

    def mail_text(self):
        return self.mail_body or f"{self.body}\n\n{self.full_link()}"


# --- Who --------------------------------------------------------------------------------------------------------------


def members(organization):
    """The organization's active members (inbox)."""
    return [
        m.user for m in organization.memberships.select_related("user").order_by("user__username") if m.user.is_active
    ]


def member_emails(organization):
    """Its active members' addresses, or the organization's own when no member has one (as the verification mails)."""
    emails = sorted({u.email for u in members(organization) if u.email})
    return emails or ([organization.email] if organization.email else [])


def staff_users():
    return list(User.objects.filter(role=Role.STAFF, is_active=True).order_by("username"))


def _local(dt):
    return formats.date_format(timezone.localtime(dt), "Y-m-d H:i")


def _day(d):
    return d.isoformat() if d else ""


def _webhook(title, lines, link):
    """The robot's markdown: the title in bold, the lines, and the link to the page."""
    label = _("Open on the platform")
    parts = [f"**{title}**", *lines, f"[{label}]({settings.SITE_URL}{link})"]
    return "\n".join(p for p in parts if p)


# --- Organizations ----------------------------------------------------------------------------------------------------


def organization_verified(event):
    organization = Organization.objects.get(pk=event.object_id)
    link = organization.get_absolute_url()
    body = _(
        "Union staff have verified %(org)s on the venture platform. Its proposals can now be submitted.\n%(link)s"
    ) % {"org": organization.name, "link": settings.SITE_URL + link}
    return [
        Message(
            event.action,
            _("%(org)s is verified") % {"org": organization.name},
            body,
            link,
            users=members(organization),
            emails=member_emails(organization),
            mail_body=body,
        )
    ]


def organization_rejected(event):
    organization = Organization.objects.get(pk=event.object_id)
    link = organization.get_absolute_url()
    body = _(
        "Union staff could not verify %(org)s on the venture platform.\n\nReason: %(reason)s\n\n"
        "Correct the organization's details or upload the certificate again, then resubmit it for "
        "verification:\n%(link)s"
    ) % {"org": organization.name, "reason": (event.after or {}).get("reason", ""), "link": settings.SITE_URL + link}
    return [
        Message(
            event.action,
            _("%(org)s was not verified") % {"org": organization.name},
            body,
            link,
            users=members(organization),
            emails=member_emails(organization),
            mail_body=body,
        )
    ]


def _to_verify(event, organization, why):
    link = organization.get_absolute_url()
    body = _("%(org)s is waiting for verification again: %(why)s\n\nVerify or reject it here: %(link)s") % {
        "org": organization.name,
        "why": why,
        "link": settings.SITE_URL + link,
    }
    staff = staff_users()
    return [
        Message(
            event.action,
            _("Organization to verify: %(org)s") % {"org": organization.name},
            body,
            link,
            users=staff,
            emails=[u.email for u in staff if u.email],
            mail_body=body,
        )
    ]


def organization_back_to_pending(event):
    """A verified organization changed its identity: back to 待审核, staff are told."""
    changed = (event.after or {}).get("identity_changed") or []
    if not changed:
        return []
    organization = Organization.objects.get(pk=event.object_id)
    labels = list_separator().join(
        str(getattr(Organization._meta.get_field(name), "verbose_name", name)) for name in changed
    )
    return _to_verify(event, organization, _("its identity changed (%(fields)s)") % {"fields": labels})


def organization_resubmitted(event):
    organization = Organization.objects.get(pk=event.object_id)
    reason = (event.after or {}).get("rejected_for", "")
    why = _("it was corrected and resubmitted after a rejection (%(reason)s)") % {"reason": reason}
    return _to_verify(event, organization, why)


# --- Proposals: returned, screening result, finalist, result ----------------------------------------------------------


def proposal_status(event):
    """Every status change of a proposal is mailed to all its organization's members (as before) and shown in their
    inbox: returned for revision (with the reason), the screening result, finalist or not, awarded or not funded."""
    to = (event.after or {}).get("status")
    if to not in ProposalStatus.values:
        return []
    proposal = Proposal.objects.select_related("competition", "organization").get(pk=event.object_id)
    label = ProposalStatus(to).label
    title = _("Proposal “%(title)s”: %(status)s") % {"title": proposal.title, "status": label}
    body = _("The status of your proposal “%(title)s” in “%(round)s” is now: %(status)s.") % {
        "title": proposal.title,
        "round": proposal.competition.title,
        "status": label,
    }
    if event.note:
        body += "\n" + _("Reason: %(reason)s") % {"reason": event.note}
    emails = [m.user.email for m in proposal.organization.memberships.select_related("user") if m.user.email]
    return [
        Message(
            event.action,
            title,
            body,
            proposal.get_absolute_url(),
            users=members(proposal.organization),
            emails=emails,
            mail_body=body,
        )
    ]


def finalists_confirmed(event):
    competition = Competition.objects.get(pk=event.object_id)
    count = len((event.after or {}).get("finalists") or [])
    title = _("“%(round)s”: the finalists are confirmed") % {"round": competition.title}
    line = _("%(n)s projects go on to the final review; each organization has been told its result.") % {"n": count}
    return [
        Message(
            event.action,
            title,
            line,
            reverse("competitions:call", args=[competition.pk]),
            competition=competition,
            webhook=_webhook(title, [line], reverse("competitions:call", args=[competition.pk])),
        )
    ]


# --- Roadshow ---------------------------------------------------------------------------------------------------------


def roadshow_order(event):
    """The order drawn by lot: each finalist hears its slot (and its time when staff set the roadshow's start);
    the group gets the whole order."""
    competition = Competition.objects.get(pk=event.object_id)
    roadshow = Roadshow.objects.get(competition=competition)
    slots = list(roadshow.slots.select_related("proposal__organization").order_by("position"))
    settings_row = RoundNotifications.objects.filter(competition=competition).first()
    starts = settings_row.roadshow_starts_at if settings_row else None
    minutes = competition.presentation_minutes + competition.qa_minutes
    messages, lines = [], []
    for slot in slots:
        proposal = slot.proposal
        when = ""
        if starts:
            when = _local(starts + datetime.timedelta(minutes=minutes * (slot.position - 1)))
        title = _("Roadshow: “%(title)s” presents in slot %(n)s") % {"title": proposal.title, "n": slot.position}
        body = _(
            "The presentation order of “%(round)s” was drawn by lot. “%(title)s” presents in slot %(n)s: "
            "%(talk)s minutes of presentation, then %(qa)s minutes of questions."
        ) % {
            "round": competition.title,
            "title": proposal.title,
            "n": slot.position,
            "talk": competition.presentation_minutes,
            "qa": competition.qa_minutes,
        }
        if when:
            body += "\n" + _("Expected start: %(when)s.") % {"when": when}
        messages.append(
            Message(event.action, title, body, proposal.get_absolute_url(), users=members(proposal.organization))
        )
        lines.append(f"{slot.position}. {proposal.title}" + (_(" (about %(when)s)") % {"when": when} if when else ""))
    title = _("“%(round)s”: roadshow order drawn") % {"round": competition.title}
    link = reverse("competitions:call", args=[competition.pk])
    messages.append(
        Message(event.action, title, "", link, competition=competition, webhook=_webhook(title, lines, link))
    )
    return messages


# --- Awards, the public notice, objections, agreements ----------------------------------------------------------------


def _award_message(event, award):
    proposal = award.proposal
    title = _("Award proposed for “%(title)s”: %(amount)s") % {
        "title": proposal.title,
        "amount": format_money(award.amount),
    }
    body = _(
        "The union proposes to fund “%(title)s” with %(amount)s%(grade)s. The award is published in the public "
        "notice and becomes final when the notice period ends."
    ) % {
        "title": proposal.title,
        "amount": format_money(award.amount),
        "grade": f"（{award.grade.name}）" if award.grade_id else "",
    }
    return Message(event.action, title, body, proposal.get_absolute_url(), users=members(proposal.organization))


def awards_proposed(event):
    awards = Award.objects.filter(competition_id=event.object_id, status=AwardStatus.OFFERED).select_related(
        "proposal__organization", "grade"
    )
    return [_award_message(event, a) for a in awards.order_by("rank")]


def award_offered(event):
    award = (
        Award.objects.filter(proposal_id=event.object_id, status=AwardStatus.OFFERED)
        .select_related("proposal__organization", "grade")
        .first()
    )
    return [_award_message(event, award)] if award else []


def notice_published(event):
    competition = Competition.objects.get(pk=event.object_id)
    notice = PublicNotice.objects.get(competition=competition)
    link = notice.get_absolute_url()
    title = _("“%(round)s”: the public notice is published") % {"round": competition.title}
    body = _(
        "The public notice runs from %(start)s to %(end)s. Anyone may lodge an objection on the notice page until "
        "%(end)s."
    ) % {"start": _day(notice.starts_on), "end": _day(notice.ends_on)}
    awarded = Award.objects.filter(competition=competition, status=AwardStatus.OFFERED).select_related(
        "proposal__organization"
    )
    # one message per organization, so that no one's e-mail address is shown to another
    messages = [
        Message(event.action, title, body, link, users=members(a.proposal.organization))
        for a in awarded.order_by("rank")
    ]
    messages.append(
        Message(event.action, title, body, link, competition=competition, webhook=_webhook(title, [body], link))
    )
    return messages


def objection_handled(event):
    objection = Objection.objects.select_related("notice__competition", "award__proposal__organization").get(
        pk=(event.after or {})["objection"]
    )
    competition = objection.notice.competition
    link = objection.notice.get_absolute_url()
    upheld = objection.status == ObjectionStatus.UPHELD
    title = (_("“%(round)s”: an objection was upheld") if upheld else _("“%(round)s”: an objection was dismissed")) % {
        "round": competition.title
    }
    body = _("Outcome: %(outcome)s") % {"outcome": objection.outcome}
    messages = []
    if objection.award is not None:
        organization = objection.award.proposal.organization
        messages.append(Message(event.action, title, body, link, users=members(organization)))
    try:
        validate_email(objection.contact)
    except ValidationError:
        pass  # a phone number: staff call back
    else:
        mail = _("Dear %(name)s,\n\nyour objection to the public notice of “%(round)s” has been handled.\n%(body)s") % {
            "name": objection.name,
            "round": competition.title,
            "body": body,
        }
        messages.append(
            Message(
                event.action,
                title,
                body,
                link,
                emails=[objection.contact],
                mail_body=f"{mail}\n\n{settings.SITE_URL}{link}",
            )
        )
    messages.append(
        Message(event.action, title, body, link, competition=competition, webhook=_webhook(title, [body], link))
    )
    return messages


def notice_closed(event):
    """The notice period is over: awards are final (the proposals' own events say awarded / not funded) and the
    grant agreements are ready to sign."""
    competition = Competition.objects.get(pk=event.object_id)
    agreements = GrantAgreement.objects.filter(award__competition=competition).select_related(
        "award__proposal__organization"
    )
    messages = []
    for agreement in agreements.order_by("number"):
        proposal = agreement.award.proposal
        messages.append(
            Message(
                "agreement.ready",
                _("Grant agreement %(number)s is ready") % {"number": agreement.number},
                _(
                    "The grant agreement for “%(title)s” (%(amount)s) is ready. Download it, check it and bring it "
                    "signed and stamped to the union."
                )
                % {"title": proposal.title, "amount": format_money(agreement.amount)},
                reverse("documents:agreement", args=[agreement.award_id]),
                users=members(proposal.organization),
            )
        )
    link = reverse("awards:notice", args=[competition.pk])
    title = _("“%(round)s”: the results are final") % {"round": competition.title}
    line = _("The public notice has closed; %(n)s projects are funded and their grant agreements are ready.") % {
        "n": len(messages)
    }
    messages.append(
        Message(event.action, title, line, link, competition=competition, webhook=_webhook(title, [line], link))
    )
    return messages


# --- Supervision ------------------------------------------------------------------------------------------------------


def tranche_released(event):
    project = FundedProject.objects.select_related("proposal__organization").get(pk=event.object_id)
    after = event.after or {}
    tranche = Tranche.objects.get(project=project, order=after["tranche"])
    title = _("“%(title)s”: tranche %(n)s released") % {"title": project.title, "n": tranche.order}
    body = _("%(amount)s of the grant was paid on %(on)s (voucher %(voucher)s).") % {
        "amount": format_money(tranche.released_amount),
        "on": _day(tranche.released_on),
        "voucher": tranche.voucher_no,
    }
    return [
        Message(event.action, title, body, project.get_absolute_url(), users=members(project.proposal.organization))
    ]


def _rectification_message(event, project, item, reopened=False):
    title = (
        _("“%(title)s”: a rectification was reopened") if reopened else _("“%(title)s”: a rectification is required")
    ) % {"title": project.title}
    body = _("%(what)s\nResponsible: %(owner)s. Deadline: %(deadline)s.") % {
        "what": item.what,
        "owner": item.owner,
        "deadline": _day(item.deadline),
    }
    if reopened and event.note:
        body += "\n" + _("Reason: %(reason)s") % {"reason": event.note}
    return Message(event.action, title, body, project.get_absolute_url(), users=members(project.proposal.organization))


def rectification_opened(event):
    project = FundedProject.objects.select_related("proposal__organization").get(pk=event.object_id)
    after = event.after or {}
    item = (
        Rectification.objects.filter(project=project, what=after.get("what", ""), status=RectificationStatus.OPEN)
        .order_by("-id")
        .first()
    )
    return [_rectification_message(event, project, item)] if item else []


def rectification_reopened(event):
    project = FundedProject.objects.select_related("proposal__organization").get(pk=event.object_id)
    # the reopened item is the open one most recently answered
    item = (
        Rectification.objects.filter(project=project, status=RectificationStatus.OPEN)
        .exclude(answered_at=None)
        .order_by("-answered_at", "-id")
        .first()
    )
    return [_rectification_message(event, project, item, reopened=True)] if item else []


def visit_recorded(event):
    if not (event.after or {}).get("rectifications"):
        return []
    project = FundedProject.objects.select_related("proposal__organization").get(pk=event.object_id)
    visit = SiteVisit.objects.filter(project=project).order_by("-id").first()
    items = Rectification.objects.filter(visit=visit).order_by("deadline", "id")
    return [_rectification_message(event, project, item) for item in items]


RULES: dict[str, Callable[[AuditEvent], list[Message]]] = {
    "organization.verified": organization_verified,
    "organization.rejected": organization_rejected,
    "organization.pending": organization_back_to_pending,
    "organization.resubmit": organization_resubmitted,
    **{f"proposal.{status}": proposal_status for status in ProposalStatus.values},
    "screening.finalists": finalists_confirmed,
    "roadshow.draw": roadshow_order,
    "roadshow.redraw": roadshow_order,
    "awards.propose": awards_proposed,
    "award.add": award_offered,
    "award.offer_next": award_offered,
    "notice.publish": notice_published,
    "notice.republish": notice_published,
    "objection.dismissed": objection_handled,
    "objection.upheld": objection_handled,
    "notice.close": notice_closed,
    "tranche.release": tranche_released,
    "rectification.create": rectification_opened,
    "rectification.reopen": rectification_reopened,
    "visit.record": visit_recorded,
}
