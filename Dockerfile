# The bundled sandbox as a container: a local, stateful stand-in for the Sunshine Conversations v2 API.
#   docker build -t sunco-sandbox .
#   docker run --rm -p 8080:8080 sunco-sandbox            # then use http://localhost:8080
#   docker run --rm -p 8080:8080 sunco-sandbox --faults http-503 --seed 7
# Arguments after the image name are the sandbox's own options (python -m conformance sandbox --help).
FROM python:3.11-slim
WORKDIR /opt/sunco-conformance
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY conformance ./conformance
RUN pip install --no-cache-dir . && useradd --create-home sandbox
USER sandbox
EXPOSE 8080
# Every interface of the container, so that the published port reaches it; `docker stop` sends SIGTERM,
# which the sandbox handles.
ENTRYPOINT ["python", "-m", "conformance", "sandbox", "--host", "0.0.0.0", "--port", "8080"]
