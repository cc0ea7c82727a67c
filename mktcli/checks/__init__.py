"""Checks recorded with every creative (rule id, severity, passed, message)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def failed_errors(checks: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The recorded results that block a creative from approval: failed at error level."""
    return [k for k in checks or () if not k.get("passed", True) and k.get("severity") == "error"]
