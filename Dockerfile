# studiocrm: one image for the web processes (gunicorn) and the workers (manage.py worker).
# Debian bookworm, Python 3.11, pinned by tag; WeasyPrint's system libraries from Debian.

# Front-end libraries (htmx, Sortable, Chart.js) from the npm registry, pinned in
# package-lock.json.
FROM node:22.12.0-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
COPY scripts/vendor_assets.sh scripts/
RUN bash scripts/vendor_assets.sh /build/vendor

FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DATA_DIR=/data STATIC_ROOT=/app/staticfiles LOG_FORMAT=json
# pango for WeasyPrint (PDFs), fonts with Cyrillic, curl for the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core curl \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system studiocrm && useradd --system --gid studiocrm --home /app studiocrm
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
# Editable: templates, static files and translations are read from /app/src.
RUN pip install -c constraints.txt -e .
COPY manage.py gunicorn.conf.py ./
COPY scripts/compile_messages.py scripts/
COPY --from=assets /build/vendor ./src/studiocrm/static/vendor
# Translations and static files are built into the image; the secrets are not: collectstatic
# runs with throwaway values.
RUN python scripts/compile_messages.py \
 && DEBUG=false SECRET_KEY=build FIELD_ENCRYPTION_KEY=$(python -c "import base64;print(base64.urlsafe_b64encode(b'0'*32).decode())") \
    ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
 && mkdir -p /data && chown -R studiocrm:studiocrm /data
USER studiocrm
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
# No control socket: its default lives in $HOME, which the non-root user cannot write.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--threads", "4", "--no-control-socket"]
