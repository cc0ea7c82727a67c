"""mkt: one YAML brief in, placement-ready Chinese marketing posters out.

The public API is importable without pulling in heavy libraries; names resolve on first use."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_EXPORTS = {
    "load_brief": "mktcli.brief",
    "Brief": "mktcli.brief",
    "make_posters": "mktcli.poster",
    "PosterOptions": "mktcli.poster",
    "PosterHooks": "mktcli.poster",
    "plan_jobs": "mktcli.poster",
    "BundleResult": "mktcli.poster",
    "load_channels": "mktcli.channels",
    "load_brand": "mktcli.brand",
    "MktError": "mktcli.errors",
    "BriefError": "mktcli.errors",
    "ExitCode": "mktcli.errors",
}

__all__ = [*_EXPORTS, "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .brand import load_brand
    from .brief import Brief, load_brief
    from .channels import load_channels
    from .errors import BriefError, ExitCode, MktError
    from .poster import BundleResult, PosterHooks, PosterOptions, make_posters, plan_jobs


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'mktcli' has no attribute {name!r}")
