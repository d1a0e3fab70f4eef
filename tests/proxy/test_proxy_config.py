"""Parsing of OPR_PROXY_* into ProxyConfig: defaults, executors, and one-line errors."""
import pytest

from proxy.config import ConfigError, Executor, ProxyConfig, parse_executors


def parse(**env):
    return ProxyConfig.from_env({"OPR_PROXY_EXECUTORS": "a", **env})


def test_defaults():
    config = parse()
    assert config.executors == (Executor("a", "a", 80),)
    assert config.algorithm == "round-robin"
    assert (config.secret, config.executor_secret) == ("", "")
    assert config.healthcheck is True
    assert config.healthcheck_interval_ms == 10_000 and config.healthcheck_interval == 10.0
    assert config.healthcheck_url == ""
    assert config.max_timeout == 600
    assert config.worker_per_core == 6
    assert config.env == "production" and not config.development
    assert config.logging_provider == ""
    assert config.version


def test_every_variable_is_read():
    config = ProxyConfig.from_env({
        "OPR_PROXY_EXECUTORS": "exc1:8080,exc2", "OPR_PROXY_ALGORITHM": "last",
        "OPR_PROXY_SECRET": "s1", "OPR_PROXY_EXECUTOR_SECRET": "s2", "OPR_PROXY_HEALTHCHECK": "disabled",
        "OPR_PROXY_HEALTHCHECK_INTERVAL": "250", "OPR_PROXY_HEALTHCHECK_URL": "http://monitor/ping",
        "OPR_PROXY_MAX_TIMEOUT": "30", "OPR_PROXY_WORKER_PER_CORE": "2", "OPR_PROXY_ENV": "development",
        "OPR_PROXY_VERSION": "9.9.9"})
    assert config.executors == (Executor("exc1:8080", "exc1", 8080), Executor("exc2", "exc2", 80))
    assert config.algorithm == "last"
    assert (config.secret, config.executor_secret) == ("s1", "s2")
    assert config.healthcheck is False
    assert config.healthcheck_interval == 0.25
    assert config.healthcheck_url == "http://monitor/ping"
    assert config.max_timeout == 30
    assert config.worker_per_core == 2
    assert config.development
    assert config.version == "9.9.9"


def test_executor_items_keep_their_text_and_ignore_spaces_and_empty_items():
    executors = parse_executors(" exc1 , ,exc2:3000,, 127.0.0.1:9000 ,[::1]:81,[::1]")
    assert [(e.name, e.host, e.port) for e in executors] == [
        ("exc1", "exc1", 80), ("exc2:3000", "exc2", 3000), ("127.0.0.1:9000", "127.0.0.1", 9000),
        ("[::1]:81", "::1", 81), ("[::1]", "::1", 80)]


@pytest.mark.parametrize("value", ["", " , ,", "host:port", "host:0", "host:70000", ":80", "a b:80", "a,a"])
def test_bad_executor_lists_name_the_variable(value):
    with pytest.raises(ConfigError) as error:
        ProxyConfig.from_env({"OPR_PROXY_EXECUTORS": value})
    assert "OPR_PROXY_EXECUTORS" in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_executor_list_is_an_error():
    with pytest.raises(ConfigError, match="OPR_PROXY_EXECUTORS"):
        ProxyConfig.from_env({})


@pytest.mark.parametrize("name, value, accepted", [
    ("OPR_PROXY_ALGORITHM", "fastest", "round-robin"),
    ("OPR_PROXY_HEALTHCHECK", "yes", "enabled"),
    ("OPR_PROXY_HEALTHCHECK_INTERVAL", "99", ">= 100"),
    ("OPR_PROXY_HEALTHCHECK_INTERVAL", "soon", ">= 100"),
    ("OPR_PROXY_HEALTHCHECK_URL", "monitor/ping", "http://"),
    ("OPR_PROXY_MAX_TIMEOUT", "0", ">= 1"),
    ("OPR_PROXY_MAX_TIMEOUT", "1.5", ">= 1"),
    ("OPR_PROXY_WORKER_PER_CORE", "0", ">= 1"),
    ("OPR_PROXY_ENV", "staging", "development"),
    ("OPR_PROXY_LOGGING_PROVIDER", "datadog", "sentry"),
])
def test_invalid_values_name_the_variable_and_accepted_values(name, value, accepted):
    with pytest.raises(ConfigError) as error:
        parse(**{name: value})
    message = str(error.value)
    assert name in message and accepted in message and "\n" not in message


def test_sentry_needs_a_valid_dsn_and_the_error_does_not_echo_it():
    with pytest.raises(ConfigError, match="OPR_PROXY_LOGGING_CONFIG") as error:
        parse(OPR_PROXY_LOGGING_PROVIDER="sentry", OPR_PROXY_LOGGING_CONFIG="not-a-dsn-secretkey")
    assert "secretkey" not in str(error.value)
    config = parse(OPR_PROXY_LOGGING_PROVIDER="sentry", OPR_PROXY_LOGGING_CONFIG="https://key@sentry.example/1")
    assert config.logging_provider == "sentry"


def test_secrets_stay_out_of_the_repr():
    config = parse(OPR_PROXY_SECRET="client-secret-value", OPR_PROXY_EXECUTOR_SECRET="executor-secret-value")
    assert "secret-value" not in repr(config)
