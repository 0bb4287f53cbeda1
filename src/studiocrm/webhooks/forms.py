from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from studiocrm.deals.events import VOCABULARY
from studiocrm.webhooks import http


class SubscriptionForm(forms.Form):
    url = forms.URLField(
        label=_("Receiver URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where studiocrm posts the events, e.g. https://example.com/hooks/crm."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(name, name) for name in VOCABULARY],
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            _scheme, host, port, _path = http.check_url(url)
            http.resolve(host, port)
        except http.UnsafeUrl as error:
            raise forms.ValidationError(str(error)) from None
        return url
