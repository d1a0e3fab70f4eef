"""The HTTP API: thin Flask views over the services (spec section 3)."""
from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("executor", __name__)

from executor.api import executions, health, runtimes  # noqa: E402,F401  (registers the views)
