# The kgrec HTTP service. Built and started by `docker compose --profile serve up`, next to
# the Neo4j service; it serves the models trained into ./.kgrec (kgrec train) read-only.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kgstore kgstore
COPY learners learners
COPY recommender recommender
COPY cypher cypher
# The CPU build of PyTorch keeps the image small; the service needs no GPU.
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu .
ENV KGREC_HOME=/kgrec
# Never root: the service runs as an unprivileged user (docker-compose.yml maps it to the
# owner of ./.kgrec, whose files kgrec writes private).
RUN useradd --system --uid 10001 --no-create-home kgrec
USER 10001
EXPOSE 8000
ENTRYPOINT ["kgrec"]
CMD ["serve", "--dataset", "ml-100k", "--host", "0.0.0.0", "--port", "8000"]
