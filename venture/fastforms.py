"""Form widgets and Bootstrap fields rendered in Python instead of through the template engine (issue #20, "Cheaper
requests").

Django renders every widget through a template (``django/forms/widgets/input.html`` including ``attrs.html``; a select
includes ``select_option.html`` once per option), and crispy-forms' ``as_crispy_field`` renders every field through
``bootstrap5/field.html`` and five more includes. The proposal edit page has about sixty widgets and fifteen crispy
fields: rendering them was most of the page's CPU time. This module produces the same markup directly:

* ``FastRenderer`` (``FORM_RENDERER``): Django's own template renderer, except that the plain widget templates (every
  ``<input>``, ``<textarea>``, ``<select>`` and ``<option>``) and a form of hidden fields only (a formset's management
  form) are written by Python functions that give the same string character for character. Any other template (a whole form, a formset, an error list, a template a project overrides)
  still goes through the template engine. ``tests/test_fastforms.py`` compares both renderers string for string.
* ``bootstrap_field`` (template filter ``bs_field``): what ``{{ field|as_crispy_field }}`` renders with the bootstrap5
  pack for text, number, date, e-mail, textarea and select fields (label with the required mark, the widget with
  crispy's classes, ``is-invalid``, the error block and the help text, Django's aria attributes), compared with crispy's
  output element for element by the same test. Other fields (hidden, checkbox, file, radio, multi-widgets) are handed to
  crispy as before.
"""

from html import escape

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.safestring import SafeData, mark_safe

WIDGETS = "django/forms/widgets/"
# The widget templates that are nothing but {% include "django/forms/widgets/input.html" %}.
INPUT_ALIASES = frozenset(
    f"{WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "search",
        "tel",
        "color",
        "file",
        "checkbox",
    )
)
SELECT_OPTION = f"{WIDGETS}select_option.html"
FORM_DIV = "django/forms/div.html"

_CONTEXT = Context()  # autoescape on, localization and time zone as the settings say: the renderer's defaults


# Django's escape() is html.escape() behind keep_lazy (a check of every argument for a lazy string on each call); the
# values escaped here are plain strings.


def _value(value):
    """``{{ value }}`` in a template: localized, then escaped unless marked safe."""
    if type(value) is str:
        return escape(value)
    return render_value_in_context(value, _CONTEXT)


