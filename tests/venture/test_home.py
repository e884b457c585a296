"""The role home pages and the round overview live in venture.home: they read from every stage and nothing reads
from them. Their URLs kept their paths and names."""

from django.urls import resolve, reverse

from tests import factories
from venture.competitions.models import Stage
from venture.home import views
from venture.supervision.models import EvaluationCriterion


def test_the_home_and_round_overview_urls_kept_their_paths_and_names_and_moved_to_venture_home():
    assert (reverse("home"), resolve("/").func) == ("/", views.home)
    assert (reverse("competitions:rounds"), resolve("/rounds/").func) == ("/rounds/", views.round_list)
    assert (reverse("competitions:round", args=[7]), resolve("/rounds/7/").func) == ("/rounds/7/", views.round_detail)


def test_the_rubric_steps_kept_their_paths_and_names_in_the_competitions_namespace():
    assert resolve("/rounds/7/rubric/").view_name == "competitions:rubric"
    assert resolve("/rounds/7/rubric/").func.__module__ == "judging.rubric_views"
    for kind in ("midterm", "final"):
        match = resolve(f"/rounds/7/evaluation/{kind}/")
        assert (match.view_name, match.func.__module__, match.kwargs) == (
            f"competitions:evaluation_{kind}",
            "venture.supervision.evaluation_rubric_views",
            {"pk": 7, "kind": kind},
        )


def test_the_round_page_shows_the_evaluation_rubrics_from_supervision(client, staff):
    draft = factories.competition(stage=Stage.DRAFT)
    for order, name in enumerate(["Goals achieved", "Use of funds"]):
        EvaluationCriterion.objects.create(competition=draft, kind="midterm", name=name, max_points=50, order=order)
    client.cookies["django_language"] = "en"
    client.force_login(staff)
    body = client.get(f"/rounds/{draft.pk}/").content.decode()
    assert (
        f'<a class="btn btn-sm btn-outline-primary" href="/rounds/{draft.pk}/evaluation/midterm/">Mid-term '
        'evaluation <span class="badge text-bg-light">2</span></a>'
    ) in body
    assert (
        f'<a class="btn btn-sm btn-outline-primary" href="/rounds/{draft.pk}/evaluation/final/">Final '
        'evaluation <span class="badge text-bg-light">0</span></a>'
    ) in body
