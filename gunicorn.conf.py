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


# LOG_FORMAT=json: gunicorn's own lines (start, worker boots, timeouts) as JSON objects too,
# so a log collector reads one format. Requests are logged by studiocrm itself
# (ops.middleware.RequestIdMiddleware, with the request id), not by gunicorn's access log.
if os.environ.get("LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"generic": {"()": "studiocrm.ops.logs.JsonFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "generic",
                "stream": "ext://sys.stdout",
            },
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "generic",
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
    }
