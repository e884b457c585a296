"""Markdown for call descriptions, rendered and then sanitised with nh3 so that no script or handler survives."""

import markdown as md
import nh3
from django.utils.safestring import mark_safe

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "h2",
    "h3",
    "h4",
    "h5",
    "blockquote",
    "code",
    "pre",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
}


def render_markdown(text):
    """Tables get Bootstrap's bordered style (a call's timetable reads as a grid); ``tel:`` links stay so that a
    phone number in the call text can be tapped."""
    html = md.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    return mark_safe(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes={"a": {"href", "title"}},
            url_schemes={"http", "https", "mailto", "tel"},
            set_tag_attribute_values={"table": {"class": "table table-bordered table-sm"}},
        )
    )


# The manual (docs/manual/, venture.help) is our own text, but it goes through the same sanitiser with a little more
# allowed: images (src without a scheme or on the site, alt, title) and an id on headings, so that the "?" link and
# the search results can open a section. Call descriptions keep the stricter render_markdown above.
MANUAL_TAGS = ALLOWED_TAGS | {"h1", "img"}
MANUAL_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    **{h: {"id"} for h in ("h1", "h2", "h3", "h4")},
}


def render_manual(text):
    """A manual chapter as sanitised HTML: ``## Heading {#anchor}`` gives the heading that id; ``![alt](src)`` an
    image. No script, style, event handler or other attribute survives, as in ``render_markdown``."""
    html = md.markdown(text or "", extensions=["tables", "sane_lists", "attr_list"], output_format="html")
    return mark_safe(
        nh3.clean(
            html,
            tags=MANUAL_TAGS,
            attributes=MANUAL_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
        )
    )
