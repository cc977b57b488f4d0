"""Optional parts of caixun and the packages they need (pyproject.toml's extras).

A single-machine crawl needs none of them. A command that does asks for its module through require(),
which raises MissingExtra naming the extra and the install command, instead of a bare ImportError
from deep inside.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# extra → (what needs it, how to install it in a checkout)
EXTRAS = {
    "readers": ("pandas DataFrames and Parquet exports", "pip install -r requirements-readers.txt -c requirements.lock"),
    "report": ("the crawl health report", "pip install -r requirements.txt -c requirements.lock"),
    "distributed": ("distributed mode (workers on a Redis frontier)", "pip install -r requirements.txt -c requirements.lock"),
}


class MissingExtra(ImportError):
    """A package of an optional extra is not installed; the message names the extra and how to install it."""


def require(module: str, extra: str = "readers") -> ModuleType:
    """The module, imported; MissingExtra naming `extra` when it (or a package it imports) is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        purpose, checkout = EXTRAS[extra]
        raise MissingExtra(
            f"{module} is not installed ({exc}); it belongs to the {extra!r} extra ({purpose}), which a crawl does "
            f"not need; "
            f"install it with  pip install 'caixun[{extra}]'  (in a checkout:  {checkout})"
        ) from None
