"""Who hears about a deal, and in which language. The letters themselves are the studio's
templates (``flow.letters``, ``flow.manager_letters``)."""

from __future__ import annotations

from studiocrm.core.models import Studio, User
from studiocrm.deals.models import Deal


def manager_language(user: User) -> str:
    """The language a manager reads: their own, else the studio's."""
    return user.language or Studio.load().locale


def responsible_manager(deal: Deal) -> User | None:
    """Who hears about a deal when it has nobody else: its manager, else the studio's
    default manager, else the first owner (each active and with an email address)."""
    if deal.manager and deal.manager.is_active and deal.manager.email:
        return deal.manager
    studio = Studio.load()
    if studio.default_manager and studio.default_manager.is_active and studio.default_manager.email:
        return studio.default_manager
    return (
        User.objects.filter(is_active=True, role=User.Role.OWNER)
        .exclude(email="")
        .order_by("pk")
        .first()
    )
