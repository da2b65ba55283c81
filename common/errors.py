"""The worker's errors, and the one string shape RunPod gets for each.

    WorkerError                 base; never raised itself
    ├── InvalidInput            the job is malformed: a field is missing, of the wrong type or out of range
    ├── VoiceError              the reference voice cannot be fetched or decoded
    ├── ModelError              a model failed (out of memory, missing weights, an alignment that cannot run)
    │   └── DeviceFailure       the GPU failed in a way that leaves it unusable: the worker asks to be replaced
    ├── StorageError            results could not be written to the bucket or the output folder
    ├── InternalError           a bug: anything else, reported without a traceback to the caller
    └── SettingsError           a setting is missing, malformed or contradicts another (start-up only)

Any layer may raise them; this module imports nothing. The handler maps each to `{"error": "<code>: <message>"}`;
the code is stable, the message is for people.
"""

from __future__ import annotations


class WorkerError(Exception):
    """An error the caller should see. `code` is stable; `str(error)` is `<code>: <message>`."""

    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidInput(WorkerError):
    code = "invalid_input"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


class VoiceError(WorkerError):
    code = "voice_error"


class ModelError(WorkerError):
    code = "model_error"


class DeviceFailure(ModelError):
    """A sticky GPU error (a device-side assert, an illegal memory access): every later call on this device fails
    too, so the handler answers this job and asks RunPod for a fresh worker."""


class StorageError(WorkerError):
    code = "storage_error"


class InternalError(WorkerError):
    code = "internal_error"


class SettingsError(WorkerError):
    """A setting is missing, malformed or contradicts another. Raised at start-up only."""

    code = "settings_error"
