"""How a value reads in a human report."""

from __future__ import annotations

import json
from typing import Any

NOT_SET = "(not set)"


def show(value: Any, limit: int = 70) -> str:
    if value is None:
        return NOT_SET
    if isinstance(value, str):
        text = value if value.strip() == value and value else json.dumps(value, ensure_ascii=False)
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"
