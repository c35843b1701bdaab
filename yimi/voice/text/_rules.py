"""Loading the YAML rule files: one place that reads, checks the top level and names the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).resolve().parent / "rules"


class RulesError(ValueError):
    """A rule file is missing, not YAML, or lacks a required key."""


def read_yaml(path: str | Path, *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Read a YAML mapping from ``path`` and check that the ``required`` keys are present."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"cannot read rule file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesError(f"rule file {path} must hold a mapping at the top level")
    missing = [k for k in required if k not in data]
    if missing:
        raise RulesError(f"rule file {path} lacks {', '.join(missing)}")
    return data
