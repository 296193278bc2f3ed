# refhub: one image for the api, worker, beat and migrate services of docker-compose.yml.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    REFHUB_DATA_DIR=/var/lib/refhub

RUN useradd --system --home-dir /var/lib/refhub --create-home refhub \
    && mkdir -p /run/refhub-keys && chown refhub /run/refhub-keys
WORKDIR /opt/refhub
COPY pyproject.toml README.md ./
COPY kernel ./kernel
COPY adapters ./adapters
COPY directory ./directory
COPY consent ./consent
COPY gateway ./gateway
RUN pip install . && python -c "import gateway.app"

USER refhub
EXPOSE 8000
ENTRYPOINT ["refhub"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
