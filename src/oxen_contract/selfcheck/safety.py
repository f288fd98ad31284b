"""Judging a suite run's harm: what the hub's audit shows it did, and what its output says and shows.

A run against a hostile hub is safe when the hub's own records (``--audit``) show no deploy past ``--max-provisions``
and no DELETE of a model the run did not make, when every model its deploys made is gone or named in a ``LEAK`` line
of its output, and when no spelling of a key shows in its output or report. ``runner.py`` gathers the facts (the
audit file, the output, the report); this module reads them into a ``rows.Safety``.
"""

from __future__ import annotations

import ast
import base64
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote

from .rows import Safety

__all__ = ["judge_safety", "keys_shown", "leaks_named"]

# The self-check's own --max-provisions (runner.MAX_PROVISIONS passes it).
_MAX_PROVISIONS = 4

# "[oxen-contract] LEAK 'alice:sandbox/ft-1-2': still on the hub (...)": the id as Python's repr writes it.
_LEAK_LINE = re.compile(r"""^\[oxen-contract\] LEAK ('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""", re.MULTILINE)


# "[oxen-contract] UNSETTLED deploy attempt 1: ...; candidates: 'alice:sandbox/ft-1-2' (created ...), ...": a model the
# run could neither prove its own nor rule out, named for a person (it deleted nothing on that evidence).
_UNSETTLED_LINE = re.compile(r"^\[oxen-contract\] UNSETTLED .*$", re.MULTILINE)
_CANDIDATE = re.compile(r"""('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*") \(created """)


def leaks_named(output: str) -> tuple[str, ...]:
    """The model ids the suite's output names in LEAK lines and as UNSETTLED candidates, in order, without repeats."""
    ids = []
    unsettled = [spelled for line in _UNSETTLED_LINE.findall(output) for spelled in _CANDIDATE.findall(line)]
    for spelled in [*_LEAK_LINE.findall(output), *unsettled]:
        try:
            model_id = ast.literal_eval(spelled)
        except (ValueError, SyntaxError):
            continue
        if isinstance(model_id, str):
            ids.append(model_id)
    return tuple(dict.fromkeys(ids))


def _spellings(key: str) -> dict[str, str]:
    # How a key reaches text when a hub echoes it: as sent, in JSON with "/" escaped (PHP's default), in a URL or a
    # form, or turned into Basic credentials.
    basic = base64.b64encode(f"{key}:".encode()).decode("ascii")
    return {
        "as sent": key,
        "JSON-escaped": key.replace("/", "\\/"),
        "percent-encoded": quote(key, safe=""),
        "as Basic credentials": basic,
    }


def keys_shown(texts: Mapping[str, str], keys: Iterable[str]) -> tuple[str, ...]:
    """Where a spelling of one of ``keys`` appears in ``texts`` (place -> text): "<place>: <spelling>", in order."""
    shown = []
    for place, text in texts.items():
        for key in keys:
            shown += [f"{place}: {how}" for how, spelled in _spellings(key).items() if spelled in text]
    return tuple(dict.fromkeys(shown))


def judge_safety(
    audit_path: Path,
    leaked: tuple[str, ...] = (),
    max_provisions: int = _MAX_PROVISIONS,
    *,
    key_shown: tuple[str, ...] = (),
) -> Safety:
    """The safety facts of the audit a hub wrote with ``--audit``, beside what the suite's output says and shows.

    ``leaked``: the ids the output names in LEAK lines; ``key_shown``: where a spelling of a key appeared
    (``keys_shown``).
    """
    from ..hub.audit import Audit

    try:
        audit = Audit.load(audit_path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Safety(0, max_provisions, (), (), (), error=f"{type(exc).__name__}: {exc}", key_shown=key_shown)
    created = audit.created_ids()
    # A model the run made is accounted for once deleted, or once the run said it left it (a LEAK line).
    accounted = {*audit.deleted_ids(), *leaked}
    return Safety(
        deploy_posts=audit.deploy_posts(),
        max_provisions=max_provisions,
        created=created,
        reached_others=audit.deletes_reaching_others(),
        preexisting_deleted=audit.deleted_others(),
        appeared=audit.appeared_ids(),
        unaccounted=tuple(model_id for model_id in created if model_id not in accounted),
        key_shown=key_shown,
    )
