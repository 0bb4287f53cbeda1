"""Manager pages for deals: pipeline board, list, deal page, my day, stage names.

Views validate input and call one service; templates format. Pages cost what they show:
aggregates (read from an index) for column totals, one UNION ALL of per-column index
ranges for the board's first cards and a keyset cursor for the rest, a capped count
instead of COUNT(*) for the list, annotations instead of per-card queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from studiocrm.clients.models import Client, Contact
from studiocrm.clients.phones import normalize_phone
from studiocrm.clients.services import match_or_create_contact
from studiocrm.core.http import safe_next
from studiocrm.core.models import User
from studiocrm.core.money import format_money
from studiocrm.core.permissions import owner_required
from studiocrm.core.search import digits_count, icontains_any
from studiocrm.deals import services
from studiocrm.deals.forms import (
    AssignForm,
    DealCreateForm,
    DealForm,
    LostForm,
    MoveForm,
    NoteForm,
    StageNamesForm,
    TaskForm,
    active_users,
)
from studiocrm.deals.models import IDLE_DAYS, LOST, Deal, LostReason, Source, Stage, Task
from studiocrm.deals.panels import render_panels
from studiocrm.deals.templatetags.deals_tags import initials
from studiocrm.notifications import outbox
from studiocrm.notifications.models import Outbox

# The first cards of a column fill about a screen; the rest load as the column scrolls.
BOARD_CARD_LIMIT = 8
BOARD_MORE_LIMIT = 20
CLOSED_WINDOW_DAYS = 30
LIST_PAGE_SIZE = 50
# The list counts matching deals up to here, then says "10,000+".
LIST_COUNT_CAP = 10_000
SEARCH_ID_LIMIT = 500
MY_DAY_LIMIT = 300

View = Callable[..., HttpResponse]


# --- shared helpers -------------------------------------------------------------------


def manager_login_required(view: View) -> View:
    """login_required that also works for htmx requests: instead of a redirect that htmx
    would follow and swap the login page into a fragment, tell htmx to load the login page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if getattr(request, "htmx", False):
            response = HttpResponse(status=401)
            response["HX-Redirect"] = f"{reverse('login')}?{urlencode({'next': request.path})}"
            return response
        return redirect_to_login(request.get_full_path())

    return wrapper


def require_edit(user: User, deal: Deal) -> None:
    if not services.can_edit(user, deal):
        raise PermissionDenied


