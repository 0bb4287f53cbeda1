"""Forms: every number is bounded by the limits of ``estimates.calc`` and errors are worded
for the person typing. The estimate editor renders its inputs by hand (hundreds of lines
render fast that way) and uses these forms only to validate what comes back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from studiocrm.core.models import Studio
from studiocrm.estimates import calc
from studiocrm.estimates.catalog import CURRENCY_CODE
from studiocrm.estimates.models import (
    STAGE_CHOICES,
    EstimateLine,
    EstimateRule,
    Package,
    PageType,
    PriceList,
    Role,
    Service,
    Unit,
)


class NumberField(forms.DecimalField):
    """A decimal that also accepts a comma and spaces ("1 500,50"), as people type them."""

    def __init__(self, *, low: Decimal = Decimal(0), high: Decimal, places: int = 2, **kwargs: Any):
        kwargs.setdefault("required", True)
        super().__init__(
            min_value=low,
            max_value=high,
            max_digits=len(str(int(high))) + places,
            decimal_places=places,
            **kwargs,
        )
        self.widget.attrs.update({"inputmode": "decimal", "step": "any"})

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str):
            value = value.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        return super().to_python(value)


def quantity_field(**kwargs: Any) -> NumberField:
    return NumberField(label=_("Quantity"), high=calc.MAX_QUANTITY, **kwargs)


def percent_field(label: Any, **kwargs: Any) -> NumberField:
    return NumberField(label=label, high=calc.MAX_PERCENT, **kwargs)


def price_field(label: Any, **kwargs: Any) -> NumberField:
    return NumberField(label=label, high=calc.MAX_UNIT_PRICE, **kwargs)


def hours_field(label: str) -> NumberField:
    return NumberField(label=label, high=calc.MAX_HOURS_PER_UNIT, required=False)


class LineForm(forms.Form):
    """The row of a line in the editor: what the manager changes most."""

    name = forms.CharField(label=_("Name"), max_length=200)
    quantity = quantity_field()
    unit_price = price_field(
        _("Unit price"), required=False, help_text=_("Empty: priced from the hours.")
    )
    discount_percent = percent_field(_("Discount, %"), required=False)
    tax_rate = percent_field(_("Tax rate, %"), required=False)
    is_optional = forms.BooleanField(label=_("Optional"), required=False)
    is_selected = forms.BooleanField(label=_("Included"), required=False)

    def __init__(self, *args: Any, line: EstimateLine, **kwargs: Any):
        self.line = line
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("discount_percent") is None:
            data["discount_percent"] = Decimal(0)
        if data.get("tax_rate") is None:
            data["tax_rate"] = self.line.tax_rate
        if not data.get("is_optional"):
            data["is_selected"] = True
        return data


class LineDetailsForm(forms.Form):
    """What a line's "More" panel edits: description, nesting, unit, stage, hours, cost."""

    description = forms.CharField(
        label=_("Description for the client"),
        required=False,
        widget=forms.Textarea,
        max_length=5000,
    )
    parent = forms.TypedChoiceField(
        label=_("Nested under"), required=False, coerce=int, empty_value=None
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices)
    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("By role"))] + STAGE_CHOICES
    )
    unit_cost = price_field(_("External cost per unit"), required=False)

    def __init__(self, *args: Any, line: EstimateLine, roles: list[dict[str, Any]], **kwargs: Any):
        self.line = line
        self.roles = roles
        super().__init__(*args, **kwargs)
        if line.kind == EstimateLine.Kind.PAGE:
            blocked = _descendant_ids(line)
            self.fields["parent"].choices = [("", _("— top level —"))] + [
                (page.pk, page.name)
                for page in line.option.lines.filter(kind=EstimateLine.Kind.PAGE)
                if page.pk not in blocked
            ]
        else:
            del self.fields["parent"]
        for role in roles:
            self.fields[f"hours_{role['code']}"] = hours_field(str(role["name"]))

    def hour_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{role['code']}"] for role in self.roles]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["work"] = {
            role["code"]: str(data[f"hours_{role['code']}"])
            for role in self.roles
            if data.get(f"hours_{role['code']}")
        }
        if data.get("unit_cost") is None:
            data["unit_cost"] = Decimal(0)
        return data

    def changes(self) -> dict[str, Any]:
        fields = {
            name: self.cleaned_data[name]
            for name in ("description", "unit", "stage", "unit_cost", "work")
        }
        if "parent" in self.fields:
            parent_id = self.cleaned_data.get("parent")
            fields["parent"] = (
                self.line.option.lines.filter(pk=parent_id, kind=EstimateLine.Kind.PAGE).first()
                if parent_id
                else None
            )
        return fields


def _descendant_ids(line: EstimateLine) -> set[int]:
    pages = list(
        line.option.lines.filter(kind=EstimateLine.Kind.PAGE).values_list("pk", "parent_id")
    )
    blocked = {line.pk}
    grew = True
    while grew:
        grew = False
        for pk, parent_id in pages:
            if parent_id in blocked and pk not in blocked:
                blocked.add(pk)
                grew = True
    return blocked


