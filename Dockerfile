# outdial: SQLite in the /data volume by default; set OUTDIAL_DATABASE_URL for PostgreSQL.
#
# pjsua2 is built from the pjproject source tarball with outdial's config_site.h (issue 12)
# in a builder stage; the runtime image gets only the wheel. The tarball comes in as a named
# build context (it is not in the repository):
#   docker build --build-context vendor=../shared/vendor -t outdial .
# (any directory holding pjproject-2.15.1.tar.xz; its sha256 is checked).

FROM python:3.11-slim AS builder
RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends build-essential swig libssl-dev uuid-dev xz-utils \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/build_pjsua2.py ./scripts/
COPY sip/pjproject/config_site.h ./sip/pjproject/
COPY --from=vendor pjproject-2.15.1.tar.xz /vendor/
RUN OUTDIAL_PJPROJECT_TARBALL=/vendor/pjproject-2.15.1.tar.xz OUTDIAL_BUILD_CACHE=/tmp/cache \
    python scripts/build_pjsua2.py --out /wheels

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OUTDIAL_DATA_DIR=/data \
    OUTDIAL_HOST=0.0.0.0 \
    OUTDIAL_PORT=8080 \
    OUTDIAL_LOG_FORMAT=json

WORKDIR /app
COPY --from=builder /wheels /wheels
COPY pyproject.toml README.md ./
COPY outdial ./outdial
COPY dialer ./dialer
COPY campaigns ./campaigns
COPY lists ./lists
COPY compliance ./compliance
COPY sip ./sip
COPY web ./web
COPY reports ./reports
COPY quality ./quality
# The wheel links the system's OpenSSL 3 (libssl3) and libuuid1, both in the slim base.
RUN pip install --no-cache-dir /wheels/pjsua2-*.whl . \
    && rm -rf /wheels \
    && useradd --system --home /data outdial \
    && mkdir -p /data && chown outdial /data

USER outdial
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
# Migrate (idempotent), then serve. With PostgreSQL, run `outdial db upgrade` once per release instead.
CMD ["sh", "-c", "outdial db upgrade && exec outdial serve"]
