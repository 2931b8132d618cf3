"""configdiff computes a structured diff of two reviewer configurations."""

from __future__ import annotations

from typing import Any


def diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Changes from ``old`` to ``new`` as ``{path, op: added|removed|changed, from?, to?}``.

    Objects are compared key by key, lists index by index (``routing.candidates[0].model``).
    """
    if isinstance(old, dict) and isinstance(new, dict):
        return _dicts(old, new, path)
    if isinstance(old, list) and isinstance(new, list):
        return _lists(old, new, path)
    if old != new:
        return [{"path": path or "$", "op": "changed", "from": old, "to": new}]
    return []


def _dicts(old: dict[str, Any], new: dict[str, Any], path: str) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for key in sorted(old.keys() | new.keys()):
        child = f"{path}.{key}" if path else key
        if key not in new:
            changes.append({"path": child, "op": "removed", "from": old[key]})
        elif key not in old:
            changes.append({"path": child, "op": "added", "to": new[key]})
        else:
            changes.extend(diff(old[key], new[key], child))
    return changes


def _lists(old: list[Any], new: list[Any], path: str) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for index in range(max(len(old), len(new))):
        child = f"{path}[{index}]"
        if index >= len(new):
            changes.append({"path": child, "op": "removed", "from": old[index]})
        elif index >= len(old):
            changes.append({"path": child, "op": "added", "to": new[index]})
        else:
            changes.extend(diff(old[index], new[index], child))
    return changes
