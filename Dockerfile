# One image for web, worker and beat (docker-compose.yml). Front-end packages come from npm.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml constraints.txt ./
# Installs the declared dependencies at the versions CI tested (constraints.txt; the project itself is
# run from the source tree).
RUN pip install --upgrade pip && pip install . -c constraints.txt
COPY --from=assets /src/node_modules ./node_modules
COPY . .
# collectstatic needs settings that import cleanly; these build-time values are never used at run time.
RUN DEBUG=0 SECRET_KEY=build-only FIELD_ENCRYPTION_KEY=build-only ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput -v0
RUN useradd --system --home /app app && mkdir -p /app/var/media && chown -R app /app/var
USER app
EXPOSE 8000
# --timeout 300 rather than gunicorn's 30 s: a 200,000-row survey import or an 80 MB photo upload from
# a slow connection runs longer, and a sync worker is killed mid-request (docker-compose.yml says more).
# The access log names the client the proxy forwards (X-Forwarded-For), believed only from the peers
# in FORWARDED_ALLOW_IPS (gunicorn reads the variable; docker-compose.yml sets its network's gateway).
CMD ["gunicorn", "governance.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "300", "--access-logfile", "-", "--no-control-socket", "--logger-class", "governance.gunicorn_logging.ForwardedForLogger"]
