"""Client pages: a client with its contacts and its deals.

The pages live with deals, not in ``clients``: they join clients to deals (deal counts, the
client's deals, "new deal" for this client), and ``clients`` stays the ground-floor data
(models, forms, services) that knows nothing of deals. Everyone signed in may read every
client; changing a client or its contacts follows the deal rule (``client_permissions``):
owners everything, a manager the clients none of whose deals belong to another manager."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from studiocrm.clients import services
from studiocrm.clients.forms import ClientForm, ContactForm
from studiocrm.clients.models import Client, Contact
from studiocrm.clients.phones import normalize_phone
from studiocrm.core.models import AuditLog
from studiocrm.core.search import digits_count, icontains_any
from studiocrm.deals.client_permissions import can_edit_client, can_edit_contact

PAGE_SIZE = 50


def search_clients(query: str) -> Q:
    """Name, legal name, tax ID, or any contact's name, email or phone."""
    contacts = Contact.objects.filter(
        icontains_any(["name", "email", "phone"], query), client=OuterRef("pk")
    )
    condition = icontains_any(["name", "legal_name", "tax_id"], query) | Q(Exists(contacts))
    phone = normalize_phone(query) if digits_count(query) >= 5 else ""
    if phone:
        condition |= Q(
            Exists(Contact.objects.filter(client=OuterRef("pk"), phone_normalized=phone))
        )
    return condition


@login_required
def client_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    clients = Client.objects.annotate(deal_count=Count("deals", distinct=True)).order_by(
        "name", "pk"
    )
    if query:
        clients = clients.filter(search_clients(query))
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    first_contacts = {}
    for contact in Contact.objects.filter(client__in=[c.pk for c in page]).order_by("pk"):
        first_contacts.setdefault(contact.client_id, contact)
    for client in page:
        client.first_contact = first_contacts.get(client.pk)
    return render(
        request,
        "clients/list.html",
        {"page": page, "query": query, "query_string": urlencode({"q": query}) if query else ""},
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk)
    deals = client.deals.select_related("stage", "manager", "contact").order_by(
        "-created_at", "-pk"
    )
    # The last time the client filled in their details themselves (on a contract's page).
    from_client = (
        AuditLog.objects.filter(
            verb="client.details_from_client", object_type="clients.client", object_id=str(pk)
        )
        .order_by("-pk")
        .first()
    )
    return render(
        request,
        "clients/detail.html",
        {
            "client": client,
            "contacts": client.contacts.order_by("name", "pk"),
            "deals": deals,
            "from_client": from_client,
            "missing": services.missing_details(client),
            "can_edit": can_edit_client(request.user, client),
        },
    )


@login_required
def create(request: HttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        client = services.save_client(form, actor=request.user)
        messages.success(request, _("Client added."))
        return redirect(client.get_absolute_url())
    return render(request, "clients/form.html", {"form": form, "client": None})


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk)
    if not can_edit_client(request.user, client):
        raise PermissionDenied(_("Another manager's deals use this client."))
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        services.save_client(form, actor=request.user)
        messages.success(request, _("Client saved."))
        return redirect(client.get_absolute_url())
    return render(request, "clients/form.html", {"form": form, "client": client})


@login_required
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk)
    if not can_edit_client(request.user, client):
        raise PermissionDenied(_("Another manager's deals use this client."))
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.save_contact(form, client=client, actor=request.user)
        messages.success(request, _("Contact added."))
        return redirect(client.get_absolute_url())
    return render(
        request, "clients/contact_form.html", {"form": form, "client": client, "contact": None}
    )


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.select_related("client"), pk=pk)
    if not can_edit_contact(request.user, contact):
        raise PermissionDenied(_("Another manager's deals use this contact."))
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        services.save_contact(form, client=contact.client, actor=request.user)
        messages.success(request, _("Contact saved."))
        return redirect(contact.client.get_absolute_url())
    return render(
        request,
        "clients/contact_form.html",
        {"form": form, "client": contact.client, "contact": contact},
    )
