"""Issue #17: the result reveal from the signed-off snapshot and the signed-sheet bundle with its SHA-256."""

import hashlib
import re

import pytest
from django.db import connection
from django.urls import reverse

from judging.models import Roadshow, RoadshowSlot
from tests import factories
from tests.builders import build_round
from venture.audit.models import AuditEvent
from venture.documents.views import bundle_context
from venture.results import services as results
from venture.results.models import ResultSnapshot, SheetBundle
from venture.results.reveal import reveal_order

pytestmark = pytest.mark.django_db


def unsigned_round():
    """build_round's round with its sign-off taken back (as it is between the freeze and the auditor)."""
    c, staff, auditor, props = build_round()
    ResultSnapshot.objects.filter(competition=c).update(signed_off_by=None, signed_off_at=None)
    return c, staff, auditor, props


def test_reveal_refused_before_sign_off(client):
    c, staff, _auditor, _props = unsigned_round()
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("results:reveal", args=[c.pk]), follow=True)
    assert response.redirect_chain == [(reverse("results:results", args=[c.pk]), 302)]
    assert (
        "The result can be revealed only after the results are frozen and signed off by the auditor."
        in response.content.decode()
    )


def test_reveal_refused_to_others(client, auditor):
    c, _staff, _auditor, _props = build_round()
    client.force_login(factories.user("an_applicant"))
    assert client.get(reverse("results:reveal", args=[c.pk])).status_code == 404


def test_reveal_goes_from_last_to_first_and_shows_the_snapshot(client):
    c, staff, _auditor, props = build_round()
    snapshot = results.current_snapshot(c)
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    url = reverse("results:reveal", args=[c.pk])
    ranking = sorted(snapshot.outputs["ranking"], key=lambda r: -r["rank"])
    titles = {p.pk: p.title for p in props}
    html = client.get(url).content.decode()
    assert "4 projects in the final" in html and snapshot.digest[:8] in html and snapshot.digest[:9] not in html
    assert 'href="?step=1" data-reveal-next' in html
    for step, row in enumerate(ranking, start=1):
        html = client.get(url, {"step": step}).content.decode()
        latest = re.search(r"data-reveal-title>([^<]*)<.*?data-reveal-score>([^<]*)<", html, re.S).groups()
        assert latest == (titles[row["proposal"]], f"{row['score']:.2f}")
        assert f"Place {row['rank']}" in html
        assert re.findall(r'data-revealed-rank="(\d+)"', html) == [
            str(r["rank"]) for r in reversed(ranking[: step - 1])
        ]
        assert (f'href="?step={step + 1}"' in html) == (step < len(ranking))
    # Exactly what the snapshot says, last place first.
    assert [(r["rank"], r["proposal"], r["score"]) for r in reveal_order(snapshot)] == [
        (r["rank"], r["proposal"], f"{r['score']:.2f}") for r in ranking
    ]
    assert [r["title"] for r in reveal_order(snapshot)] == ["项目丁", "项目丙", "项目乙", "项目甲"]
    # Past the end stays on the last step; nonsense is step 0.
    assert "data-reveal-next" not in client.get(url, {"step": 99}).content.decode()
    assert 'href="?step=1"' in client.get(url, {"step": "x"}).content.decode()


def test_reveal_shows_the_stored_snapshot_not_a_recomputation(client):
    c, staff, _auditor, props = build_round()
    snapshot = results.current_snapshot(c)
    outputs = snapshot.outputs
    outputs["ranking"][0]["score"] = 12.34  # what the snapshot says is what the hall sees
    ResultSnapshot.objects.filter(pk=snapshot.pk).update(outputs=outputs)
    client.force_login(staff)
    html = client.get(reverse("results:reveal", args=[c.pk]), {"step": 4}).content.decode()
    assert re.search(r"data-reveal-score>12.34<", html)


