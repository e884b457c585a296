"""The results report (评审结果报告) of a frozen round as a PDF, rendered once per snapshot and kept.

The report of an intact snapshot is a final document, rendered in the background at the freeze and again at the
sign-off and kept in the media storage (``venture.documents.final``); the cache below serves what is rendered on
demand (a snapshot whose live check failed, with its red banner).

A frozen snapshot never changes: the report is rendered once per snapshot, sign-off state, language and day (the
report carries its date) and kept in the data folder under ``cache/results/``; a 500-proposal report takes
WeasyPrint 3–4 s. What it shows is the results page's data (``venture.results.queries.results_data``)."""

from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from venture.pdf import render_pdf
from venture.results.queries import results_data
from venture.results.services import live_check

CACHE = Path("cache") / "results"


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
    columns = [
        (_("Score"), None, [r["score"] for r in rows]),
        (_("Mean"), None, [r["mean"] for r in rows]),
        (_("Median"), None, [r["median"] for r in rows]),
        ("n", None, [r["n"] for r in rows]),
    ]
    columns += [(c.name, c.max_points, [r["criteria"][i] for r in rows]) for i, c in enumerate(data["criteria"])]
    # the widest value and a gap of two, and at least room for the header: "n"; "Median" or three Chinese characters
    # a line; four for a criterion's name
    widths = [
        max(max(map(len, values), default=0) + 2, 4 if label == "n" else 7 if points is None else 8)
        for label, points, values in columns
    ]
    figures = [
        "".join(value.rjust(width) for value, width in zip(line, widths, strict=True))
        for line in zip(*(values for _label, _points, values in columns), strict=True)
    ]
    return {
        "report_rows": [
            {
                "rank": r["rank"],
                "title": r["title"],
                "organization": r["organization"],
                "figures": f,
                "decided_by": r["decided_by"],
                "decided_prev": r["decided_prev"],
            }
            for r, f in zip(rows, figures, strict=True)
        ],
        "figure_columns": [
            (label, points, width) for (label, points, _values), width in zip(columns, widths, strict=True)
        ],
    }


def cache_path(snapshot, *, today=None, intact=True):
    """Where the report of ``snapshot`` in the active language, as it reads ``today``, is kept; a report of a
    snapshot whose live check failed (``intact`` False: it carries the red banner) is kept apart."""
    today = today or timezone.localdate()
    key = "-".join(
        [
            str(snapshot.pk),
            snapshot.digest[:16],
            snapshot.signed_off_at.strftime("%Y%m%d%H%M%S") if snapshot.signed_off_at else "unsigned",
            translation.get_language(),
            today.isoformat(),
        ]
        + ([] if intact else ["tampered"])
    )
    return Path(settings.DATA_DIR) / CACHE / f"{key}.pdf"


def report_pdf(competition, snapshot, *, intact=True, today=None, request=None):
    """The report of ``snapshot`` rendered now (no cache): the stored final document (``venture.documents.final``)
    and the cache below both come from here."""
    shown = results_data(competition, snapshot)
    context = {
        "competition": competition,
        "snapshot": snapshot,
        "today": today or timezone.localdate(),
        "tampered": not intact,
        "signed_off_by": snapshot.signed_off_by,
        **shown,
        **report_table(shown),
    }
    return render_pdf("pdf/results_report.html", context, request=request)


def results_report(competition, snapshot, *, request=None):
    """The report's PDF bytes: from the cache when this snapshot's report was rendered today in this language and
    sign-off state, else rendered and stored (written aside, then moved into place, so a reader never sees half a
    file)."""
    today = timezone.localdate()
    intact = live_check(
        snapshot, competition
    )  # issue #14: the sealed rows now against the stored digest, on every request
    cached = cache_path(snapshot, today=today, intact=intact)
    if cached.exists():
        return cached.read_bytes()
    data = report_pdf(competition, snapshot, intact=intact, today=today, request=request)
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(cached)
    return data
