# pica in a container: a slim Python base, pica installed in a virtualenv, run as an
# unprivileged user, its data dir a volume, healthy while /healthz answers.
#
#   docker build --build-arg PICA_REVISION=$(git rev-parse --short=12 HEAD) -t pica .
#   docker run -d --name pica -p 8080:8080 -v pica-data:/var/lib/pica \
#       -e PICA_PUBLIC_URL=http://localhost:8080 pica
#   docker logs pica                 # the exports, then one access-log line per API call
#   docker exec pica pica init --common-name "Example Root CA"
#
# Settings are PICA_* variables (see README); the KEK, the SQLite database and the client
# files live in the volume: back it up with `docker exec pica pica backup --output ...`.
FROM python:3.11-slim-bookworm

# The git revision `pica version` reports (a build context has no .git).
ARG PICA_REVISION=unknown

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/pica/bin:$PATH \
    PICA_DATA_DIR=/var/lib/pica \
    PICA_HOST=0.0.0.0 \
    PICA_PORT=8080 \
    PICA_ACCESS_LOG=json

# pg_dump/pg_restore for `pica backup` of a PostgreSQL database.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 pica \
    && useradd --system --uid 10001 --gid pica --home-dir /var/lib/pica \
        --shell /usr/sbin/nologin pica \
    && install -d -o pica -g pica -m 0700 /var/lib/pica

COPY pyproject.toml setup.py README.md /src/
COPY src /src/src
RUN python -m venv /opt/pica \
    && PICA_REVISION="$PICA_REVISION" /opt/pica/bin/pip install --no-cache-dir /src \
    && rm -rf /src

USER pica
WORKDIR /var/lib/pica
VOLUME ["/var/lib/pica"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PICA_PORT', '8080'), timeout=4)"]

ENTRYPOINT ["pica"]
CMD ["serve"]
