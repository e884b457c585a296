"""venture/fastforms.py gives the markup of Django's widget templates and of crispy's ``as_crispy_field`` (issue #20,
"Cheaper requests"): string for string for the widgets, element for element for the Bootstrap fields."""

from datetime import date
from decimal import Decimal

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.forms.renderers import DjangoTemplates
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from tests import factories
from venture.fastforms import FastRenderer, bootstrap_field
from venture.proposals.forms import AttachmentForm, BudgetLineForm, BudgetLineFormSet, ProposalForm


class Everything(forms.Form):
    text = forms.CharField(label=gettext_lazy("Item"), max_length=20, help_text="a <b>hint</b>")
    optional = forms.CharField(required=False, widget=forms.TextInput(attrs={"data-x": mark_safe("<safe>")}))
    number = forms.DecimalField(widget=forms.NumberInput(attrs={"step": "0.01", "min": 0}))
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    hidden = forms.IntegerField(widget=forms.HiddenInput)
    flag = forms.BooleanField(required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "readonly": True, "disabled": False}))
    choice = forms.ChoiceField(
        choices=[("", "---"), ("a", "A & B"), (3, 3), ("Group", [("g1", "<one>"), ("g2", "two")])]
    )
    email = forms.EmailField(required=False)


BOUND = {
    "text": 'say "<hi>" & bye',
    "optional": "",
    "number": "12.50",
    "day": "2026-09-30",
    "hidden": "7",
    "flag": "on",
    "body": "line 1\n<line 2>",
    "choice": "g1",
    "email": "not an address",
}


@pytest.mark.parametrize(
    "make",
    [
        lambda: Everything(),
        lambda: Everything(initial={"text": "x", "number": Decimal("3.10"), "day": date(2026, 1, 2), "choice": 3}),
        lambda: Everything(BOUND),
        lambda: Everything({**BOUND, "text": "", "choice": "nope", "body": "", "flag": ""}),
    ],
    ids=["unbound", "initial", "bound", "bound-with-errors"],
)
def test_fast_widgets_equal_django_templates(make):
    fast, django = make(), make()
    fast.renderer, django.renderer = FastRenderer(), DjangoTemplates()
    fast.is_bound and (fast.is_valid(), django.is_valid())
    for name in fast.fields:
        assert str(fast[name]) == str(django[name]), name
    assert fast.as_div() == django.as_div()  # whole-form templates still go through the engine


@pytest.mark.parametrize("data", [None, {"lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0"}, {"x": "1"}])
def test_management_form_equals_django_templates(data):
    """A form of hidden fields only (written by Python unless it has errors)."""
    fast, django = (BudgetLineFormSet(data, prefix="lines") for _ in range(2))
    fast.renderer, django.renderer = FastRenderer(), DjangoTemplates()
    assert str(fast.management_form) == str(django.management_form)
    assert ("<ul" in str(fast.management_form)) is (data == {"x": "1"})  # the tampered form shows its errors


def _same_markup(fast, crispy):
    assert parse_html(fast) == parse_html(crispy), f"\n{fast}\n!=\n{crispy}"


@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "bound-with-errors"])
def test_bs_field_equals_as_crispy_field(db, bound):
    c = factories.competition()
    proposal = factories.proposal(c, factories.organization())
    data = {
        "version": "1",
        "title": "<标题>",
        "category": "999999",  # not a category of the round: an error
        "people_to_serve": "-3",
        "period_start": "2026-09-30",
        "period_end": "2026-01-01",  # before the start: an error
        "requested_amount": "12.345",  # fen: an error
        "needs": "需求 & <b>",
    }

    def form():
        f = ProposalForm(data if bound else None, instance=proposal, competition=c)
        f.is_bound and f.is_valid()
        return f

    ours, theirs = form(), form()
    assert bool(ours.errors) is bound
    for name in ours.fields:
        _same_markup(bootstrap_field(ours[name]), as_crispy_field(theirs[name]))
    forms_ = (  # a file field, a select of a formset row
        lambda: AttachmentForm({"description": "x" * 201} if bound else None, {} if bound else None),
        lambda: BudgetLineForm({"category": "0"} if bound else None, competition=c),
    )
    for make in forms_:
        ours, theirs = make(), make()
        assert ours.is_bound is bound and not (bound and ours.is_valid())
        for name in ours.fields:
            _same_markup(bootstrap_field(ours[name]), as_crispy_field(theirs[name]))


def test_bs_field_snapshot(db):
    """The markup itself, for a required field with an error and a help text (label, required mark, classes, aria)."""
    c = factories.competition()
    form = ProposalForm(
        {"version": "1", "people_to_serve": "-3"},
        instance=factories.proposal(c, factories.organization()),
        competition=c,
    )
    form.fields["people_to_serve"].required = True
    assert not form.is_valid()
    with translation.override("en"):
        html = Template("{{ form.people_to_serve|bs_field }}").render(Context({"form": form}))
    expected = (
        '<div id="div_id_people_to_serve" class="mb-3">'
        '<label for="id_people_to_serve" class="form-label requiredField">People to serve'
        '<span class="asteriskField">*</span></label>'
        '<input type="number" name="people_to_serve" value="-3" min="0" '
        'class="numberinput form-control is-invalid" required aria-invalid="true" '
        'aria-describedby="id_people_to_serve_helptext id_people_to_serve_error" id="id_people_to_serve">'
        '<div id="id_people_to_serve_error" class="invalid-feedback"><p id="error_1_id_people_to_serve">'
        "<strong>Ensure this value is greater than or equal to 0.</strong></p></div>"
        '<div id="id_people_to_serve_helptext" class="form-text">'
        "How many different people the project will serve, each counted once, e.g. 300.</div></div>"
    )
    assert html == expected