def test_bundle_refused_before_sign_off(client):
    c, staff, _auditor, _props = unsigned_round()
    client.force_login(staff)
    response = client.get(reverse("documents:sheet_bundle", args=[c.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("results:results", args=[c.pk])
    assert not SheetBundle.objects.exists()


def test_bundle_hash_recorded_and_equal_to_the_served_pdf(client, auditor):
    c, staff, _auditor, props = build_round()
    roadshow = Roadshow.objects.create(competition=c, seed="s", draws=1)
    RoadshowSlot.objects.bulk_create(
        [RoadshowSlot(roadshow=roadshow, proposal=p, position=i) for i, p in enumerate(reversed(props), start=1)]
    )
    client.force_login(staff)
    first = client.get(reverse("documents:sheet_bundle", args=[c.pk]))
    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    body = b"".join(first.streaming_content) if first.streaming else first.content
    snapshot = results.current_snapshot(c)
    assert snapshot.bundle_sha256 == hashlib.sha256(body).hexdigest()
    assert snapshot.bundle_sha256[:8] in first["Content-Disposition"]  # the file is named by its fingerprint
    assert body.startswith(b"%PDF")
    # Served again (by the auditor too): the same bytes, the hash unchanged, one audit event.
    client.force_login(auditor)
    again = client.get(reverse("documents:sheet_bundle", args=[c.pk]))
    assert again.content == body
    assert list(AuditEvent.objects.filter(action="results.bundle").values_list("after", flat=True)) == [
        {"digest": snapshot.digest, "bundle_sha256": snapshot.bundle_sha256, "bytes": len(body)}
    ]


def test_bundle_content_in_roadshow_order_with_cover(client):
    c, _staff, _auditor, props = build_round()
    roadshow = Roadshow.objects.create(competition=c, seed="s", draws=1)
    order = [props[2], props[0], props[3], props[1]]
    RoadshowSlot.objects.bulk_create(
        [RoadshowSlot(roadshow=roadshow, proposal=p, position=i) for i, p in enumerate(order, start=1)]
    )
    context = bundle_context(results.current_snapshot(c))
    titles = [e["proposal"].title for e in context["sheets"]]
    assert titles == [p.title for p in order for _ in range(3)]  # 3 judges each, roadshow order
    assert [e["position"] for e in context["sheets"]] == [n for n in (1, 2, 3, 4) for _ in range(3)]
    assert [j.user.username for j in context["judges"]] == ["aw0", "aw1", "aw2"]
    assert all(e["sheet"].status == "submitted" and len(e["rows"]) == 4 for e in context["sheets"])


@pytest.mark.django_db(transaction=True)
def test_the_bundle_is_rendered_outside_any_transaction():
    """On SQLite a write transaction holds the one write lock: a bundle rendered inside one (a minute for a big round)
    made a second task worker's writes fail with "database is locked" (bench/demo_documents.py, two workers)."""
    c, _staff, auditor, _props = build_round()
    snapshot = results.current_snapshot(c)
    seen = []

    def make_pdf():
        seen.append(connection.in_atomic_block)
        return b"%PDF-1.7 bundle"

    first = results.record_bundle(snapshot=snapshot, make_pdf=make_pdf, by=auditor)
    again = results.record_bundle(snapshot=snapshot, make_pdf=make_pdf, by=auditor)
    assert seen == [False]  # rendered once, outside a transaction
    assert first.pk == again.pk and bytes(again.pdf) == b"%PDF-1.7 bundle"
    assert ResultSnapshot.objects.get(pk=snapshot.pk).bundle_sha256 == hashlib.sha256(b"%PDF-1.7 bundle").hexdigest()
    assert AuditEvent.objects.filter(action="results.bundle").count() == 1


def test_a_bundle_kept_meanwhile_wins_over_a_second_rendering(auditor):
    c, _staff, _auditor, _props = build_round()
    snapshot = results.current_snapshot(c)

    def make_pdf():  # another caller keeps its rendering while this one renders
        results.record_bundle(snapshot=snapshot, make_pdf=lambda: b"%PDF first", by=auditor)
        return b"%PDF second"

    kept = results.record_bundle(snapshot=snapshot, make_pdf=make_pdf, by=auditor)
    assert bytes(kept.pdf) == b"%PDF first"
    assert SheetBundle.objects.count() == 1
    assert AuditEvent.objects.filter(action="results.bundle").count() == 1
