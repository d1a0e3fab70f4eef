# The services image: the proxy and the executor (Python, gunicorn + gevent) in one image, on the
# same Debian base as the runtimes. Build it with scripts/build-services-image.sh, which puts the
# host's CA bundle into the context (build/docker/) so pip can reach PyPI through a
# TLS-intercepting proxy, then:
#   docker build --network host -t openruntimes/services:dev .                  (proxy, executor)
#   docker build --network host --target nginx -t openruntimes/nginx:dev .      (nginx in front)
# The image runs either service; the command picks one (see docker-compose.yml):
#   gunicorn -c deploy/gunicorn/executor.conf.py 'executor.app:create_app()'
#   gunicorn -c deploy/gunicorn/proxy.conf.py 'proxy.app:create_app()'
ARG BASE_IMAGE=debian:bookworm-slim

# nginx in front of the proxies: deploy/nginx.conf, rendered at start with the proxies' addresses.
FROM ${BASE_IMAGE} AS nginx
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends nginx-light \
    && rm -rf /var/lib/apt/lists/* \
    && ln -sf /dev/stderr /var/log/nginx/error.log
COPY deploy/nginx.conf /etc/nginx/opr-site.conf
COPY deploy/nginx/render.sh /etc/nginx/render.sh
ENV OPR_NGINX_LISTEN=80 OPR_NGINX_UPSTREAM=proxy:80
CMD ["sh", "-c", "/etc/nginx/render.sh /etc/nginx/opr-site.conf /etc/nginx/opr.conf && exec nginx -p /var/lib/nginx/ -c /etc/nginx/opr.conf -g 'daemon off;'"]

# The Python dependencies of setup.cfg, in a virtual environment copied into the final image.
FROM ${BASE_IMAGE} AS dependencies
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
COPY build/docker/ca-certificates.crt /tmp/ca-certificates.crt
COPY setup.cfg pyproject.toml README.md /tmp/src/
RUN python3 -m venv /opt/venv \
    && PIP_CERT=/tmp/ca-certificates.crt /opt/venv/bin/pip install --no-cache-dir -q /tmp/src \
    && /opt/venv/bin/pip uninstall -y -q open-runtimes-py

FROM ${BASE_IMAGE}
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=dependencies /opt/venv /opt/venv
WORKDIR /app
# The executor reads the runtimes table from runtimes/ next to its package (executor/catalog.py).
COPY runtimes/runtimes.tsv runtimes/runtimes.tsv
COPY deploy/gunicorn deploy/gunicorn
COPY executor executor
COPY proxy proxy
COPY opr_http opr_http
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    OPR_EXECUTOR_BIND=0.0.0.0:80 OPR_PROXY_BIND=0.0.0.0:80
LABEL namespace="open-runtimes"
EXPOSE 80
CMD ["gunicorn", "-c", "deploy/gunicorn/executor.conf.py", "executor.app:create_app()"]
