"""What a stage does when the GPU runs out of memory: free what the failed call held and say so as a ModelError.

torch is looked up, never imported: only code that already loaded torch can run out of GPU memory, and the
offline profile runs without it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from common.errors import ModelError


@contextmanager
def out_of_memory_as_model_error(advice: str) -> Iterator[None]:
    """Turn torch's OutOfMemoryError inside the block into a ModelError carrying `advice`, after emptying the
    CUDA cache so the worker can serve the next job."""
    try:
        yield
    except Exception as error:
        torch = sys.modules.get("torch")
        if torch is None or not isinstance(error, torch.OutOfMemoryError):
            raise
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise ModelError(f"the GPU ran out of memory for this job; {advice}") from None