def plain_error(message: str, status: int = 400) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def with_overdue_flag(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    overdue = Task.objects.filter(deal=OuterRef("pk"), done=False, due_at__lt=timezone.now())
    return deals.annotate(has_overdue=Exists(overdue))


def amount_expression() -> Coalesce:
    return Coalesce("estimated_amount", "expected_amount")


# --- pipeline board -------------------------------------------------------------------

SCOPES = {
    "all": gettext_lazy("All deals"),
    "mine": gettext_lazy("Mine"),
    "none": gettext_lazy("Unassigned"),
}


def scope_filter(scope: str, user: User) -> Q:
    if scope == "mine":
        return Q(manager=user)
    if scope == "none":
        return Q(manager__isnull=True)
    return Q()


def read_scope(request: HttpRequest) -> str:
    scope = request.GET.get("manager") or request.POST.get("scope") or "all"
    return scope if scope in SCOPES else "all"


@dataclass
class Column:
    stage: Stage
    count: int = 0
    totals: list[tuple[str, Decimal]] = field(default_factory=list)
    cards: list[Deal] = field(default_factory=list)
    cursor: str = ""

    @property
    def is_closed(self) -> bool:
        return not self.stage.is_active

    @property
    def hidden(self) -> int:
        return max(self.count - len(self.cards), 0)


def board_deals(stages: list[Stage], scope: str, user: User) -> list[QuerySet[Deal]]:
    """Deals the board shows, as two sets: active ones (open, or won and in work), and
    finished ones (paid, lost) of the last 30 days.

    Two queries instead of one with OR: each set is a range of the (stage,
    stage_changed_at) index, so years of closed history are never scanned (SQLite does
    not use an index for the OR of the two conditions).
    """
    open_codes = [stage.code for stage in stages if stage.is_active]
    closed_codes = [stage.code for stage in stages if not stage.is_active]
    cutoff = timezone.now() - timedelta(days=CLOSED_WINDOW_DAYS)
    visible = Deal.objects.filter(scope_filter(scope, user))
    return [
        visible.filter(stage_id__in=open_codes),
        visible.filter(stage_id__in=closed_codes, stage_changed_at__gte=cutoff),
    ]


def fill_totals(columns: dict[str, Column], deal_sets: list[QuerySet[Deal]]) -> None:
    """Counts and sums per stage and currency: one aggregate query per set."""
    for deals in deal_sets:
        rows = (
            deals.order_by()
            .values("stage_id", "currency")
            .annotate(count=Count("pk"), total=Sum(amount_expression()))
            .order_by("stage_id", "currency")
        )
        for row in rows:
            column = columns.get(row["stage_id"])
            if column is None:
                continue
            column.count += row["count"]
            if row["total"] is not None:
                column.totals.append((row["currency"], row["total"]))


def card_order() -> list[Any]:
    """Cards of a column: the most recently changed first; the pk breaks ties, so the
    pair (updated_at, pk) is a keyset cursor for the next cards."""
    return [F("updated_at").desc(), F("pk").desc()]


def first_card_ids(deal_sets: list[tuple[QuerySet[Deal], list[str]]], limit: int) -> list[int]:
    """The ids of the first `limit` cards of every column, in one query: a UNION ALL of one
    LIMIT per column, each a short range of the (stage, updated_at, id) index, so the cost
    is the cards shown, not the deals in the column (a window function over every open deal
    grew with the pipeline). Django refuses LIMIT inside a UNION on SQLite, so the parts
    are its own compiled SQL, each wrapped as a subquery, which both databases accept."""
    parts, params = [], []
    for deals, codes in deal_sets:
        for code in codes:
            part = deals.filter(stage_id=code).order_by(*card_order()).values("pk")[:limit]
            sql, part_params = part.query.sql_with_params()
            parts.append(f"SELECT * FROM ({sql}) AS column_{len(parts)}")  # noqa: S608
            params.extend(part_params)
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return [row[0] for row in cursor.fetchall()]


def cards_after(deals: QuerySet[Deal], code: str, cursor: tuple[datetime, int], limit: int):
    """The next `limit` cards of one column after the keyset cursor (updated_at, pk)."""
    updated_at, pk = cursor
    later = Q(updated_at__lt=updated_at) | Q(updated_at=updated_at, pk__lt=pk)
    cards = list(
        with_overdue_flag(deals.filter(later, stage_id=code)).order_by(*card_order())[:limit]
    )
    prefetch_related_objects(cards, "client", "manager")
    return cards


def encode_cursor(deal: Deal) -> str:
    return f"{deal.updated_at.timestamp():.6f}_{deal.pk}"


def decode_cursor(text: str) -> tuple[datetime, int] | None:
    """The (updated_at, pk) of a cursor; None for anything else (hostile input)."""
    stamp, _sep, pk = text.partition("_")
    try:
        moment = datetime.fromtimestamp(float(stamp), tz=UTC)
        number = int(pk)
    except (ValueError, OverflowError, OSError):
        return None
    if not 0 < number < 2**63:
        return None
    return moment, number


class CardDecorator:
    """What every card needs besides the deal, computed once per request, and the card's
    HTML (``deal.html``): the board draws up to a hundred cards, and a template include
    per card was most of the board's time. Markup as in DESIGN.md's card; every value
    is escaped by format_html."""

    def __init__(self, request: HttpRequest, stages: list[Stage], board_url: str):
        self.user = request.user
        self.open_stages = {stage.code for stage in stages if stage.is_open}
        self.options = stage_options(stages)
        self.move_url = url_with_pk("deals:move")
        self.detail_url = url_with_pk("deals:detail")
        self.now = timezone.now()
        self.csrf_token = get_token(request)
        self.board_url = board_url
        self.texts = {
            "idle_title": _("No stage move for a week or more"),
            "overdue": _("overdue"),
            "has_overdue": _("Has an overdue task"),
            "nobody": _("Nobody is responsible yet"),
            "move_to": _("Move to…"),
            "move": _("Move"),
        }

    def __call__(self, deal: Deal) -> Deal:
        idle = (self.now - deal.stage_changed_at).days
        deal.idle_days = idle if idle >= IDLE_DAYS and deal.stage_id in self.open_stages else 0
        deal.can_move = services.can_edit(self.user, deal)
        deal.stage_options = self.options[deal.stage_id]
        deal.move_url = self.move_url(deal.pk)
        deal.detail_url = self.detail_url(deal.pk)
        deal.html = self.card_html(deal)
        return deal

    def card_html(self, deal: Deal) -> SafeString:
        texts = self.texts
        amount = (
            format_html("{}", format_money(deal.amount, deal.currency))
            if deal.amount is not None
            else mark_safe('<span class="muted">—</span>')  # noqa: S308 - a constant
        )
        badges = []
        if deal.idle_days:
            idle = ngettext("idle %(counter)s day", "idle %(counter)s days", deal.idle_days)
            badges.append(
                format_html(
                    '<span class="badge warn" title="{}">{}</span>',
                    texts["idle_title"],
                    idle % {"counter": deal.idle_days},
                )
            )
        if deal.has_overdue:
            badges.append(
                format_html(
                    '<span class="badge danger"><span aria-hidden="true">{}</span>'
                    '<span class="visually-hidden">{}</span></span>',
                    texts["overdue"],
                    texts["has_overdue"],
                )
            )
        if deal.manager is not None:
            name = str(deal.manager)
            avatar = format_html(
                '<span class="avatar" title="{}"><span aria-hidden="true">{}</span>'
                '<span class="visually-hidden">{}</span></span>',
                name,
                initials(deal.manager),
                _("Manager: %(name)s") % {"name": name},
            )
        else:
            avatar = format_html(
                '<span class="avatar empty" title="{}"><span aria-hidden="true">?</span>'
                '<span class="visually-hidden">{}</span></span>',
                texts["nobody"],
                texts["nobody"],
            )
        move = ""
        if deal.can_move:
            move = format_html(
                '<details class="card-move"><summary>{}</summary>'
                '<form method="post" action="{}" class="move-form">'
                '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                '<input type="hidden" name="next" value="{}">'
                '<label class="visually-hidden" for="move-{}">{}</label>'
                '<select name="stage" id="move-{}">{}</select>'
                '<button type="submit" class="small">{}</button></form></details>',
                texts["move_to"],
                deal.move_url,
                self.csrf_token,
                self.board_url,
                deal.pk,
                _("Move “%(title)s” to") % {"title": deal.title},
                deal.pk,
                deal.stage_options,
                texts["move"],
            )
        return format_html(
            '<li class="deal-card" id="deal-{}" data-stage="{}" data-move-url="{}"{}>'
            '<a class="deal-card-title" href="{}">{}</a>'
            '<span class="deal-card-client">{}</span>'
            '<div class="deal-card-meta"><span class="deal-card-amount">{}</span>{}{}</div>'
            "{}</li>",
            deal.pk,
            deal.stage_id,
            deal.move_url,
            mark_safe(" data-movable") if deal.can_move else "",  # noqa: S308 - a constant
            deal.detail_url,
            deal.title,
            deal.client.name,
            amount,
            mark_safe("".join(badges)),  # noqa: S308 - each built by format_html
            avatar,
            move,
        )


def board_columns(request: HttpRequest, scope: str) -> list[Column]:
    user = request.user
    stages = list(Stage.objects.all())
    columns = {stage.code: Column(stage=stage) for stage in stages}
    deal_sets = board_deals(stages, scope, user)
    fill_totals(columns, deal_sets)
    decorate = CardDecorator(request, stages, board_url(scope))
    open_codes = [stage.code for stage in stages if stage.is_active]
    closed_codes = [stage.code for stage in stages if not stage.is_active]
    # Columns known to be empty from the totals need no query at all.
    ids = first_card_ids(
        [
            (deals, [code for code in codes if columns[code].count])
            for deals, codes in zip(deal_sets, (open_codes, closed_codes), strict=True)
        ],
        BOARD_CARD_LIMIT,
    )
    cards = list(with_overdue_flag(Deal.objects.filter(pk__in=ids)).order_by()) if ids else []
    # Prefetch, not a join: joined, SQLite starts from the clients table and probes
    # deals per client, which grows with the number of clients.
    prefetch_related_objects(cards, "client", "manager")
    for deal in cards:
        columns[deal.stage_id].cards.append(decorate(deal))
    for column in columns.values():
        column.cards.sort(key=lambda deal: (deal.updated_at, deal.pk), reverse=True)
        if column.hidden and column.cards:
            column.cursor = encode_cursor(column.cards[-1])
    return list(columns.values())


def stage_options(stages: list[Stage]) -> dict[str, SafeString]:
    """The card's "Move to…" select holds only the current stage: board.js fills in the
    others from one <template> of all stages when the manager opens it (eleven options
    on every card were most of the board's bytes)."""
    return {
        stage.code: format_html('<option value="{}" selected>{}</option>', stage.code, stage.label)
        for stage in stages
    }


def all_stage_options(stages: list[Stage]) -> SafeString:
    return format_html_join(
        "", '<option value="{}">{}</option>', ((stage.code, stage.label) for stage in stages)
    )


def url_with_pk(name: str) -> Callable[[int], str]:
    """reverse() for many objects of one URL pattern, resolved once (reverse per card
    costs more than the rest of the card)."""
    prefix, suffix = reverse(name, args=[0]).rsplit("/0/", 1)
    return lambda pk: f"{prefix}/{int(pk)}/{suffix}"


@manager_login_required
def board(request: HttpRequest) -> HttpResponse:
    scope = read_scope(request)
    columns = board_columns(request, scope)
    return render(
        request,
        "deals/board.html",
        {
            "columns": columns,
            "stages": [column.stage for column in columns],
            "stage_options": all_stage_options([column.stage for column in columns]),
            "scope": scope,
            "scopes": SCOPES,
            "closed_days": CLOSED_WINDOW_DAYS,
            "lost_code": LOST,
            "lost_reasons": LostReason.objects.filter(active=True),
            "board_url": board_url(scope),
        },
    )


@manager_login_required
def board_more(request: HttpRequest) -> HttpResponse:
    """The next cards of one board column after a keyset cursor: the column's list loads
    them when its "Show more" link scrolls into view or is clicked (htmx)."""
    scope = read_scope(request)
    stages = list(Stage.objects.all())
    stage = next((item for item in stages if item.code == request.GET.get("stage")), None)
    cursor = decode_cursor(request.GET.get("after", ""))
    if stage is None or cursor is None:
        return plain_error(_("Unknown column or position."))
    deals = board_deals(stages, scope, request.user)[0 if stage.is_active else 1]
    cards = cards_after(deals, stage.code, cursor, BOARD_MORE_LIMIT + 1)
    decorate = CardDecorator(request, stages, board_url(scope))
    shown = [decorate(deal) for deal in cards[:BOARD_MORE_LIMIT]]
    return render(
        request,
        "deals/partials/cards_more.html",
        {
            "cards": shown,
            "stage": stage,
            "scope": scope,
            "cursor": encode_cursor(shown[-1]) if len(cards) > BOARD_MORE_LIMIT else "",
            "board_url": board_url(scope),
        },
    )


def board_url(scope: str) -> str:
    return reverse("deals:board") + (f"?{urlencode({'manager': scope})}" if scope != "all" else "")


# --- moving a deal between stages ---------------------------------------------------------


@manager_login_required
@require_POST
def move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a deal to a stage. The board posts here with htmx (drag and drop or the
    'Move to…' select); the deal page posts a plain form."""
    deal = get_object_or_404(Deal, pk=pk)
    if not services.can_edit(request.user, deal):
        return deny(request, _("Only the responsible manager or an owner can change this deal."))
    form = MoveForm(request.POST)
    if not form.is_valid():
        errors = [error for errors in form.errors.values() for error in errors]
        return refuse(request, deal, " ".join(errors) or _("Pick a stage."))
    from_stage = deal.stage_id
    try:
        deal = services.move_deal(
            deal,
            form.cleaned_data["stage"].pk,
            actor=request.user,
            lost_reason=form.cleaned_data["lost_reason"],
            reason=form.cleaned_data["reason"],
        )
    except services.NotAllowed as error:
        return deny(request, str(error))
    except services.DealError as error:
        return refuse(request, deal, str(error))
    if request.htmx:
        return moved_columns(request, deal, from_stage)
    messages.success(
        request, _("Moved to “%(stage)s”.") % {"stage": form.cleaned_data["stage"].label}
    )
    return redirect(safe_next(request, deal.get_absolute_url()))


def deny(request: HttpRequest, message: str) -> HttpResponse:
    if request.htmx:
        return plain_error(message, status=403)
    raise PermissionDenied(message)


def refuse(request: HttpRequest, deal: Deal, message: str) -> HttpResponse:
    if request.htmx:
        return plain_error(message)
    messages.error(request, message)
    return redirect(safe_next(request, deal.get_absolute_url()))


def moved_columns(request: HttpRequest, deal: Deal, from_stage: str) -> HttpResponse:
    """The headers of the two columns the card left and entered, as out-of-band swaps,
    so counts and sums stay right without reloading the board. The card itself is already
    where the manager dropped it."""
    scope = read_scope(request)
    all_stages = list(Stage.objects.all())
    columns = {
        stage.code: Column(stage=stage)
        for stage in all_stages
        if stage.code in (from_stage, deal.stage_id)
    }
    fill_totals(
        columns,
        [
            deals.filter(stage_id__in=list(columns))
            for deals in board_deals(all_stages, scope, request.user)
        ],
    )
    html = "".join(
        render_to_string(
            "deals/partials/column_head.html",
            {"column": column, "oob": True, "closed_days": CLOSED_WINDOW_DAYS},
            request=request,
        )
        for column in columns.values()
    )
    return HttpResponse(html)


# --- deal list ---------------------------------------------------------------------------

SORTS = {
    "-created": (gettext_lazy("Newest first"), ["-created_at", "-pk"]),
    "created": (gettext_lazy("Oldest first"), ["created_at", "pk"]),
    "-amount": (gettext_lazy("Largest amount"), [F("amount_value").desc(nulls_last=True), "-pk"]),
    "amount": (gettext_lazy("Smallest amount"), [F("amount_value").asc(nulls_last=True), "pk"]),
    "-stage_changed": (gettext_lazy("Stage changed recently"), ["-stage_changed_at", "-pk"]),
    "stage_changed": (gettext_lazy("Stage changed long ago"), ["stage_changed_at", "pk"]),
    "title": (gettext_lazy("Title A–Z"), ["title", "pk"]),
    "-title": (gettext_lazy("Title Z–A"), ["-title", "-pk"]),
}
STATUSES = {
    "open": gettext_lazy("Open"),
    "closed": gettext_lazy("Closed"),
    "won": gettext_lazy("Won"),
    "lost": gettext_lazy("Lost"),
}


@dataclass
class DealFilters:
    q: str = ""
    stage: str = ""
    manager: str = ""
    source: str = ""
    status: str = ""
    sort: str = "-created"


def read_filters(request: HttpRequest, stage_codes: set[str], user_ids: set[int]) -> DealFilters:
    """Take the list's GET parameters, ignoring values that mean nothing (hostile input
    falls back to 'no filter' instead of an error page)."""
    get = request.GET
    filters = DealFilters(q=get.get("q", "").strip()[:200])
    if get.get("stage") in stage_codes:
        filters.stage = get["stage"]
    manager = get.get("manager", "")
    if manager in ("mine", "none") or (manager.isdigit() and int(manager) in user_ids):
        filters.manager = manager
    if get.get("source") in Source.values:
        filters.source = get["source"]
    if get.get("status") in STATUSES:
        filters.status = get["status"]
    if get.get("sort") in SORTS:
        filters.sort = get["sort"]
    return filters


def search_condition(query: str) -> Q:
    """Deals whose title, client or contact matches the query.

    Clients and contacts are looked up first, each by its own (trigram-indexed on
    PostgreSQL) table, and the deals are then found by their foreign keys: an OR across
    joined tables reads every deal, an OR of a title match and two key lists lets the
    database combine three index scans. Past SEARCH_ID_LIMIT matches the ids stay a
    subquery, which is still right, only not index-combined.
    """
    condition = icontains_any(["title"], query)
    phone = normalize_phone(query) if digits_count(query) >= 5 else ""
    contact_match = icontains_any(["name", "email", "phone"], query)
    if phone:
        contact_match |= Q(phone_normalized=phone)
    for field_name, ids in (
        ("client_id", Client.objects.filter(icontains_any(["name", "legal_name"], query))),
        ("contact_id", Contact.objects.filter(contact_match)),
    ):
        found = list(ids.values_list("pk", flat=True)[: SEARCH_ID_LIMIT + 1])
        if len(found) > SEARCH_ID_LIMIT:
            condition |= Q(**{f"{field_name}__in": ids.values("pk")})
        elif found:
            condition |= Q(**{f"{field_name}__in": found})
    return condition


def filtered_deals(filters: DealFilters, user: User) -> QuerySet[Deal]:
    deals = Deal.objects.annotate(amount_value=amount_expression())
    if filters.q:
        deals = deals.filter(search_condition(filters.q))
    if filters.stage:
        deals = deals.filter(stage_id=filters.stage)
    if filters.manager == "mine":
        deals = deals.filter(manager=user)
    elif filters.manager == "none":
        deals = deals.filter(manager__isnull=True)
    elif filters.manager:
        deals = deals.filter(manager_id=int(filters.manager))
    if filters.source:
        deals = deals.filter(source=filters.source)
    if filters.status == "open":
        deals = deals.filter(stage__kind=Stage.Kind.OPEN)
    elif filters.status == "closed":
        deals = deals.exclude(stage__kind=Stage.Kind.OPEN)
    elif filters.status == "won":
        deals = deals.filter(stage__kind=Stage.Kind.WON)
    elif filters.status == "lost":
        deals = deals.filter(stage__kind=Stage.Kind.LOST)
    return deals.order_by(*SORTS[filters.sort][1])


class CappedPage:
    """One page of a list without COUNT(*) over the whole table.

    The rows of the page are read with one extra row (is there a next page?), and the
    count stops at `cap`: past it the list says "10,000+ deals". Both cost what the page
    shows, where Paginator's COUNT(*) read every matching row on every page view.
    """

    def __init__(self, rows: QuerySet, number: str | None, size: int, cap: int):
        self.number = int(number) if number and number.isdigit() and 0 < int(number) < 10**6 else 1
        start = (self.number - 1) * size
        fetched = list(rows[start : start + size + 1])
        if not fetched and self.number > 1:
            # Past the end (a stale link): the first page, as Paginator.get_page would.
            self.number, start = 1, 0
            fetched = list(rows[: size + 1])
        self.object_list = fetched[:size]
        self.has_next = len(fetched) > size
        self.has_previous = self.number > 1
        self.count = rows.order_by().values("pk")[: cap + 1].count()
        self.capped = self.count > cap
        self.cap = cap
        self.last_number = None if self.capped else max(1, -(-self.count // size))

    def __iter__(self):
        return iter(self.object_list)

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


@manager_login_required
def deal_list(request: HttpRequest) -> HttpResponse:
    stages = list(Stage.objects.all())
    users = list(active_users())
    filters = read_filters(request, {stage.code for stage in stages}, {u.pk for u in users})
    deals = with_overdue_flag(filtered_deals(filters, request.user)).select_related(
        "client", "contact", "manager", "stage"
    )
    page = CappedPage(deals, request.GET.get("page"), LIST_PAGE_SIZE, LIST_COUNT_CAP)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "deals/list.html",
        {
            "page": page,
            "filters": filters,
            "stages": stages,
            "users": users,
            "sources": Source.choices,
            "statuses": STATUSES,
            "sorts": {key: label for key, (label, _order) in SORTS.items()},
            "query_string": query.urlencode(),
        },
    )


# --- deal page -----------------------------------------------------------------------------


def deal_context(request: HttpRequest, deal: Deal, **extra: Any) -> dict[str, Any]:
    user = request.user
    editable = services.can_edit(user, deal)
    stages = list(Stage.objects.all())
    # "Move to…" suggests the next stage, so one click never sends a deal backwards.
    later = [s for s in stages if s.position > deal.stage.position and s.kind != Stage.Kind.LOST]
    context: dict[str, Any] = {
        "deal": deal,
        "suggested_stage": later[0].code if later else None,
        "can_edit": editable,
        "can_assign": user.is_owner,
        "can_take": editable and deal.manager_id is None and not user.is_owner,
        "stages": stages,
        "users": list(active_users()),
        "history": deal.stage_changes.select_related("from_stage", "to_stage", "by").order_by(
            "-at", "-pk"
        ),
        "messages_out": deal.outbox.order_by("-created_at", "-pk")[:50],
        "failed_status": Outbox.Status.FAILED,
        "panels": render_panels(request, deal),
        "lost_form": LostForm(),
        "lost_code": LOST,
    }
    context.update(notes_context(request, deal))
    context.update(tasks_context(request, deal))
    context.update(extra)
    return context


def notes_context(request: HttpRequest, deal: Deal, form: NoteForm | None = None) -> dict:
    return {
        "notes": deal.notes.select_related("author"),
        "note_form": form or NoteForm(),
        "can_edit": services.can_edit(request.user, deal),
        "deal": deal,
    }


def tasks_context(request: HttpRequest, deal: Deal, form: TaskForm | None = None) -> dict:
    if form is None:
        form = TaskForm(initial={"assignee": deal.manager_id or request.user.pk})
    return {
        "tasks": deal.tasks.select_related("assignee").order_by("done", "due_at", "pk"),
        "task_form": form,
        "can_edit": services.can_edit(request.user, deal),
        "deal": deal,
        "now": timezone.now(),
    }


def get_deal(pk: int) -> Deal:
    return get_object_or_404(
        Deal.objects.select_related("client", "contact", "manager", "stage"), pk=pk
    )


@manager_login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_deal(pk)
    return render(request, "deals/detail.html", deal_context(request, deal))


@manager_login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_deal(pk)
    require_edit(request.user, deal)
    form = DealForm(request.POST or None, instance=deal)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_deal(
                deal,
                actor=request.user,
                **{name: form.cleaned_data[name] for name in DealForm.Meta.fields},
            )
        except services.NotAllowed as error:
            raise PermissionDenied(str(error)) from error
        messages.success(request, _("Deal saved."))
        return redirect(deal.get_absolute_url())
    return render(request, "deals/edit.html", {"deal": deal, "form": form})


@manager_login_required
@require_POST
def mark_lost(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_deal(pk)
    require_edit(request.user, deal)
    form = LostForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the deal was lost."))
        return redirect(deal.get_absolute_url())
    try:
        services.mark_lost(
            deal,
            form.cleaned_data["lost_reason"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except services.NotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except services.DealError as error:
        messages.error(request, str(error))
        return redirect(deal.get_absolute_url())
    messages.success(request, _("The deal is marked lost."))
    return redirect(deal.get_absolute_url())


@manager_login_required
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Owners reassign any deal; a manager takes an unassigned deal for themselves."""
    deal = get_deal(pk)
    if request.POST.get("take"):
        manager: User | None = request.user
    else:
        if not request.user.is_owner:
            raise PermissionDenied
        form = AssignForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Pick an active user."))
            return redirect(deal.get_absolute_url())
        manager = form.cleaned_data["manager"]
    try:
        services.assign_deal(deal, manager, actor=request.user)
    except services.NotAllowed as error:
        raise PermissionDenied(str(error)) from error
    if manager is None:
        messages.success(request, _("The deal has no responsible manager now."))
    else:
        messages.success(request, _("%(name)s is responsible for the deal.") % {"name": manager})
    return redirect(deal.get_absolute_url())


