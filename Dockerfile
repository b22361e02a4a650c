# outdial: SQLite in the /data volume by default; set OUTDIAL_DATABASE_URL for PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OUTDIAL_DATA_DIR=/data \
    OUTDIAL_HOST=0.0.0.0 \
    OUTDIAL_PORT=8080 \
    OUTDIAL_LOG_FORMAT=json

WORKDIR /app
COPY pyproject.toml README.md ./
COPY outdial ./outdial
COPY dialer ./dialer
COPY campaigns ./campaigns
COPY lists ./lists
COPY compliance ./compliance
COPY sip ./sip
COPY web ./web
COPY reports ./reports
RUN pip install --no-cache-dir . \
    && useradd --system --home /data outdial \
    && mkdir -p /data && chown outdial /data

USER outdial
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
# Migrate (idempotent), then serve. With PostgreSQL, run `outdial db upgrade` once per release instead.
CMD ["sh", "-c", "outdial db upgrade && exec outdial serve"]