def _string(value):
    """``{{ value|stringformat:'s' }}``: the value as %s (never localized), escaped unless it was safe."""
    if isinstance(value, tuple):
        value = str(value)
    try:
        text = "%s" % value  # noqa: UP031 - the very operation of Django's stringformat filter
    except (ValueError, TypeError):
        return ""
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs):
    """``django/forms/widgets/attrs.html``."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {_value(name)}")
        else:
            out.append(f' {_value(name)}="{_string(value)}"')
    return "".join(out)


def _input(widget):
    value = widget["value"]
    shown = f' value="{_string(value)}"' if value is not None else ""
    return f'<input type="{_value(widget["type"])}" name="{_value(widget["name"])}"{shown}{_attrs(widget["attrs"])}>\n'


def _textarea(widget):
    value = widget["value"]
    return f'<textarea name="{_value(widget["name"])}"{_attrs(widget["attrs"])}>\n{_value(value) if value else ""}</textarea>\n'


def _option(option):
    return f'<option value="{_string(option["value"])}"{_attrs(option["attrs"])}>{_value(option["label"])}</option>\n'


class FastRenderer(DjangoTemplates):
    """Django's template renderer with the plain widget templates written in Python (same output)."""

    def render(self, template_name, context, request=None):
        if template_name in INPUT_ALIASES:
            return _input(context["widget"]).strip()
        if template_name == f"{WIDGETS}textarea.html":
            return _textarea(context["widget"]).strip()
        if template_name == f"{WIDGETS}select.html":
            return self._select(context["widget"], request).strip()
        if template_name == SELECT_OPTION:
            return _option(context["widget"]).strip()
        if template_name == FORM_DIV and not context.get("fields") and not context.get("errors"):
            # A form of hidden fields only (a formset's management form): div.html renders them one after the other.
            return "".join(str(field) for field in context["hidden_fields"]).strip()
        return super().render(template_name, context, request=request)

    def _select(self, widget, request):
        out = [f'<select name="{_value(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                out.append(f'\n  <optgroup label="{_value(group_name)}">')
            for option in group_choices:
                out.append("\n  ")
                if option["template_name"] == SELECT_OPTION:
                    out.append(_option(option))
                else:  # an option template of the project's own: through the engine, as {% include %} would
                    template = self.get_template(option["template_name"])
                    out.append(template.render({"widget": option}, request=request))
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>\n")
        return "".join(out)


# --- Bootstrap fields (crispy-forms' bootstrap5 field.html, for the simple widgets) ---------------------------------

SIMPLE_WIDGETS = (
    forms.TextInput,
    forms.NumberInput,
    forms.DateInput,
    forms.EmailInput,
    forms.Textarea,
    forms.Select,
    forms.FileInput,  # without a file already stored (an upload form); with one, crispy renders it
)
EXCLUDED_WIDGETS = (forms.SelectMultiple, forms.RadioSelect, forms.CheckboxInput, forms.HiddenInput)


def _add_classes(widget, wanted):
    """What crispy's ``{% crispy_field field 'class' '…' %}`` does to the widget: its own class name, then ``wanted``."""
    class_name = widget.__class__.__name__.lower()
    class_name = getattr(settings, "CRISPY_CLASS_CONVERTERS", {}).get(class_name, class_name)
    css = widget.attrs.get("class", "")
    if css:
        if css.find(class_name) == -1:
            css += f" {class_name}"
    else:
        css = class_name
    for name in wanted.split():
        if name not in css.split():
            css += f" {name}"
    widget.attrs["class"] = css


def bootstrap_field(field):
    """``{{ field|as_crispy_field }}`` (bootstrap5 pack, no form helper) without the template engine."""
    widget = field.field.widget
    if (
        not isinstance(widget, SIMPLE_WIDGETS)
        or isinstance(widget, EXCLUDED_WIDGETS)
        or getattr(field.form, "helper", None) is not None
        or field.use_fieldset
    ):
        return as_crispy_field(field)
    subwidgets = field.subwidgets if isinstance(widget, forms.FileInput) else ()
    if any(sub.data.get("is_initial") for sub in subwidgets):
        return as_crispy_field(field)
    errors = field.errors
    required = field.field.required
    auto_id = field.auto_id
    css_classes = field.css_classes()
    out = [f'<div id="div_{_value(auto_id)}" class="mb-3{f" {_value(css_classes)}" if css_classes else ""}">']
    if field.label:
        label_for = field.id_for_label
        out.append("<label ")
        if label_for:
            out.append(f'for="{_value(label_for)}" ')
        out.append(f'class="form-label{" requiredField" if required else ""}">{_value(field.label)}')
        out.append('<span class="asteriskField">*</span></label>' if required else "</label>")
    if subwidgets:  # bootstrap5/layout/field_file.html: the help text and errors inside the input's own <div>
        for sub in subwidgets:
            out.append(_file_input(field, sub.data, errors))
        out.append("</div>")
        return mark_safe("".join(out))  # noqa: S308 - escaped as below
    base = "form-select" if isinstance(widget, forms.Select) else "form-control"
    _add_classes(widget, f"{base} is-invalid" if errors else base)
    out.append(str(field))
    out.append(_help_and_errors(field, errors, auto_id))
    out.append("</div>")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped; help texts are the forms' own (|safe)


def _file_input(field, data, errors):
    css = data["attrs"].get("class")
    attrs = {name: value for name, value in data["attrs"].items() if name != "class"}
    invalid = ' class="is-invalid"' if errors else ""
    return (
        f"<div{invalid}>"
        f'<input type="{_value(data["type"])}" name="{_value(data["name"])}" class="form-control'
        f'{f" {_value(css)}" if css else ""}{" is-invalid" if errors else ""}"'
        f"{' disabled' if field.field.disabled else ''}{_attrs(attrs)}>"
        f"{_help_and_errors(field, errors, field.auto_id)}</div>"
    )


def _help_and_errors(field, errors, auto_id):
    """bootstrap5/layout/help_text_and_errors.html: the error block, then the help text."""
    out = []
    if errors:
        out.append(f'<div id="{_value(errors.field_id)}_error" class="invalid-feedback">')
        out.extend(
            f'<p id="error_{n}_{_value(auto_id)}"><strong>{_value(error)}</strong></p>'
            for n, error in enumerate(errors, start=1)
        )
        out.append("</div>")
    if field.help_text:
        helptext_id = f'id="{_value(auto_id)}_helptext" ' if auto_id else ""
        out.append(f'<div {helptext_id}class="form-text">{str(field.help_text)}</div>')  # |safe, as crispy
    return "".join(out)
