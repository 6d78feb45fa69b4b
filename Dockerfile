# syntax=docker/dockerfile:1
# Citizen Hub: build wheels in one stage, run as a non-root user in a slim one.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md alembic.ini babel.cfg ./
COPY app ./app
COPY migrations ./migrations
COPY notifications ./notifications
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --upgrade pip \
    && /opt/venv/bin/pip install . \
    && /opt/venv/bin/pybabel compile -d app/translations

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    CITIZENHUB_ENVIRONMENT=production \
    CITIZENHUB_DATABASE_URL=sqlite+aiosqlite:////data/citizenhub.sqlite3 \
    CITIZENHUB_UPLOAD_DIR=/data/uploads
RUN groupadd --system citizenhub && useradd --system --gid citizenhub --home /app citizenhub \
    && mkdir -p /data /app && chown citizenhub:citizenhub /data
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src/alembic.ini /src/babel.cfg ./
COPY --from=build /src/app ./app
COPY --from=build /src/migrations ./migrations
COPY --from=build /src/notifications ./notifications
USER citizenhub
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status == 200 else 1)"
# Apply migrations, then serve. Behind a proxy set CITIZENHUB_TRUSTED_PROXIES.
CMD ["sh", "-c", "citizen-hub migrate && exec citizen-hub serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2}"]
