from django.conf import settings


def absolute_url(path: str) -> str:
    """A link for emails: BASE_URL plus the site path."""
    return f"{settings.BASE_URL}{path}"
