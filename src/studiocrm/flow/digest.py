"""The morning digest: at 8:00 in each manager's time zone, one email with today's tasks,
the deals that went quiet and what clients did yesterday. A periodic job; the dedupe key
(user and local date) makes several workers, or a job run every few minutes, send one."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from studiocrm.core.models import Studio, User
from studiocrm.core.urls_util import absolute_url
from studiocrm.deals.models import IDLE_DAYS, Deal, Event, Task
from studiocrm.documents.filters import long_date
from studiocrm.flow.letters import send_manager_letter
from studiocrm.flow.messages import manager_language
from studiocrm.flow.models import ManagerChannels
from studiocrm.flow.notify import CLIENT_ACTIONS
from studiocrm.notifications.models import Outbox

DIGEST_HOUR = time(8, 0)


def idle_deals(user: User, now: datetime) -> list[Deal]:
    """Open deals of the manager with no stage move for IDLE_DAYS."""
    return list(
        Deal.objects.open()
        .filter(manager=user, stage_changed_at__lt=now - timedelta(days=IDLE_DAYS))
        .select_related("stage")
        .order_by("stage_changed_at")[:20]
    )


def _zone(user: User, channels: dict[int, ManagerChannels], studio_zone: str) -> ZoneInfo:
    chosen = channels.get(user.pk)
    return ZoneInfo(chosen.time_zone if chosen and chosen.time_zone else studio_zone)


def send_digests(now: datetime | None = None) -> int:
    """Queue the digest of every manager for whom it is past 8:00 today and who has not had
    today's yet. Returns how many were queued."""
    now = now or timezone.now()
    studio_zone = Studio.load().time_zone
    channels = {item.user_id: item for item in ManagerChannels.objects.all()}
    queued = 0
    for user in User.objects.filter(is_active=True).exclude(email=""):
        if user.pk in channels and not channels[user.pk].morning_digest:
            continue
        zone = _zone(user, channels, studio_zone)
        local = now.astimezone(zone)
        if local.time() < DIGEST_HOUR:
            continue
        key = f"digest:{user.pk}:{local.date().isoformat()}"
        if Outbox.objects.filter(dedupe_key=key).exists():
            continue
        start_of_day = datetime.combine(local.date(), time(0, 0), tzinfo=zone)
        tasks = list(
            Task.objects.filter(
                assignee=user, done=False, due_at__lt=start_of_day + timedelta(days=1)
            )
            .select_related("deal")
            .order_by("due_at")[:30]
        )
        yesterday = list(
            Event.objects.filter(
                Q(deal__manager=user),
                name__in=list(CLIENT_ACTIONS),
                at__gte=start_of_day - timedelta(days=1),
                at__lt=start_of_day,
            )
            .select_related("deal")
            .order_by("at")[:50]
        )
        quiet = idle_deals(user, now)
        if not (tasks or yesterday or quiet):
            continue
        if _send(user, zone, local.date(), key, tasks=tasks, yesterday=yesterday, quiet=quiet):
            queued += 1
    return queued


def _send(
    user: User,
    zone: ZoneInfo,
    day: date,
    key: str,
    *,
    tasks: list[Task],
    yesterday: list[Event],
    quiet: list[Deal],
) -> bool:
    """The studio's ``manager_digest`` letter, from plain data in the manager's language and
    time zone."""
    language = manager_language(user)
    with translation.override(language):
        context = {
            "day": long_date(day, language),
            "tasks": [
                {
                    "time": task.due_at.astimezone(zone).strftime("%H:%M"),
                    "title": task.title,
                    "deal": task.deal.title if task.deal else "",
                }
                for task in tasks
            ],
            "client_actions": [
                {
                    "label": _(CLIENT_ACTIONS[event.name]),
                    "deal": event.deal.title,
                    "link": absolute_url(event.deal.get_absolute_url()),
                }
                for event in yesterday
            ],
            "idle": [
                {
                    "title": deal.title,
                    "stage": str(deal.stage.label),
                    "since": long_date(deal.stage_changed_at.astimezone(zone).date(), language),
                    "link": absolute_url(deal.get_absolute_url()),
                }
                for deal in quiet
            ],
            "idle_days": IDLE_DAYS,
            "link": absolute_url("/deals/my-day/"),
        }
    return send_manager_letter("manager_digest", user, None, context=context, dedupe_key=key)