class AddPageForm(forms.Form):
    page_type = forms.ModelChoiceField(label=_("Page type"), queryset=PageType.objects.none())
    parent = forms.TypedChoiceField(label=_("Under"), required=False, coerce=int, empty_value=None)
    quantity = quantity_field(initial=1)

    def __init__(
        self, *args: Any, price_list: PriceList | None, pages: list[EstimateLine], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.pages = {page.pk: page for page in pages}
        if price_list is not None:
            self.fields["page_type"].queryset = price_list.page_types.all()
        self.fields["parent"].choices = [("", _("— top level —"))] + [
            (page.pk, page.name) for page in pages
        ]

    def clean_quantity(self) -> Decimal:
        quantity = self.cleaned_data["quantity"]
        if quantity <= 0:
            raise ValidationError(_("Add at least one page."))
        return quantity

    def parent_line(self) -> EstimateLine | None:
        parent_id = self.cleaned_data.get("parent")
        return self.pages.get(parent_id) if parent_id else None


class AddServiceForm(forms.Form):
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none())
    quantity = quantity_field(required=False, help_text=_("Empty: the service's default."))

    def __init__(self, *args: Any, price_list: PriceList | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if price_list is not None:
            self.fields["service"].queryset = price_list.services.all()

    def grouped_services(self) -> list[tuple[str, list[Service]]]:
        groups: dict[str, list[Service]] = {}
        for service in self.fields["service"].queryset:
            groups.setdefault(service.category or "—", []).append(service)
        return list(groups.items())


class CustomLineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    unit_price = price_field(_("Unit price"))
    quantity = quantity_field(initial=1)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices, initial=Unit.PIECE)


class OptionForm(forms.Form):
    name = forms.CharField(label=_("Option name"), max_length=100)
    discount_percent = percent_field(_("Discount on the option, %"), required=False)

    def clean_discount_percent(self) -> Decimal:
        return self.cleaned_data.get("discount_percent") or Decimal(0)


class MultiplierForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))
    factor = NumberField(label=_("Multiply hours by"), high=calc.MAX_MULTIPLIER, places=3)

    def __init__(self, *args: Any, roles: list[dict[str, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role["code"], role["name"]) for role in roles]


class EstimateSettingsForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    tax_mode = forms.ChoiceField(label=_("Tax mode"), choices=Studio.TaxMode.choices)
    tax_rate = percent_field(
        _("Tax rate for every line, %"),
        required=False,
        help_text=_("Empty keeps each line's own rate."),
    )


class PackageFromOptionForm(forms.Form):
    name = forms.CharField(label=_("Package name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, max_length=2000)


# --- price list (owner) --------------------------------------------------------------------


def _clean_currency(value: str) -> str:
    value = (value or "").strip().upper()
    if not CURRENCY_CODE.match(value):
        raise ValidationError(_("A currency is three letters, e.g. RUB, EUR or USD."))
    return value


class PriceListForm(forms.ModelForm):
    class Meta:
        model = PriceList
        fields = ["name", "currency", "language", "is_active"]

    def clean_currency(self) -> str:
        return _clean_currency(self.cleaned_data["currency"])


class DuplicatePriceListForm(forms.Form):
    name = forms.CharField(label=_("Name of the copy"), max_length=200)
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3)
    factor = NumberField(
        label=_("Multiply every amount by"),
        low=Decimal("0.000001"),
        high=Decimal("100000"),
        places=6,
        help_text=_("e.g. 0.011 to turn roubles into euros"),
    )

    def clean_currency(self) -> str:
        return _clean_currency(self.cleaned_data["currency"])


class _CodeUniqueMixin:
    """Codes are unique within a price list and fixed once created (rules refer to them)."""

    code_field = "code"

    def __init__(self, *args: Any, price_list: PriceList, **kwargs: Any):
        self.price_list = price_list
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        if self.instance.pk:  # type: ignore[attr-defined]
            self.fields[self.code_field].disabled = True  # type: ignore[attr-defined]

    def _clean_code(self) -> str:
        code = self.cleaned_data[self.code_field]  # type: ignore[attr-defined]
        model = self._meta.model  # type: ignore[attr-defined]
        clash = model.objects.filter(price_list=self.price_list, **{self.code_field: code})
        if self.instance.pk:  # type: ignore[attr-defined]
            clash = clash.exclude(pk=self.instance.pk)  # type: ignore[attr-defined]
        if clash.exists():
            raise ValidationError(_("This code is already used in this price list."))
        return code


class _WorkMixin:
    """Hours per role as one field per role of the price list."""

    def _add_hour_fields(self) -> None:
        self.roles = list(self.price_list.roles.all())  # type: ignore[attr-defined]
        work = self.instance.work or {}  # type: ignore[attr-defined]
        for role in self.roles:
            field = hours_field(role.name)
            field.initial = work.get(role.code)
            self.fields[f"hours_{role.code}"] = field  # type: ignore[attr-defined]

    def hour_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{role.code}"] for role in self.roles]  # type: ignore[index]

    def _work(self) -> dict[str, str]:
        data = self.cleaned_data  # type: ignore[attr-defined]
        return {
            role.code: str(data[f"hours_{role.code}"])
            for role in self.roles
            if data.get(f"hours_{role.code}")
        }


class RoleForm(_CodeUniqueMixin, forms.ModelForm):
    class Meta:
        model = Role
        fields = [
            "code",
            "name",
            "hourly_rate",
            "cost_rate",
            "hours_per_day",
            "people",
            "stage",
            "position",
        ]

    def clean_code(self) -> str:
        return self._clean_code()


class ServiceForm(_CodeUniqueMixin, _WorkMixin, forms.ModelForm):
    class Meta:
        model = Service
        fields = [
            "code",
            "name",
            "category",
            "unit",
            "price",
            "unit_cost",
            "default_quantity",
            "description",
            "is_optional",
            "stage",
            "position",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["price"].max_value = calc.MAX_UNIT_PRICE
        self._add_hour_fields()

    def clean_code(self) -> str:
        return self._clean_code()

    def clean_default_quantity(self) -> Decimal:
        quantity = self.cleaned_data["default_quantity"]
        if quantity > calc.MAX_QUANTITY:
            raise ValidationError(_("At most %(max)s.") % {"max": calc.MAX_QUANTITY})
        return quantity

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.instance.work = self._work()
        price = data.get("price")
        if price is not None and price > calc.MAX_UNIT_PRICE:
            self.add_error("price", _("At most %(max)s.") % {"max": calc.MAX_UNIT_PRICE})
        return data


class PageTypeForm(_CodeUniqueMixin, _WorkMixin, forms.ModelForm):
    code_field = "slug"

    class Meta:
        model = PageType
        fields = ["slug", "name", "description", "position"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._add_hour_fields()

    def clean_slug(self) -> str:
        return self._clean_code()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.instance.work = self._work()
        return data


class PackageForm(_CodeUniqueMixin, forms.ModelForm):
    class Meta:
        model = Package
        fields = ["code", "name", "description", "position"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean_code(self) -> str:
        return self._clean_code()


TARGET_ACTIONS = {
    EstimateRule.Action.ADD_PAGE: (PageType, "slug", _("page type")),
    EstimateRule.Action.ADD_SERVICE: (Service, "code", _("service")),
    EstimateRule.Action.MULTIPLY_ROLE: (Role, "code", _("role")),
    EstimateRule.Action.SET_OPTION: (Package, "code", _("package")),
}


class RuleForm(forms.ModelForm):
    class Meta:
        model = EstimateRule
        fields = [
            "question_key",
            "operator",
            "value",
            "action",
            "target",
            "amount",
            "amount_from_answer",
            "optional",
            "option_name",
            "template_key",
            "note",
            "position",
            "is_active",
        ]
        widgets = {"question_key": forms.TextInput(attrs={"list": "question-keys"})}

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        if amount > calc.MAX_QUANTITY:
            raise ValidationError(_("At most %(max)s.") % {"max": calc.MAX_QUANTITY})
        return amount

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        operator, action = data.get("operator"), data.get("action")
        key, value, target = (
            data.get("question_key"),
            (data.get("value") or "").strip(),
            data.get("target"),
        )
        if operator and operator != EstimateRule.Operator.ALWAYS and not key:
            self.add_error("question_key", _("Say which question the rule reads."))
        if operator == EstimateRule.Operator.ALWAYS:
            data["question_key"] = ""
            if data.get("amount_from_answer"):
                self.add_error(
                    "amount_from_answer", _("A rule without a question has no answer to use.")
                )
            if action == EstimateRule.Action.ADD_PAGES_FROM_ANSWER:
                self.add_error(
                    "action", _("This action needs a question whose answer lists pages.")
                )
        if operator in (EstimateRule.Operator.IS, EstimateRule.Operator.CONTAINS) and not value:
            self.add_error("value", _("Say which answer the rule looks for."))
        if operator in (EstimateRule.Operator.GTE, EstimateRule.Operator.LTE):
            try:
                Decimal(value.replace(",", "."))
            except ArithmeticError:
                self.add_error("value", _("Compare with a number, e.g. 300."))
        if (
            action == EstimateRule.Action.MULTIPLY_ROLE
            and (data.get("amount") or 0) > calc.MAX_MULTIPLIER
        ):
            self.add_error(
                "amount", _("A factor is at most %(max)s.") % {"max": calc.MAX_MULTIPLIER}
            )
        if action in TARGET_ACTIONS:
            model, field, label = TARGET_ACTIONS[action]
            if not target:
                if action != EstimateRule.Action.SET_OPTION or not data.get("option_name"):
                    self.add_error("target", _("Say which %(kind)s to use.") % {"kind": label})
            elif not model.objects.filter(**{field: target}).exists():
                self.add_error(
                    "target",
                    _("No price list has a %(kind)s with the code “%(code)s”.")
                    % {"kind": label, "code": target},
                )
        elif action == EstimateRule.Action.ADD_PAGES_FROM_ANSWER:
            data["target"] = ""
        return data
