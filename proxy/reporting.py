"""The logging provider: where errors go besides the log (``OPR_PROXY_LOGGING_PROVIDER``)."""
from __future__ import annotations

import logging

from proxy.config import ProxyConfig

log = logging.getLogger("proxy")


class Reporter:
    """Sends errors to the configured provider; does nothing when none is configured."""

    def __init__(self, config: ProxyConfig):
        self._sentry = None
        if config.logging_provider == "sentry":
            import sentry_sdk

            sentry_sdk.init(dsn=config.logging_config, release=config.version,
                            environment=config.env)
            self._sentry = sentry_sdk

    def error(self, message: str) -> None:
        if self._sentry is not None:
            self._sentry.capture_message(message, level="error")

    def exception(self, error: BaseException) -> None:
        if self._sentry is not None:
            self._sentry.capture_exception(error)