@manager_login_required
@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_deal(pk)
    require_edit(request.user, deal)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_note(deal, form.cleaned_data["text"], actor=request.user)
        except services.NotAllowed as error:
            raise PermissionDenied(str(error)) from error
        except services.DealError as error:
            form.add_error("text", str(error))
        else:
            form = None
    if request.htmx:
        return render(request, "deals/partials/notes.html", notes_context(request, deal, form))
    if form is not None:
        messages.error(request, " ".join(str(e) for e in form.errors.get("text", [])))
    return redirect(f"{deal.get_absolute_url()}#notes")


@manager_login_required
@require_POST
def add_task(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_deal(pk)
    require_edit(request.user, deal)
    form = TaskForm(request.POST)
    if form.is_valid():
        try:
            services.add_task(
                title=form.cleaned_data["title"],
                due_at=form.cleaned_data["due_at"],
                assignee=form.cleaned_data["assignee"],
                actor=request.user,
                deal=deal,
            )
        except services.NotAllowed as error:
            raise PermissionDenied(str(error)) from error
        except services.DealError as error:
            form.add_error("title", str(error))
        else:
            form = None
    if request.htmx:
        return render(request, "deals/partials/tasks.html", tasks_context(request, deal, form))
    if form is not None:
        messages.error(request, _("The task was not added: check the fields."))
    return redirect(f"{deal.get_absolute_url()}#tasks")


@manager_login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick or untick a task (the assignee or an owner). htmx gets the row back."""
    task = get_object_or_404(Task.objects.select_related("deal", "assignee"), pk=pk)
    if not (request.user.is_owner or task.assignee_id == request.user.pk):
        if request.htmx:
            return plain_error(_("Only the assignee or an owner can complete this task."), 403)
        raise PermissionDenied
    done = request.POST.get("done") in ("1", "on", "true")
    task = services.complete_task(task, actor=request.user, done=done)
    if request.htmx:
        return render(
            request,
            "deals/partials/task_row.html",
            {
                "task": Task.objects.select_related("deal__client", "assignee").get(pk=task.pk),
                "show_deal": request.POST.get("show_deal") == "1",
                "now": timezone.now(),
            },
        )
    default = task.deal.get_absolute_url() if task.deal else reverse("deals:my_day")
    return redirect(safe_next(request, default))


@manager_login_required
@require_POST
def retry_message(request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
    deal = get_deal(pk)
    require_edit(request.user, deal)
    message = get_object_or_404(Outbox, pk=message_pk, deal=deal)
    if message.status != Outbox.Status.FAILED:
        messages.error(request, _("Only a failed message can be sent again."))
    else:
        outbox.retry_now(message)
        messages.success(request, _("The message is queued to be sent again."))
    return redirect(f"{deal.get_absolute_url()}#messages")


# --- new deal ----------------------------------------------------------------------------


@manager_login_required
def create(request: HttpRequest) -> HttpResponse:
    initial = {}
    client_id = request.GET.get("client", "")
    if client_id.isdigit():
        initial["client"] = int(client_id)
    form = DealCreateForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            client = data["client"]
            contact = data["contact"]
            if client is None:
                match = match_or_create_contact(
                    name=data["new_contact_name"].strip(),
                    email=data["new_contact_email"].strip(),
                    phone=data["new_contact_phone"].strip(),
                    company=data["new_client_name"].strip(),
                    actor=request.user,
                )
                contact = match.contact
                client = contact.client
                if not match.created:
                    messages.info(
                        request,
                        _(
                            "A contact with this email or phone already exists: "
                            "the deal is added to %(contact)s (%(client)s)."
                        )
                        % {"contact": contact, "client": client},
                    )
            deal = services.create_deal(
                title=data["title"],
                client=client,
                contact=contact,
                actor=request.user,
                manager=data["manager"],
                source=data["source"],
                description=data["description"],
                currency=data["currency"],
                expected_amount=data["expected_amount"],
                notify_manager=data["manager"] is not None and data["manager"] != request.user,
            )
        messages.success(request, _("Deal created."))
        return redirect(deal.get_absolute_url())
    return render(request, "deals/create.html", {"form": form})


# --- my day -------------------------------------------------------------------------------


@manager_login_required
def my_day(request: HttpRequest) -> HttpResponse:
    """Undone tasks that are overdue, due today and due tomorrow, in the studio's time zone.
    An owner can look at another person's day."""
    person: User = request.user
    users: list[User] = []
    if request.user.is_owner:
        users = list(active_users())
        wanted = request.GET.get("user", "")
        if wanted.isdigit():
            person = next((u for u in users if u.pk == int(wanted)), request.user)
    now = timezone.now()
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    start_tomorrow = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
    end_tomorrow = datetime.combine(today + timedelta(days=2), time.min, tzinfo=zone)
    tasks = list(
        Task.objects.filter(assignee=person, done=False, due_at__lt=end_tomorrow)
        .select_related("deal", "deal__client", "assignee")
        .order_by("due_at", "pk")[:MY_DAY_LIMIT]
    )
    groups = defaultdict(list)
    for task in tasks:
        if task.due_at < now:
            groups["overdue"].append(task)
        elif task.due_at < start_tomorrow:
            groups["today"].append(task)
        else:
            groups["tomorrow"].append(task)
    sections = [
        ("overdue", _("Overdue"), groups["overdue"]),
        ("today", _("Later today"), groups["today"]),
        ("tomorrow", _("Tomorrow"), groups["tomorrow"]),
    ]
    return render(
        request,
        "deals/my_day.html",
        {
            "person": person,
            "users": users,
            "sections": sections,
            "today": today,
            "now": now,
            "total": len(tasks),
        },
    )


# --- stage names (owner) ------------------------------------------------------------------


@owner_required
def stage_names(request: HttpRequest) -> HttpResponse:
    stages = list(Stage.objects.all())
    form = StageNamesForm(request.POST or None, stages=stages)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "deals/stage_names.html", {"form": form}, status=400)
        services.rename_stages(form.names(), actor=request.user)
        messages.success(request, _("Stage names saved."))
        return redirect("deals:stages")
    return render(request, "deals/stage_names.html", {"form": form})
