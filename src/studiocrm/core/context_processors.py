from django.http import HttpRequest

from studiocrm.core.models import Studio


def studio(request: HttpRequest) -> dict[str, object]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"studio": Studio.load()}
