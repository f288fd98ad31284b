"""Faults in error answers: statuses the contract fixes, the not-found detail, bodies off the documented shapes.

They bend an ``ApiError`` before it is rendered (``error_info``) or render it themselves (``error_body``), whichever
operation it came from, so they share the helpers that tell one kind of error (401, 404, other 4xx, refusal) from
another.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..records import ApiError, JsonObject
from ._base import DELETE, ErrorBodyBend, Fault


def _bare_detail(error: ApiError) -> object:
    return {"detail": error.detail} if error.status == 404 else error.to_json()


def _omit_id(error: ApiError) -> ApiError:
    if error.detail.startswith("Model not found: "):
        return replace(error, detail="Model not found")
    return error


def _auth_403(error: ApiError) -> ApiError:
    return replace(error, status=403) if error.type == "unauthenticated" else error


# An id a plain slug parser would accept: odd ids (spaces, unicode, reserved characters, NUL) are not.
_PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")


def _odd_id_crashes(error: ApiError) -> ApiError:
    if error.type != "resource_not_found" or error.refusal or error.model_id is None:
        return error
    if _PLAIN_ID.match(error.model_id):
        return error
    return ApiError(500, "unknown_error", "Internal error while looking up the model")


def _delete_error_statuses(error: ApiError) -> ApiError:
    if error.refusal:
        return replace(error, status=200)
    return replace(error, status=400) if error.status == 404 else error


# Error bodies: one bend per kind of error; refusals (a model that exists, but the caller may not change it) first.

_DROP = object()


def _error_kinds(
    unauthenticated: ErrorBodyBend | None = None,
    not_found: ErrorBodyBend | None = None,
    invalid: ErrorBodyBend | None = None,
    refused: ErrorBodyBend | None = None,
) -> ErrorBodyBend:
    def bend(error: ApiError) -> object:
        if error.refusal:
            chosen = refused
        else:
            chosen = {"unauthenticated": unauthenticated, "resource_not_found": not_found}.get(error.type, invalid)
        return error.to_json() if chosen is None else chosen(error)

    return bend


def _typed_error(error: ApiError, **changes: object) -> JsonObject:
    """Error shape 1 with members of its ``error`` object changed; a change to ``_DROP`` removes the member."""
    body = error.to_json()
    inner = {**body["error"], **changes}
    return {**body, "error": {k: v for k, v in inner.items() if v is not _DROP}}


SHAPE_AND_AUTH: tuple[Fault, ...] = (
    Fault(
        "error-404-bare-detail",
        "error bodies take one of the two documented shapes",
        'every 404 answers a bare {"detail": ...}',
        error_body=_bare_detail,
    ),
    Fault(
        "not-found-detail-omits-id",
        "the not-found error names the id: Model not found: <id>",
        'not-found errors say only "Model not found"',
        error_info=_omit_id,
    ),
    Fault(
        "auth-failure-answers-403",
        "a missing or bad token answers 401 unauthenticated",
        "auth failures answer 403",
        error_info=_auth_403,
    ),
)

ODD_ID_CRASHES = Fault(
    "delete-of-odd-id-answers-500",
    "a DELETE of an id that names no model is refused with a 4xx, never a 5xx",
    "a delete of an unknown id with spaces, unicode, reserved characters or NUL answers 500 unknown_error",
    ops=DELETE,
    error_info=_odd_id_crashes,
)

STATUSES_AND_BODIES: tuple[Fault, ...] = (
    # The statuses of delete's errors.
    Fault(
        "delete-error-statuses-wrong",
        "a delete of an unknown id answers 404; a refused delete answers a 4xx; both with an error body",
        "a delete of an unknown or deleted id answers 400, and a refused delete (base model, another namespace's "
        "model) answers 200, each with its usual error body",
        ops=DELETE,
        error_info=_delete_error_statuses,
    ),
    # Error bodies off error.schema.json: one clause per kind of error (401, 404, other 4xx, refusal).
    Fault(
        "error-bodies-off-both-shapes",
        "an error body is an object, its error an object; shape 2's error has a string message",
        "401s answer the JSON string of their detail; 404s answer error as a string; other 4xx answer "
        '{"error": {"reason": ...}}; refusals answer {"error": {"message": [...]}}',
        error_body=_error_kinds(
            unauthenticated=lambda e: e.detail,
            not_found=lambda e: {**e.to_json(), "error": e.detail},
            invalid=lambda e: {"error": {"reason": e.detail}},
            refused=lambda e: {"error": {"message": [e.detail]}},
        ),
    ),
    Fault(
        "error-typed-fields-mistyped",
        "in shape 1, error.type, error.title, error.detail and status_message are strings",
        "401s answer error.type 401; 404s answer error.title null; other 4xx answer error.detail as a list; "
        "refusals answer status_message as the status code",
        error_body=_error_kinds(
            unauthenticated=lambda e: _typed_error(e, type=401),
            not_found=lambda e: _typed_error(e, title=None),
            invalid=lambda e: _typed_error(e, detail=[e.detail]),
            refused=lambda e: {**e.to_json(), "status_message": e.status},
        ),
    ),
    Fault(
        "error-typed-envelope-broken",
        'shape 1 has status "error" and status_message, and its error has a title',
        '401s answer status "failed"; 404s answer an error without title; other 4xx (not refusals) answer no '
        "status_message",
        error_body=_error_kinds(
            unauthenticated=lambda e: {**e.to_json(), "status": "failed"},
            not_found=lambda e: _typed_error(e, title=_DROP),
            invalid=lambda e: {k: v for k, v in e.to_json().items() if k != "status_message"},
        ),
    ),
)
