"""The rubric of a round: the criteria judges score, with their weights and score bands (``judging.Criterion``).

Staff edit it as a step of the round's set-up (the page is in the competitions namespace, ``competitions:rubric``);
the save goes through the round's shared set-up machinery (``venture.competitions.services.save_rows``). This module
also tells the round what it needs of the rubric (registered in ``venture.competitions.setup``): the weights must add
up to 100 before the call opens, and a trimmed mean needs a large enough final panel.
"""

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from venture.competitions import policy, setup
from venture.competitions.models import AggregationMethod
from venture.competitions.services import (
    HUNDRED,
    check_unique,
    format_number,
    row_errors,
    rows_snapshot,
    save_rows,
)

from .models import Criterion, Panel, PanelStage

CRITERION_FIELDS = ["code", "name", "description", "max_points", "weight", "bands"]
CODE_MAX_LENGTH = 40  # Criterion.code
_NOT_CODE = re.compile(r"[^a-z0-9]+")


def code_from_name(name):
    """A criterion code made from its (Chinese) name, so that staff never invent one: the toneless pinyin of the Han
    characters run together, other letters and digits kept, lower case ("社会效益" -> "shehuixiaoyi", "创新性 2.0" ->
    "chuangxinxing_2_0"); "criterion" when nothing is left. Short enough for a "_2" suffix to fit."""
    parts = [_NOT_CODE.sub("_", part.lower()).strip("_") for part in lazy_pinyin(name or "", style=Style.NORMAL)]
    code = "_".join(_join_syllables(parts)).strip("_")
    return code[: CODE_MAX_LENGTH - 4].rstrip("_") or "criterion"


def _join_syllables(parts):
    """Consecutive pinyin syllables form one word; a run of other text (letters, digits) is a word of its own."""
    words, syllables = [], []
    for part in parts:
        if part.isalpha() and part.isascii() and " " not in part and len(part) <= 6 and part == part.strip():
            syllables.append(part)
            continue
        if syllables:
            words.append("".join(syllables))
            syllables = []
        if part:
            words.append(part)
    if syllables:
        words.append("".join(syllables))
    return words


def unique_code(base, taken):
    """``base``, or ``base_2``, ``base_3`` … whichever is not in ``taken`` (compared case-insensitively)."""
    taken = {code.casefold() for code in taken}
    code, n = base, 2
    while code.casefold() in taken:
        code = f"{base}_{n}"
        n += 1
    return code


def fill_codes(rows):
    """Give every row without a code one made from its name, unique within the rubric (the codes typed or kept
    first, then the new ones in row order). Rows keep the codes they have."""
    taken = {row["code"] for row in rows if row.get("code")}
    for row in rows:
        if not row.get("code") and row.get("name"):
            row["code"] = unique_code(code_from_name(row["name"]), taken)
            taken.add(row["code"])
    return rows


def _json_number(value):
    value = Decimal(str(value))
    return int(value) if value == value.to_integral_value() else float(value)


def plain_number(value):
    """A score as the judge typed it: 20 on a whole-point scale, not "20.0"; 20.5 stays 20.5."""
    if value is None:
        return None
    value = Decimal(str(value))
    return int(value) if value == value.to_integral_value() else value.normalize()


def total_bands(criteria):
    """The bands of the weighted total, when every criterion has bands with the same labels in the same order
    (优秀 21-25 of 25, …): a band's range of the total is where the total lands when every criterion is in that
    band, i.e. the sums over the criteria of weight x band bound / maximum points. Best band first, as
    [{"label", "min", "max"}] with 2-decimal floats for the sheet's live total; [] otherwise."""
    criteria = list(criteria)
    if not criteria or any(not c.bands for c in criteria):
        return []
    labels = [b.get("label") for b in criteria[0].bands]
    if any([b.get("label") for b in c.bands] != labels for c in criteria):
        return []
    bands = []
    for i, label in enumerate(labels):
        low = sum(
            (Decimal(c.weight) * Decimal(str(c.bands[i]["min"])) / Decimal(c.max_points) for c in criteria), Decimal(0)
        )
        high = sum(
            (Decimal(c.weight) * Decimal(str(c.bands[i]["max"])) / Decimal(c.max_points) for c in criteria), Decimal(0)
        )
        bands.append({"label": label, "min": float(round(low, 2)), "max": float(round(high, 2))})
    return sorted(bands, key=lambda b: -b["max"])


def band_text(band):
    # Bands are stored as JSON numbers: 25.2 is a float, read through str() so it prints as 25.2.
    return f"{format_number(Decimal(str(band['min'])))}-{format_number(Decimal(str(band['max'])))}"


def rubric_locked_message(competition):
    """Why the rubric may not change now ("" when it may): the stage policy's answer."""
    return policy.refusal(competition, policy.Part.RUBRIC)


def check_criterion(row):
    """Rules for one rubric line; raises ValidationError keyed by field. Bands are [{"min", "max", "label"}]."""
    errors = {}
    max_points, weight, bands = row.get("max_points"), row.get("weight"), row.get("bands") or []
    if max_points is not None and max_points <= 0:
        errors["max_points"] = [_("The maximum points must be more than zero.")]
    if weight is not None and not 0 < weight <= HUNDRED:
        errors["weight"] = [_("A weight is more than 0 and at most 100.")]
    band_errors = []
    for band in bands:
        if not str(band.get("label") or "").strip():
            band_errors.append(_("The band %(band)s needs a label.") % {"band": band_text(band)})
        if Decimal(str(band["min"])) > Decimal(str(band["max"])):
            band_errors.append(
                _("In the band %(band)s the lower bound is above the upper bound.") % {"band": band_text(band)}
            )
        elif max_points is not None and (band["min"] < 0 or band["max"] > max_points):
            band_errors.append(
                _("The band %(band)s lies outside 0 to %(max)s points.")
                % {"band": band_text(band), "max": format_number(max_points)}
            )
    ordered = sorted(bands, key=lambda b: (Decimal(str(b["min"])), Decimal(str(b["max"]))))
    for lower, upper in zip(ordered, ordered[1:], strict=False):
        if Decimal(str(upper["min"])) <= Decimal(str(lower["max"])):
            band_errors.append(_("The bands %(a)s and %(b)s overlap.") % {"a": band_text(lower), "b": band_text(upper)})
    if band_errors:
        errors["bands"] = band_errors
    if errors:
        raise ValidationError(errors)


