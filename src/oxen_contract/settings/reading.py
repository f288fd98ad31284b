"""How one setting is read: from its option, else its environment variable, else its ini key, and checked.

``table.py`` declares every setting (its option, variable, ini key and default); ``config.py`` resolves the run's
settings from these readers. A bad value is a ``pytest.UsageError`` that names where it came from and what is
accepted (never the value itself where it may hold a secret: a URL with credentials, a key).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .table import by_name

__all__ = [
    "checked_hub_url",
    "env_value",
    "flag",
    "header_safe",
    "ini_value",
    "number",
    "raw_setting",
    "report_path",
    "truth",
]


def env_value(name: str) -> tuple[str, str] | None:
    """The setting's value in the environment and the variable it came from; its current name wins over an alias."""
    setting = by_name(name)
    found = [
        (variable, os.environ[variable].strip()) for variable in setting.envs if os.environ.get(variable, "").strip()
    ]
    if len({value for _, value in found}) > 1:
        # Never echoed: the values may be URLs with a path someone considers private; naming the variables is enough.
        names = " and ".join(variable for variable, _ in found)
        raise pytest.UsageError(f"{names} are both set and disagree ({found[1][0]} is the older name): unset one")
    return (found[0][0], found[0][1]) if found else None


def ini_value(config: pytest.Config, name: str) -> str | None:
    key = by_name(name).ini
    if key is None:
        return None
    value = config.getini(key)
    return str(value).strip() or None


def raw_setting(config: pytest.Config, name: str) -> Any:
    """The setting's raw value: the option, else the environment, else the ini key, else None."""
    value = config.getoption(name, default=None)
    if value not in (None, [], ""):
        return value
    found = env_value(name)
    if found is not None:
        return found[1]
    return ini_value(config, name)


def number(name: str, raw: Any, default: float, *, integer: bool = False, minimum: float = 0) -> float:
    if raw is None:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except (TypeError, ValueError):
        kind = "a whole number" if integer else "a number of seconds"
        raise pytest.UsageError(f"{name} expects {kind}; got {raw!r}") from None
    if not math.isfinite(value) or value < minimum or (not integer and value == 0):
        raise pytest.UsageError(f"{name} must be {'at least ' + str(minimum) if integer else 'positive'}; got {raw!r}")
    return value


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def truth(where: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _FALSE:
        return False
    if value in _TRUE:
        return True
    raise pytest.UsageError(f"{where} expects 1/true/yes or 0/false/no; got {value!r}")


def flag(config: pytest.Config, name: str) -> bool:
    if config.getoption(name, default=False):
        return True
    found = env_value(name)
    if found is not None:
        return truth(found[0], found[1])
    raw = ini_value(config, name)
    return truth(str(by_name(name).ini), raw) if raw is not None else False


def report_path(raw: Any) -> Path | None:
    """--contract-report's path, checked writable now: a run must not fail at its very end for want of a folder."""
    if not raw:
        return None
    path = Path(str(raw))
    if path.suffix.lower() == ".json":
        raise pytest.UsageError(
            f"--contract-report {raw}: give the Markdown (.md) or HTML (.html) path; the JSON twin is written beside it"
        )
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    twin = path.with_suffix(".json")
    problem = None
    if path.is_dir() or twin.is_dir():
        problem = "it is a folder"
    elif not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        problem = f"{folder} is not a writable folder"
    elif any(p.exists() and not os.access(p, os.W_OK) for p in (path, twin)):
        problem = "the file exists and is not writable"
    if problem:
        raise pytest.UsageError(f"--contract-report {raw}: cannot write the report there ({problem})")
    return path


def header_safe(value: str) -> bool:
    return all(32 < ord(character) < 127 for character in value)


def checked_hub_url(raw: str) -> str:
    url = raw.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise pytest.UsageError(f"--hub-url expects an http(s) URL such as https://hub.oxen.ai; got {raw!r}")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        # Not echoed: the URL holds a password. The key goes in OXEN_API_KEY, never in the URL.
        raise pytest.UsageError("--hub-url must not hold credentials (user:password@): put the key in OXEN_API_KEY")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise pytest.UsageError(f"--hub-url takes a base URL without a query or a fragment; got {raw!r}")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise pytest.UsageError(f"--hub-url has a port that is not a number; got {raw!r}") from None
    segments = [segment for segment in parts.path.split("/") if segment]
    if segments[-1:] == ["api"] or segments[-2:] == ["api", "ai"] or segments[-3:] == ["api", "ai", "models"]:
        # The OpenAI SDK's base URL (HUB/api/ai) is a natural thing to paste, and every route would then 404.
        root = url[: len(url) - len(parts.path)] + "/" + "/".join(segments[: segments.index("api")])
        raise pytest.UsageError(
            f"--hub-url takes the hub's root, the URL the API's paths (/api/ai/models, ...) are appended to; got "
            f"{raw!r}. Try {root.rstrip('/')!r}"
        )
    if any(segment in (".", "..") or "%" in segment for segment in segments):
        raise pytest.UsageError(f"--hub-url's path must be plain segments (no dot segments, no %-escapes); got {raw!r}")
    return url
