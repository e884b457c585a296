from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from venture.audit.services import record

from .models import STAGE_TRANSITIONS, Competition, Stage


@transaction.atomic
def advance_stage(*, competition, to, by, note=""):
    competition = Competition.objects.select_for_update().get(pk=competition.pk)
    current = Stage(competition.stage)
    if to not in STAGE_TRANSITIONS[current]:
        raise ValidationError(
            _("A round cannot go from “%(from)s” to “%(to)s”.") % {"from": current.label, "to": Stage(to).label}
        )
    competition.stage = to
    competition.save(update_fields=["stage", "updated_at"])
    record(actor=by, action="competition.stage", obj=competition, before={"stage": current.value},
           after={"stage": to}, note=note)
    return competition
