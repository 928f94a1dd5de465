"""Present a subpackage's re-exported names as its own, the way httpx and the OTel SDK do.

`help()`, `repr()` of classes, pickling and documentation then show the public path
(`flext_observability.sinks.SQLiteStore`) instead of the private module the code lives in.
Pydantic models keep their defining module: pydantic resolves their annotations through it.

`lazy_exports` re-exports names whose modules only an optional feature needs (the webhook
sinks, the probe server, the rules file and its Prometheus export): the first access imports
them, so a process that never uses the feature never pays its import at startup. Our own code
imports such a name through its package too, so it is published whoever touches it first.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from types import FunctionType

__all__ = ["lazy_exports", "publish"]

_MISSING = object()


def publish(namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Set `__module__` of each public class and function in `names` to the namespace's module."""
    module = namespace["__name__"]
    for name in names:
        obj = namespace[name]
        if isinstance(obj, type) and hasattr(obj, "__pydantic_fields__"):
            continue
        if isinstance(obj, type | FunctionType):
            obj.__module__ = str(module)


def lazy_exports(
    namespace: MutableMapping[str, object], names: Iterable[str], modules: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Publish `names` but the lazy ones; return the module's `__getattr__` and `__dir__`.

    `modules` maps each lazily re-exported name to the module defining it (PEP 562). The first
    access imports it; then every lazy name whose module is loaded by now (that one, and what
    it imported) is bound in `namespace` and published, so later accesses are plain lookups.
    """
    package = str(namespace["__name__"])
    publish(namespace, [name for name in names if name not in modules])

    def __getattr__(name: str) -> object:  # noqa: N807 - the PEP 562 hook's name
        module = modules.get(name)
        if module is None:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        importlib.import_module(module)
        bound = []
        for each, source in modules.items():
            # A module still being imported (an import cycle) may not define its name yet.
            value = getattr(sys.modules.get(source), each, _MISSING)
            if each not in namespace and value is not _MISSING:
                namespace[each] = value
                bound.append(each)
        publish(namespace, bound)
        return namespace[name]

    def __dir__() -> list[str]:  # noqa: N807 - the PEP 562 hook's name
        return sorted({*namespace, *modules})

    return __getattr__, __dir__
