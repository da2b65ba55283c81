"""Logging set-up, and the redaction every line passes through before it leaves the process.

stdout and stderr themselves are wrapped, so prints from the libraries (RunPod's SDK logs with `print`) are
redacted too: presigned URL signatures, credentials in URLs and headers, the configured secrets, and long base64
runs (a voice clip pasted into a message) never reach the log.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import threading
from collections.abc import Iterable
from typing import IO, Any, TextIO, cast

REDACTED = "[redacted]"
_URL_SECRETS = re.compile(
    r"(?i)(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId|sig|token)=[^&\s'\"<>]+"
)
_SIGNING_DEBUG = re.compile(r"(?i)(signature|string to sign|canonical request|credential)(:\s*)[^\n]*(\n[0-9a-f]{64})?")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@:'\"<>]+(?::[^\s/@'\"<>]*)?@")  # https://user:token@
_AUTH_HEADER = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+)?[^\s'\",}]+")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{200,}={0,2}")


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted({secret for secret in secrets if len(secret) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _URL_SECRETS.sub(lambda match: f"{match.group(1)}={REDACTED}", text)
        text = _URL_USERINFO.sub(lambda match: f"{match.group(1)}{REDACTED}@", text)
        text = _SIGNING_DEBUG.sub(lambda match: f"{match.group(1)}{match.group(2)}{REDACTED}", text)
        text = _AUTH_HEADER.sub(lambda match: f"{match.group(1)}{REDACTED}", text)
        return _BASE64_RUN.sub(lambda match: f"[{len(match.group(0))} base64 characters]", text)


class RedactingStream(io.TextIOBase):
    """A text stream that redacts whole lines before passing them on.

    Writers split lines at will (print writes the text and its newline separately; a library may write a URL in
    pieces), so text is held until its line is complete: a secret split across two writes is still one match.
    `flush()` and `close()` pass on a held partial line, redacted too.
    """

    def __init__(self, target: TextIO, redact: Redactor) -> None:
        self._target = target
        self._redact = redact
        self._partial_line = ""
        self._lock = threading.RLock()  # threads share sys.stdout and sys.stderr; a signal handler may log mid-write

    def write(self, text: str) -> int:
        with self._lock:
            complete, newline, self._partial_line = (self._partial_line + text).rpartition("\n")
            if newline:
                self._target.write(self._redact(complete + newline))
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._partial_line:
                self._target.write(self._redact(self._partial_line))
                self._partial_line = ""
        self._target.flush()

    def fileno(self) -> int:
        return self._target.fileno()

    def isatty(self) -> bool:
        return False

    @property
    def buffer(self) -> IO[bytes]:
        """Binary writes (rare: progress bars) pass through unredacted; nothing of ours writes bytes."""
        return self._target.buffer

    @property
    def encoding(self) -> Any:  # type: ignore[override]  # TextIOBase's attribute, read from the target instead
        return getattr(self._target, "encoding", "utf-8")


def install_redaction(secrets: Iterable[str]) -> Redactor:
    """Wrap stdout and stderr; call before anything that logs."""
    redactor = Redactor(secrets)
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = cast(TextIO, RedactingStream(sys.stdout, redactor))
        sys.stderr = cast(TextIO, RedactingStream(sys.stderr, redactor))
    return redactor


# Their DEBUG records spell out signed requests (signatures, canonical requests, headers): never below WARNING.
QUIET_LIBRARIES = ("botocore", "boto3", "s3transfer", "urllib3", "requests", "aiohttp", "asyncio", "filelock")


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
