"""Present a subpackage's re-exported names as its own, the way httpx and the OTel SDK do.

`help()`, `repr()` of classes, pickling and documentation then show the public path
(`flext_observability.sinks.SQLiteStore`) instead of the private module the code lives in.
Pydantic models keep their defining module: pydantic resolves their annotations through it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import FunctionType

__all__ = ["publish"]


def publish(namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Set `__module__` of each public class and function in `names` to the namespace's module."""
    module = namespace["__name__"]
    for name in names:
        obj = namespace[name]
        if isinstance(obj, type) and hasattr(obj, "__pydantic_fields__"):
            continue
        if isinstance(obj, type | FunctionType):
            obj.__module__ = str(module)
