"""orjson, when it is installed (the `fast` and `server` extras): the one place that looks.

It encodes and decodes JSON several times faster than the stdlib, and is strict where
the stdlib is lenient (no NaN, no lone surrogate). Every user falls back to the stdlib
or pydantic_core without it, with the same results.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def fast_json() -> Any:
    """The orjson module, or None."""
    try:
        import orjson
    except ImportError:
        return None
    return orjson
