from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from studiocrm.core.models import User
from studiocrm.deals.models import Deal, LostReason, Source, Stage


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class FilterForm(forms.Form):
    """Period, manager, source, currency and how to group time. Managers see their own
    figures, so they get no manager choice."""

    date_from = forms.DateField(
        label=pgettext_lazy("period", "From"), required=False, widget=DateInput()
    )
    date_to = forms.DateField(
        label=pgettext_lazy("period", "To"), required=False, widget=DateInput()
    )
    manager = forms.ModelChoiceField(
        label=_("Manager"), queryset=User.objects.none(), required=False, empty_label=_("Everyone")
    )
    source = forms.ChoiceField(label=_("Source"), required=False)
    currency = forms.ChoiceField(label=_("Currency"), required=False)
    unit = forms.ChoiceField(
        label=_("Applications by"),
        required=False,
        choices=[
            ("month", pgettext_lazy("group by", "month")),
            ("week", pgettext_lazy("group by", "week")),
        ],
    )

    def __init__(self, *args: Any, user: User, default_from: date, default_to: date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["date_from"].widget.attrs["placeholder"] = default_from.isoformat()
        self.fields["date_to"].widget.attrs["placeholder"] = default_to.isoformat()
        self.default_from, self.default_to = default_from, default_to
        if user.is_owner:
            self.fields["manager"].queryset = User.objects.filter(is_active=True).order_by(
                "first_name", "username"
            )
        else:
            del self.fields["manager"]
        self.fields["source"].choices = [("", _("All sources")), *Source.choices]
        currencies = Deal.objects.order_by("currency").values_list("currency", flat=True)
        self.fields["currency"].choices = [
            ("", _("All currencies")),
            *[(code, code) for code in currencies.distinct()],
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start = cleaned.get("date_from") or self.default_from
        end = cleaned.get("date_to") or self.default_to
        if start > end:
            self.add_error("date_to", _("The period ends before it starts."))
        elif (end - start).days > 366 * 5:
            self.add_error("date_from", _("Pick a period of five years or less."))
        cleaned["date_from"], cleaned["date_to"] = start, end
        return cleaned


class ProbabilityForm(forms.Form):
    """Win probability per open stage, and the new-lead SLA."""

    sla = forms.IntegerField(
        label=_("First response to a new lead within, minutes"), min_value=1, max_value=20160
    )

    def __init__(self, *args: Any, stages: list[Stage], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stages = [stage for stage in stages if stage.is_open]
        for stage in self.stages:
            self.fields[f"stage_{stage.code}"] = forms.IntegerField(
                label=_("%(stage)s, win probability %%") % {"stage": stage.label},
                min_value=0,
                max_value=100,
                initial=stage.probability,
            )

    def probabilities(self) -> dict[str, int]:
        return {stage.code: self.cleaned_data[f"stage_{stage.code}"] for stage in self.stages}


class LostReasonForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    active = forms.BooleanField(label=_("Offered"), required=False, initial=True)


def lost_reason_forms(data: Any = None) -> list[tuple[LostReason | None, LostReasonForm]]:
    """One small form per reason plus an empty one for a new reason."""
    rows: list[tuple[LostReason | None, LostReasonForm]] = []
    for reason in LostReason.objects.all():
        form = LostReasonForm(
            data,
            prefix=f"reason-{reason.pk}",
            initial={"name": reason.name, "active": reason.active},
        )
        form.fields["name"].widget.attrs["placeholder"] = reason.label
        rows.append((reason, form))
    rows.append((None, LostReasonForm(data, prefix="reason-new", initial={"active": True})))
    return rows
