"""Faults in what an operation does rather than in what it answers: each turns on a switch the app checks by name.

The answers stay well-formed, so a suite catches these only by looking at what happened (a retrieve after a delete,
the deployments after an activate), at what it should not have been allowed to do (without a token, on a base model
or another namespace's), or at how long it waited.
"""

from __future__ import annotations

from ._base import MODEL_ANSWERS, Fault, Switch, switch_fault
from .bends import set_to

DELETE: tuple[Fault, ...] = (
    switch_fault(
        "delete-does-not-delete", "a deleted model is gone: retrieve after delete answers 404", Switch.KEEP_DELETED
    ),
    switch_fault("delete-twice-succeeds", "a second delete of the same model answers 404", Switch.DELETE_TWICE),
    switch_fault(
        "delete-without-token-succeeds",
        "a delete without a token answers 401 and deletes nothing",
        Switch.DELETE_WITHOUT_TOKEN,
    ),
    switch_fault(
        "delete-base-model-allowed",
        "a base model cannot be deleted: refused with a 4xx, still listed",
        Switch.DELETE_BASE,
    ),
    switch_fault(
        "delete-foreign-model-allowed",
        "another namespace's model cannot be deleted: refused with a 4xx",
        Switch.DELETE_FOREIGN,
    ),
    switch_fault("delete-hangs", "every request gets an answer in time", Switch.HANG_DELETE),
)

RETRIEVE_FINDS_DELETED = switch_fault(
    "retrieve-finds-deleted",
    "a deleted model is gone: retrieve after delete answers 404",
    Switch.RETRIEVE_DELETED,
    ops={"retrieve"},
)

LIST_IGNORES_AUTH = switch_fault(
    "list-ignores-auth",
    "every operation needs a bearer token: without one, 401",
    Switch.LIST_WITHOUT_AUTH,
    ops={"list"},
)

# activate-does-not-activate and deactivate-does-not-deactivate: the same fault, mirrored.
ACTIVATE: tuple[Fault, ...] = tuple(
    switch_fault(f"{op}-does-not-{op}", f"after {op}, no deployment is {left_over}", switch, ops={op})
    for op, left_over, switch in (
        ("activate", "inactive or deactivating", Switch.ACTIVATE_NOOP),
        ("deactivate", "active or deploying", Switch.DEACTIVATE_NOOP),
    )
) + (
    switch_fault(
        "activate-and-deactivate-swapped",
        "after activate, no deployment is inactive or deactivating; after deactivate, none is active or deploying",
        Switch.ACTIVATE_SWAPPED,
        ops={"activate", "deactivate"},
    ),
)

LIST_FILTER_IGNORED = switch_fault(
    "list-filter-ignored",
    "a filtered list holds only models that match the filter",
    Switch.LIST_IGNORES_FILTERS,
    ops={"list"},
)

# No switch: the answers call every model not fine-tuneable, while the action filter goes on as before, so that what
# the filter keeps and what the answers say no longer agree.
ACTION_FILTER_KEEPS_NOT_FINE_TUNEABLE = Fault(
    "action-filter-keeps-not-fine-tuneable",
    "a model whose fine_tuning is null is not fine-tuneable, so no action filter keeps it",
    "every model answers fine_tuning null, yet ?action=text_generation still answers the models it did",
    ops=MODEL_ANSWERS,
    model=set_to("fine_tuning", None),
)
