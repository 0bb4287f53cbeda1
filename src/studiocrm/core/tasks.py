from urllib.parse import urlsplit

from django.conf import settings
from django.utils import translation
from django_tasks import task

from studiocrm.core.forms import OutboxPasswordResetForm


@task()
def send_password_reset_link(email: str, language: str) -> int:
    """Queue the reset email for the active account with this address, if there is one.

    Runs in the worker, so the request that asked for it does the same work whether the
    address belongs to an account or not (its timing tells nothing). Links use BASE_URL,
    never the Host header of the request. Returns the number of emails queued."""
    form = OutboxPasswordResetForm(data={"email": email})
    if not form.is_valid():
        return 0
    base = urlsplit(settings.BASE_URL)
    with translation.override(language):
        form.save(domain_override=base.netloc, use_https=base.scheme == "https")
    return len(list(form.get_users(email)))
