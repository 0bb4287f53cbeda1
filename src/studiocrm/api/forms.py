from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from studiocrm.api.models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("Where the token is used, e.g. “Accounting sync” or “Zapier”."),
    )
    scope = forms.ChoiceField(
        label=_("Access"),
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
        help_text=_("A token can do what you can do, never more. Read-only cannot change data."),
    )
