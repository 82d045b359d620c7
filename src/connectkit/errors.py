"""Every exception connectkit raises, in one tree.

The base class tells the caller what to do; the leaf says what happened::

    ConnectkitError                      never raised itself
    ├── ConfigError                      fix the config, then try again
    │   ├── ConfigValidationError        .issues: every problem with its key path
    │   └── SecretMissingError           an ${ENV_VAR} the config names is not set
    ├── PluginError                      report the plugin and carry on without it
    │   ├── PluginLoadError              failed to import / register
    │   └── HookContractError            an implementation broke its hook's contract
    ├── ConnectorError                   raised by (or on behalf of) a connector plugin
    │   ├── RetryLaterError              transient: retry the same call later
    │   │   ├── RateLimitedError         .retry_after seconds (429 / 503 Retry-After)
    │   │   └── UpstreamUnavailableError 5xx, timeouts, connection failures
    │   ├── RunFailedError               permanent for this run: stop it, keep the checkpoint
    │   │   ├── InvalidCredentialsError  the MIS refused the credentials (401)
    │   │   ├── AccessNotGrantedError    credentials fine, access / scope missing (403)
    │   │   ├── NotFoundError            unknown school, wrong region, missing resource
    │   │   ├── BadResponseError         unparseable or contract-breaking page (.url)
    │   │   ├── PaginationLoopError      a paginator saw the same page twice
    │   │   └── NotSupportedError        the connector lacks the capability / not built yet
    │   └── RecordError                  skip this record, keep the run going
    │       ├── InvalidRecordError       .record_id, .field: a value the MIS sent is unusable
    │       └── PhotoRejectedError       not a real image, or over the size limit
    ├── StoreError                       the store refused; usually fail the run
    │   └── LeaseHeldError               another worker is running this integration
    └── RuleError                        an engine rule refused the action; tell the admin
        ├── StateError                   not allowed in the integration's current state
        └── MappingError                 the mapping is invalid (.issues)

Every message is passed through :func:`connectkit.secrets.redact` so no registered
secret (token, password) can reach a log line or a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectkit.secrets import redact


class ConnectkitError(Exception):
    """Root of the tree; catch this to catch anything connectkit raises on purpose."""

    def __init__(self, message: str) -> None:
        self.message = redact(message)
        super().__init__(self.message)

    def __str__(self) -> str:
        return redact(self.message)


# --- configuration -------------------------------------------------------------------


class ConfigError(ConnectkitError):
    """The deployment's configuration is wrong: fix it and try again."""


class ConfigValidationError(ConfigError):
    """The config file broke its JSON Schema; ``issues`` lists every problem at once.

    Each issue is a string of the form ``"integrations[0].connector.school_id: <why>"``.
    """

    def __init__(self, issues: Sequence[str], source: str = "config") -> None:
        self.issues = [redact(issue) for issue in issues]
        self.source = source
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        super().__init__(f"{source}: {len(self.issues)} problem(s)\n{lines}")


class SecretMissingError(ConfigError):
    """A ``${VAR}`` reference names an environment variable that is not set."""


# --- plugins -------------------------------------------------------------------------


class PluginError(ConnectkitError):
    """A plugin is broken: report it, and carry on with the others."""

    def __init__(self, plugin: str, reason: str) -> None:
        self.plugin = plugin
        self.reason = redact(reason)
        super().__init__(f"plugin {plugin!r}: {self.reason}")


class PluginLoadError(PluginError):
    """The plugin failed to import, to instantiate, or to register with pluggy."""


class HookContractError(PluginError):
    """An implementation returned something its hook specification does not allow."""


# --- connectors ----------------------------------------------------------------------


class ConnectorError(ConnectkitError):
    """Raised by a connector, or by the core on a connector's behalf."""


class RetryLaterError(ConnectorError):
    """Transient failure: the same call may succeed later."""


class RateLimitedError(RetryLaterError):
    """The MIS asked us to slow down; ``retry_after`` is in seconds (None if unknown)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class UpstreamUnavailableError(RetryLaterError):
    """5xx, a timeout, or a connection that could not be made."""


class RunFailedError(ConnectorError):
    """Permanent for this run: stop it, keep its checkpoint so it can resume later."""


class InvalidCredentialsError(RunFailedError):
    """The MIS refused the credentials (e.g. HTTP 401)."""


class AccessNotGrantedError(RunFailedError):
    """The credentials are valid but access (or a scope) is not granted (e.g. HTTP 403)."""


class NotFoundError(RunFailedError):
    """Unknown school, wrong regional domain, or missing resource (e.g. HTTP 404)."""


class BadResponseError(RunFailedError):
    """A response could not be parsed or broke the API's contract; ``url`` is token-free."""

    def __init__(self, message: str, url: str | None = None) -> None:
        self.url = redact(url) if url else None
        super().__init__(f"{message} (page {self.url})" if self.url else message)


class PaginationLoopError(RunFailedError):
    """A paginator was sent back to a page it had already read."""


class NotSupportedError(RunFailedError):
    """The connector does not offer this operation (or it is not built yet)."""


class RecordError(ConnectorError):
    """One record is unusable: skip it (and report it), keep the run going."""

    def __init__(self, message: str, record_id: str | None = None, field: str | None = None):
        self.record_id = record_id
        self.field = field
        where = ", ".join(
            part
            for part in (
                f"record {record_id}" if record_id else "",
                f"field {field}" if field else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class InvalidRecordError(RecordError):
    """A value the MIS sent cannot be used (names the record and field)."""


class PhotoRejectedError(RecordError):
    """A photo is not a real JPEG/PNG, or it is larger than the configured limit."""


# --- store and rules -----------------------------------------------------------------


class StoreError(ConnectkitError):
    """The store refused an operation."""


class LeaseHeldError(StoreError):
    """Another worker holds the run lease for this integration."""


class RuleError(ConnectkitError):
    """An engine rule refused the action; the message tells the admin what to do first."""


class StateError(RuleError):
    """The action is not allowed in the integration's (or run's) current state."""


class MappingError(RuleError):
    """The field or group mapping is invalid; ``issues`` lists every problem."""

    def __init__(self, issues: Sequence[str]) -> None:
        self.issues = list(issues)
        super().__init__("invalid mapping:\n" + "\n".join(f"  - {i}" for i in self.issues))
