# The Minsheng service image: `docker compose up` runs it next to PostgreSQL.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN pip install --no-cache-dir uv

WORKDIR /app
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY . .
RUN uv sync --locked --no-dev \
    && useradd --system --create-home --home-dir /home/minsheng minsheng \
    && mkdir -p /data && chown minsheng /data

USER minsheng
WORKDIR /data
ENV MINSHENG_WEB_HOST=0.0.0.0 MINSHENG_WEB_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"

# PostgreSQL is migrated explicitly before the service starts. This runs in every container started
# from the image; replicas started together take turns (`db upgrade` holds a PostgreSQL advisory
# lock), and the later ones find nothing to do.
CMD ["sh", "-c", "minsheng db upgrade && exec minsheng serve"]
