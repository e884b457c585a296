from django import forms
from django.utils.translation import gettext_lazy as _

from .services import https_url


class RoundNotificationsForm(forms.Form):
    webhook_url = forms.CharField(
        label=_("WeCom group robot webhook URL"),
        required=False,
        max_length=500,
        validators=[https_url],
        help_text=_(
            "In the WeCom group: ⋯ → Add group robot → copy its webhook address "
            "(https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…). Leave empty to keep the current one."
        ),
    )
    remove_webhook = forms.BooleanField(label=_("Remove the group robot"), required=False)
    roadshow_starts_at = forms.DateTimeField(
        label=_("Roadshow starts at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Each finalist is told its slot and its expected start time, computed from this time."),
    )
