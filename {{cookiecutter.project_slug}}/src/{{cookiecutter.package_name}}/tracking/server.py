"""Where MLflow tracks, and a quick check that it can, before a stage logs anything.

`MLFLOW_TRACKING_URI` chooses the store: unset, the project's SQLite file; a
`postgresql://` (or other database) URI, that database directly; `http(s)://`, a team's
`mlflow server`. MLflow itself retries a server that does not answer for minutes and a
database for almost two, then fails with a long trace; `preflight` asks once, with a short
timeout, and a problem ends the stage with one line naming the setting, before any run,
model or registry version is written.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

from ..errors import StageError

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
SETTING = "MLFLOW_TRACKING_URI"
TIMEOUT_SECONDS = 5  # to connect: a host that does not answer
ANSWER_SECONDS = 60  # to answer: a busy server's first query opens its database
_DATABASES = ("postgresql", "mysql", "mssql")  # MLflow's other database stores


def tracking_uri() -> str:
    return os.environ.get(SETTING) or DEFAULT_TRACKING_URI


def shown(uri: str) -> str:
    """The URI without its password, for messages."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _reason(error: BaseException) -> str:
    """The last informative line of a driver's or HTTP library's error."""
    text = str(error)
    for pattern in (r"FATAL:\s+([^\n]+)", r"(Connection refused|timed out|Name or service not "
                    r"known|No route to host|nodename nor servname provided)"):  # fmt: skip
        found = re.search(pattern, text)
        if found:
            return found[1].strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else type(error).__name__)[:300]


def _check_database(uri: str) -> None:
    from mlflow.store.db.utils import create_sqlalchemy_engine

    quick = uri  # libpq waits for an unreachable host for minutes unless told otherwise
    if uri.startswith("postgres"):
        quick += f"{'&' if '?' in uri else '?'}connect_timeout={TIMEOUT_SECONDS}"
    try:
        engine = create_sqlalchemy_engine(quick)
        with engine.connect():
            pass
        engine.dispose()
    except ImportError as exc:  # the database's driver
        raise StageError(
            f"{SETTING}={shown(uri)}: needs {exc.name or exc} (install `.[team]`)"
        ) from None
    except Exception as exc:  # the driver's own errors: refused, bad password, no database
        reason = _reason(exc)
        raise StageError(f"{SETTING}={shown(uri)}: cannot open the database: {reason}") from None


def _get(uri: str, endpoint: str) -> tuple[int, str]:
    from mlflow.exceptions import MlflowException
    from mlflow.utils.credentials import get_default_host_creds
    from mlflow.utils.rest_utils import http_request

    try:
        response = http_request(get_default_host_creds(uri), endpoint, "GET", max_retries=0,
                                timeout=(TIMEOUT_SECONDS, ANSWER_SECONDS),
                                raise_on_status=False)  # fmt: skip
    except MlflowException as exc:
        raise StageError(
            f"{SETTING}={shown(uri)}: no MLflow tracking server answers there ({_reason(exc)})"
        ) from None
    return response.status_code, response.text


def _server_message(body: str) -> str:
    found = re.search(r'"message":\s*"((?:[^"\\]|\\.)*)"', body)
    return _reason(RuntimeError(found[1] if found else body))


def _check_server(uri: str) -> None:
    status, body = _get(uri, "/health")
    if status == 403:
        raise StageError(f"{SETTING}={shown(uri)}: the server refuses this host name; start it "
                         "with --allowed-hosts listing the name clients use")  # fmt: skip
    if status != 200:
        raise StageError(f"{SETTING}={shown(uri)}: /health answered {status}, not OK")
    status, body = _get(uri, "/api/2.0/mlflow/experiments/search?max_results=1")
    if status != 200:
        raise StageError(f"{SETTING}={shown(uri)}: the server cannot read its backend store "
                         f"(--backend-store-uri): {_server_message(body)}")  # fmt: skip
    status, body = _get(uri, "/api/2.0/mlflow-artifacts/artifacts")
    # MLflow's own error (a missing bucket is RESOURCE_DOES_NOT_EXIST, 404) or a crash (an
    # unreachable endpoint); not a server that does not proxy artifacts (--no-serve-artifacts:
    # its clients write them themselves).
    failed = status >= 500 or (status != 200 and '"error_code"' in body)
    if failed and "--no-serve-artifacts" not in body:
        raise StageError(
            f"{SETTING}={shown(uri)}: the server cannot list its artifact store "
            f"(--artifacts-destination; does the bucket exist, and do the server's AWS_* and "
            f"MLFLOW_S3_ENDPOINT_URL settings reach it?): {_server_message(body)}"
        )


def preflight(uri: str) -> None:
    """Fail with one line naming MLFLOW_TRACKING_URI when the store does not answer."""
    scheme = urlsplit(uri).scheme.split("+")[0]
    if scheme in ("http", "https"):
        _check_server(uri)
    elif scheme in _DATABASES:
        _check_database(uri)
