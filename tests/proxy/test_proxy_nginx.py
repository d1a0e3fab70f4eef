"""deploy/nginx.conf, for real: nginx in front of the gunicorn-served proxy."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import requests

from proxy_harness import ROOT, Proxy, StandIn, free_port, stop_process, wait_for_port

pytestmark = pytest.mark.slow
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture
def stack(tmp_path):
    if not os.path.exists(NGINX):
        pytest.skip("nginx is not installed")
    executor = StandIn("a").start()
    proxy = Proxy([executor.name]).start(tmp_path)
    port = free_port()
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};").replace(
        "server 127.0.0.1:8080;", f"server 127.0.0.1:{proxy.port};")
    (tmp_path / "site.conf").write_text(site)
    user = "user root;" if os.geteuid() == 0 else ""  # nginx workers reach the temp dir
    (tmp_path / "nginx.conf").write_text(f"""
daemon off; {user} pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;
events {{}}
http {{ access_log off; client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;
  fastcgi_temp_path {tmp_path}/f; uwsgi_temp_path {tmp_path}/u; scgi_temp_path {tmp_path}/s;
  include {tmp_path}/site.conf; }}
""")
    nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                             start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, nginx)
        yield executor, f"http://127.0.0.1:{port}"
    finally:
        stop_process(nginx)
        proxy.stop()
        executor.stop()


def test_streams_pass_through_nginx_unbuffered(stack):
    executor, url = stack
    executor.control(gate="closed")
    response = requests.get(f"{url}/v1/runtimes/rt/logs?n=3&delay=0&gated=1", stream=True, timeout=20,
                            headers={"Authorization": "Bearer proxy-secret"})
    pieces = response.iter_content(chunk_size=None)
    assert b"log line 0" in next(pieces)  # arrives while the executor waits at the gate
    executor.control(gate="open")
    assert b"log line 2" in b"".join(pieces)


def test_body_limit_is_the_executors_request_limit(stack):
    _, url = stack
    headers = {"Authorization": "Bearer proxy-secret"}
    limit = 64 * 1024 * 1024  # executor/app.py MAX_REQUEST_BYTES
    ok = requests.post(f"{url}/upload", data=b"x" * limit, headers=headers, timeout=60)
    assert ok.status_code == 200 and ok.json()["body_length"] == limit
    too_big = requests.post(f"{url}/upload", data=b"x" * (limit + 1), headers=headers, timeout=60)
    assert too_big.status_code == 413
