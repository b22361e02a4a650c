"""Write a campaign definition as the TOML file ``outdial campaigns load`` reads.

Enough TOML for definitions: strings, numbers, booleans, lists of those, tables and arrays
of tables (``[[dispositions]]``). ``tomllib`` reads the result back to the same data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from campaigns.errors import CampaignInvalid


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a TOML basic string: same escapes
    if isinstance(v, list) and not any(isinstance(i, Mapping) for i in v):
        return "[" + ", ".join(_value(i) for i in v) + "]"
    raise CampaignInvalid(f"cannot write {type(v).__name__} to TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else json.dumps(k)


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(i, Mapping) for i in v)


def _body(data: Mapping[str, Any], prefix: str) -> list[str]:
    lines = [
        f"{_key(k)} = {_value(v)}"
        for k, v in data.items()
        if not isinstance(v, Mapping) and not _is_table_array(v)
    ]
    for k, v in data.items():
        name = f"{prefix}{_key(k)}"
        if isinstance(v, Mapping):
            lines += ["", f"[{name}]", *_body(v, f"{name}.")]
        elif _is_table_array(v):
            for item in v:
                lines += ["", f"[[{name}]]", *_body(item, f"{name}.")]
    return lines


def dumps(data: Mapping[str, Any]) -> str:
    """``data`` as TOML text (tables after the plain keys, as TOML requires)."""
    return "\n".join(_body(data, "")).strip() + "\n"
