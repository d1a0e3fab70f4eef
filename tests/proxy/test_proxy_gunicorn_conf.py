"""deploy/gunicorn/proxy.conf.py: sizing and timeouts derived from the configuration."""
import os
import runpy

import pytest

from proxy_harness import GUNICORN_CONF


def load(monkeypatch, **env):
    for name in [n for n in os.environ if n.startswith("OPR_PROXY_")]:
        monkeypatch.delenv(name)
    for name, value in {"OPR_PROXY_EXECUTORS": "a", **env}.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_sizing_and_timeouts(monkeypatch):
    cores = len(os.sched_getaffinity(0))
    settings = load(monkeypatch, OPR_PROXY_WORKER_PER_CORE="3", OPR_PROXY_MAX_TIMEOUT="900")
    assert settings["workers"] == cores
    assert settings["worker_connections"] == 3000
    assert settings["worker_class"] == "opr_http.worker.LeanWorker"
    assert settings["timeout"] >= 900
    assert settings["graceful_timeout"] > 0
    defaults = load(monkeypatch)
    assert defaults["worker_connections"] == 6000 and defaults["timeout"] >= 600
    assert defaults["bind"] == "0.0.0.0:80"
    assert load(monkeypatch, OPR_PROXY_BIND="127.0.0.1:9800")["bind"] == "127.0.0.1:9800"


def test_invalid_configuration_exits(monkeypatch, capsys):
    with pytest.raises(SystemExit) as exit_:
        load(monkeypatch, OPR_PROXY_HEALTHCHECK_INTERVAL="5")
    assert exit_.value.code == 2
    assert "OPR_PROXY_HEALTHCHECK_INTERVAL" in capsys.readouterr().err
