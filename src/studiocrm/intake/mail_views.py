"""Settings → Mailbox (owners) and email attachments on deals (signed-in users)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from studiocrm.core.permissions import owner_required
from studiocrm.intake import mailbox as mailbox_service
from studiocrm.intake.forms import MailboxForm
from studiocrm.intake.models import EmailAttachment, InboundEmail, Mailbox
from studiocrm.portal.files import attachment_response


@owner_required
def mailbox_settings(request: HttpRequest) -> HttpResponse:
    mailbox = Mailbox.load()
    form = MailboxForm(request.POST or None, instance=Mailbox.load())
    if request.method == "POST" and form.is_valid():
        mailbox_service.save_mailbox(
            mailbox,
            {name: form.cleaned_data[name] for name in MailboxForm.Meta.fields},
            actor=request.user,
        )
        messages.success(request, _("Mailbox settings saved."))
        return redirect("intake:mailbox")
    emails = InboundEmail.objects.select_related("deal")[:30]
    return render(
        request,
        "intake/mailbox.html",
        {"form": form, "mailbox": mailbox, "emails": emails},
        status=400 if request.method == "POST" else 200,
    )


@owner_required
@require_POST
def mailbox_check(request: HttpRequest) -> HttpResponse:
    """Read the mailbox now instead of waiting for the worker's next run."""
    result = mailbox_service.poll_mailbox()
    mailbox = Mailbox.load()
    if result is None:
        messages.error(request, mailbox.last_error or _("The mailbox is turned off."))
    else:
        messages.success(request, _("Read %(count)d new messages.") % {"count": result.processed})
    return redirect("intake:mailbox")


@login_required
@require_GET
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """A file that came with a client's email: everyone signed in may read every deal."""
    item = get_object_or_404(EmailAttachment, pk=pk)
    return attachment_response(
        item.file.name,
        item.file.storage,
        filename=item.name,
        # The sender chose the declared type; a download never needs it.
        content_type="application/octet-stream",
    )
