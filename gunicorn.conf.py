"""gunicorn settings for studiocrm (read from the working directory by default).

Refuses to start several workers when the cache is per process: rate limits would count
per worker and let a multiple of each limit through (see docs/deployment.md).
"""

import os
import sys

wsgi_app = "studiocrm.wsgi:application"


def on_starting(server):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studiocrm.settings")
    import django

    django.setup(set_prefix=False)
    from studiocrm.core.checks import shared_cache_problem

    problem = shared_cache_problem(server.cfg.workers)
    if problem:
        server.log.error("studiocrm: --workers=%s: %s", server.cfg.workers, problem)
        sys.exit(1)
