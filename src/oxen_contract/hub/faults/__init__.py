"""The catalog of injectable faults and benign variants (``--fault NAME``, ``--list-faults``).

A contract suite is only worth what it catches: each fault breaks one documented rule in one place, so that the
self-check can prove the suite notices, and each benign variant bends the answers in a way the documentation allows,
so that it can prove the suite raises no false alarm. A strict-only fault breaks a rule that no source states as a
must (a hub that accepts a request the documentation does not allow, or shows one namespace's model to another, is
lenient, not broken): the suite only warns about it by default, and must fail on it under ``--strict-contract``. A
hostile fault lures the suite into harm (following a redirect onto a model it did not make, retrying a deploy,
waiting forever): the suite must end with a verdict and the hub's audit must show no harm done. An outage refuses
service (a route rate-limited) and breaks no rule: the suite must say the hub was unavailable, unless it saw a
violation first. Every entry is a small frozen record (``_base.Fault``); adding one is a few lines in its family's
module. An entry can bend, for the operations it names:

- ``model``: every model object in a successful answer;
- ``reply``: the whole successful answer (status, body, content type);
- ``error_info`` / ``error_body``: error answers, before and after they are rendered;
- ``switches``: behaviour the app checks by name (deleting what must stay, ignoring auth, hanging...).

The families live in one module each; this one only joins them into ``FAULTS`` and finds entries by name.
"""

from __future__ import annotations

from collections.abc import Iterable

# Reply lives with the other records; it is re-exported because the self-check's tests import it from here.
from ..records import Reply
from . import (
    availability,
    behaviour,
    benign,
    delete_answer,
    errors,
    lures,
    mistyped,
    other_answers,
    server_errors,
    strict_only,
    undecodable,
)
from ._base import OPERATIONS, Fault, Switch

__all__ = ["FAULTS", "FAULTS_BY_NAME", "OPERATIONS", "Fault", "Reply", "Switch", "UnknownFaultError", "resolve"]

# The catalog order is what --list-faults prints, what resolve returns and how the self-check's report reads, so it
# is spelled out here: the families interleave, grouped by what a suite must look at to catch them.
FAULTS: tuple[Fault, ...] = (
    *delete_answer.MODEL_MEMBERS,
    *delete_answer.WHOLE_ANSWER,
    *behaviour.DELETE,
    *other_answers.MODEL_MEMBERS,
    behaviour.RETRIEVE_FINDS_DELETED,
    *errors.SHAPE_AND_AUTH,
    behaviour.LIST_IGNORES_AUTH,
    *mistyped.MISTYPED,
    *other_answers.WRAPPERS,
    *other_answers.ANOTHER_MODEL,
    *behaviour.ACTIVATE,
    errors.ODD_ID_CRASHES,
    behaviour.LIST_FILTER_IGNORED,
    behaviour.ACTION_FILTER_KEEPS_NOT_FINE_TUNEABLE,
    *other_answers.DEPLOY,
    *undecodable.UNDECODABLE,
    *server_errors.SERVER_ERRORS,
    *strict_only.STRICT_ONLY,
    *errors.STATUSES_AND_BODIES,
    *benign.BENIGN,
    *lures.HOSTILE,
    *availability.OUTAGES,
)

FAULTS_BY_NAME: dict[str, Fault] = {fault.name: fault for fault in FAULTS}


class UnknownFaultError(ValueError):
    """A fault name that is not in the catalog."""


def resolve(names: Iterable[str | Fault]) -> tuple[Fault, ...]:
    """Faults by name (or as given), in catalog order, without duplicates."""
    chosen: set[str] = set()
    extra: list[Fault] = []
    for item in names:
        if isinstance(item, Fault):
            if item.name not in FAULTS_BY_NAME:
                extra.append(item)
            chosen.add(item.name)
        elif item in FAULTS_BY_NAME:
            chosen.add(item)
        else:
            raise UnknownFaultError(f"unknown fault {item!r} (see --list-faults)")
    return tuple(fault for fault in FAULTS if fault.name in chosen) + tuple(extra)
