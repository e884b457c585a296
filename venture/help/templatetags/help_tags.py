"""``{% help_link %}``: the "?" in the page header, opening the manual section for the current page."""

from django import template
from django.urls import reverse

from venture.help.manual import help_target

register = template.Library()


@register.simple_tag(takes_context=True)
def help_url(context):
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    role = getattr(user, "role", "") if user is not None and user.is_authenticated else "applicant"
    target_role, anchor = help_target(match.view_name if match else "", role)
    url = reverse("help:chapter", kwargs={"role": target_role})
    return f"{url}#{anchor}" if anchor else url
