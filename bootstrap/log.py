"""One-line log records on stderr, and the redaction of what child processes said before it is logged.

`logging` alone costs ~8 ms to import, a sixth of the fast path's budget. The bootstrap may not import the worker,
so it redacts on its own what a failing uv can echo back: credentials in index URLs, signed query parameters,
Authorization headers, and the values of variables named like secrets.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping

REDACTED = "[redacted]"
# Patterns are compiled on first use (`re` caches them): only an error path needs them.
_URL_CREDENTIALS = r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@:'\"<>]+(?::[^\s/@'\"<>]*)?@"  # https://user:token@host
_CREDENTIAL_PARAMETERS = (
    r"(?i)\b((?:[a-z0-9_-]*token|password|passwd|secret|signature|sig|credential|api[_-]?key|"
    r"x-amz-[a-z-]+|awsaccesskeyid)=)[^&\s'\"<>]+"
)
_AUTHORIZATION = r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(?:bearer\s+|basic\s+)?[^\s'\",}]+"
_CREDENTIAL_NAME = r"(?i)(token|secret|password|passwd|credential|_key$|_key_id$)"
SECRET_MIN_CHARS = 8  # shorter values (`1`, `true`) would blank out ordinary words


def info(message: str) -> None:
    _emit("INFO", message)


def warning(message: str) -> None:
    _emit("WARNING", message)


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """`text` with credentials replaced by REDACTED; secrets are also the values of `env`'s variables whose names
    say they hold one (HF_TOKEN, UV_INDEX_<NAME>_PASSWORD, AWS_SECRET_ACCESS_KEY, ...)."""
    import re

    env = os.environ if env is None else env
    secrets = {
        value for name, value in env.items() if len(value) >= SECRET_MIN_CHARS and re.search(_CREDENTIAL_NAME, name)
    }
    for secret in sorted(secrets, key=len, reverse=True):  # longest first: a secret holding another goes whole
        text = text.replace(secret, REDACTED)
    text = re.sub(_URL_CREDENTIALS, lambda match: f"{match.group(1)}{REDACTED}@", text)
    text = re.sub(_CREDENTIAL_PARAMETERS, lambda match: f"{match.group(1)}{REDACTED}", text)
    return re.sub(_AUTHORIZATION, lambda match: f"{match.group(1)}{REDACTED}", text)


def _emit(level: str, message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} {level} bootstrap: {message}", file=sys.stderr, flush=True)
