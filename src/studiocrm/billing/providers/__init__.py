"""The provider registry: ``settings.BILLING_PROVIDERS`` maps a code to a dotted class path,
imported on first use (as healthchecks does with its transports)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

from studiocrm.billing.models import ProviderAccount
from studiocrm.billing.providers.base import PaymentProvider

if TYPE_CHECKING:
    from studiocrm.billing.models import Invoice


class UnknownProvider(LookupError):
    pass


@cache
def _load(path: str) -> type[PaymentProvider]:
    cls = import_string(path)
    if not (isinstance(cls, type) and issubclass(cls, PaymentProvider)):
        raise TypeError(f"{path} is not a PaymentProvider")
    return cls


def codes() -> list[str]:
    """Configured provider codes, in the order of the setting."""
    return list(getattr(settings, "BILLING_PROVIDERS", {}))


def provider_class(code: str) -> type[PaymentProvider]:
    paths = getattr(settings, "BILLING_PROVIDERS", {})
    if code not in paths:
        raise UnknownProvider(code)
    return _load(paths[code])


def get_provider(code: str) -> PaymentProvider:
    """The provider ``code`` with the studio's account (created empty and disabled on first
    use). Raises UnknownProvider for a code the settings do not list."""
    cls = provider_class(code)
    account, _created = ProviderAccount.objects.get_or_create(provider=code)
    return cls(account=account)


def enabled_providers() -> list[PaymentProvider]:
    """Providers the studio enabled and configured, in the setting's order."""
    accounts = {
        account.provider: account
        for account in ProviderAccount.objects.filter(enabled=True, provider__in=codes())
    }
    result = []
    for code in codes():
        if code in accounts:
            provider = provider_class(code)(account=accounts[code])
            if provider.is_configured():
                result.append(provider)
    return result


def providers_for(invoice: Invoice) -> list[PaymentProvider]:
    """The enabled, configured providers that take this invoice's money (its currency)."""
    return [provider for provider in enabled_providers() if provider.accepts(invoice)]
