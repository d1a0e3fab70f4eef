"""The proxy: a stateless, health-checked load balancer in front of executors.

Served as ``gunicorn -c deploy/gunicorn/proxy.conf.py 'proxy.app:create_app()'``.
"""
from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("open-runtimes-py")
except metadata.PackageNotFoundError:  # running from a plain checkout
    __version__ = "0.0.0"