def _normalize_criteria(rows):
    return [
        {
            "id": row.get("id"),
            "code": (row.get("code") or "").strip(),
            "name": (row.get("name") or "").strip(),
            "description": (row.get("description") or "").strip(),
            "max_points": Decimal(str(row["max_points"])) if row.get("max_points") is not None else None,
            "weight": Decimal(str(row["weight"])) if row.get("weight") is not None else None,
            "bands": [
                {
                    "min": _json_number(b["min"]),
                    "max": _json_number(b["max"]),
                    "label": str(b.get("label") or "").strip(),
                }
                for b in (row.get("bands") or [])
            ],
        }
        for row in rows
    ]


def check_rubric_totals(rows, *, tiebreak=""):
    """Rules for the rubric as a whole: codes unique, weights add up to exactly 100, the tie-break criterion kept."""
    check_unique(rows, "code", _("The criterion code “%(value)s” is used twice."))
    total = sum((row["weight"] for row in rows), Decimal("0"))
    if total != HUNDRED:
        raise ValidationError(
            _("The weights add up to %(total)s; they must add up to exactly 100.") % {"total": format_number(total)},
            code="weights",
        )
    if tiebreak and tiebreak not in {row["code"] for row in rows}:
        raise ValidationError(
            _(
                "The tie-break uses the criterion “%(code)s”. Keep it in the rubric, or change the tie-break in the "
                "round settings first."
            )
            % {"code": tiebreak},
            code="tiebreak",
        )


def check_rubric(rows, *, tiebreak=""):
    rows = fill_codes(_normalize_criteria(rows))
    errors = []
    for row in rows:
        if not row["code"] or not row["name"] or row["max_points"] is None or row["weight"] is None:
            raise ValidationError(
                _("Every criterion needs a code, a name, maximum points and a weight."), code="required"
            )
        try:
            check_criterion(row)
        except ValidationError as exc:
            errors += row_errors(row["code"], exc)
    if errors:
        raise ValidationError(errors)
    check_rubric_totals(rows, tiebreak=tiebreak)
    return rows


def save_rubric(*, competition, by, criteria):
    """Replace the round's rubric ([{"id"?, "code", "name", "description", "max_points", "weight", "bands"}]).
    Refused once judging has started (the stage policy, ``Part.RUBRIC``)."""

    def check(competition, rows, current):
        return check_rubric(rows, tiebreak=competition.tiebreak_criterion)

    return save_rows(
        competition=competition,
        by=by,
        model=Criterion,
        rows=criteria,
        check=check,
        fields=CRITERION_FIELDS,
        key="code",
        action="competition.rubric",
        audit_key="criteria",
        part=policy.Part.RUBRIC,
    )


# --- What the round needs to know about its rubric -------------------------------------------------------------------


def opening_problems(competition):
    weights = sum((c.weight for c in Criterion.objects.filter(competition=competition)), Decimal("0"))
    if weights != HUNDRED:
        return [
            _("The rubric's weights add up to %(total)s; they must add up to 100.")
            % {"total": f"{weights.normalize():f}"}
        ]
    return []


def trim_warnings(competition, values):
    """Advice that does not block saving: a trimmed mean over a final panel that is too small to trim."""
    method, trim = values.get("method"), values.get("trim")
    if competition is None or method != AggregationMethod.TRIMMED_MEAN or not trim:
        return []
    n_judges = (
        Panel.objects.filter(competition=competition, stage=PanelStage.FINAL)
        .annotate(n=Count("judges"))
        .values_list("n", flat=True)
        .first()
    )
    if n_judges is None:
        return []
    # This module is loaded at start-up (JudgingConfig.ready() registers its set-up part); scoring brings pandas and
    # scipy, which django.setup() otherwise never loads, so they are loaded only when there is a panel to check.
    from .scoring import TRIM_WARN_BELOW_JUDGES  # noqa: PLC0415 — pandas/scipy, not at start-up

    need = max(TRIM_WARN_BELOW_JUDGES, 2 * trim + 1)
    if n_judges >= need:
        return []
    return [
        _(
            "The final panel has %(n)s judges. A trimmed mean that drops %(trim)s total(s) at each end needs "
            "at least %(need)s judges to be reliable; add judges, lower the trim or choose another method."
        )
        % {"n": n_judges, "trim": trim, "need": need}
    ]


def copy_rubric(source, competition):
    """A round copied from ``source`` gets its rubric: codes, names, descriptions, points, weights and bands."""
    criteria = [
        Criterion(competition=competition, order=c.order, **{field: getattr(c, field) for field in CRITERION_FIELDS})
        for c in Criterion.objects.filter(competition=source)
    ]
    Criterion.objects.bulk_create(criteria)
    return {"criteria": rows_snapshot(criteria, CRITERION_FIELDS)}


setup.register(
    setup.SetupPart(
        name="rubric",
        order=50,
        on_copy=copy_rubric,
        opening_problems=opening_problems,
        settings_warnings=trim_warnings,
    )
)
