# papertrend: multi-stage image. The default command serves the web app only (scale-out mode);
# see the README for the worker and the embedded (all-in-one) commands.
#
# The image runs with ENVIRONMENT=production: it needs a strong SECRET_KEY, a real SMTP_URL (the
# file outbox and its /outbox page are for a laptop) and the public https:// BASE_URL.
#
#   docker build -t papertrend .
#   docker run -p 8000:8000 -e DATABASE_URL=postgresql://... -e SECRET_KEY=... -e SMTP_URL=... \
#       -e BASE_URL=https://papers.example.org papertrend
#   docker run ... papertrend papertrend worker          # scheduler + pipeline + delivery
#   docker run -p 8000:8000 -v papertrend-var:/app/var -e SECRET_KEY=... -e SMTP_URL=... \
#       -e BASE_URL=https://papers.example.org papertrend papertrend run --host 0.0.0.0   # embedded

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
# Dependencies first so code changes do not reinstall torch. torch is pinned to the CPU build.
COPY pyproject.toml README.md ./
RUN mkdir -p app && touch app/__init__.py \
    && pip install --extra-index-url https://download.pytorch.org/whl/cpu 'torch==2.13.0' \
    && pip install . \
    && pip uninstall -y papertrend
COPY app ./app
COPY migrations ./migrations
COPY templates ./templates
COPY alembic.ini ./
# Editable install: app/, migrations/ and templates/ stay together under /app.
RUN pip install --no-deps -e .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ENVIRONMENT=production \
    VAR_DIR=/app/var
RUN groupadd --system papertrend && useradd --system --gid papertrend --home-dir /app papertrend
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=build --chown=papertrend:papertrend /app /app
RUN mkdir -p /app/var && chown papertrend:papertrend /app/var
USER papertrend
EXPOSE 8000
VOLUME ["/app/var"]
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["papertrend", "web", "--host", "0.0.0.0", "--port", "8000"]
