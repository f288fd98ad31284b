"""Faults that answer a 5xx where the hub should answer otherwise: on the deploy routes, and where no route is.

``rule:no-server-error`` holds for every request, however odd: every source documents only 2xx and 4xx answers. A
deploy that crashes fails the run as a contract violation even though it also leaves the run without a model, and a
request no route takes (a near-miss path, a method a documented path does not have) is refused, never a crash.
"""

from __future__ import annotations

from dataclasses import replace

from ..records import ApiError, Reply
from ._base import DEPLOYS, ErrorInfoBend, Fault

_CRASH = "The hub failed to answer this request"


def _crashes_on(status: int) -> ErrorInfoBend:
    """An error of ``status`` answers 500 instead (the Allow header of a 405, if any, stays)."""

    def bend(error: ApiError) -> ApiError:
        return replace(error, status=500, type="unknown_error", detail=_CRASH) if error.status == status else error

    return bend


def _missing_fine_tune_is_400(error: ApiError) -> ApiError:
    """A 400 is a documented error body, but not the status the deploy routes document for a missing fine-tune."""
    return replace(error, status=400, type="bad_request") if error.status == 404 else error


def _deploy_crashes(reply: Reply) -> Reply:
    return Reply(500, ApiError(500, "unknown_error", _CRASH).to_json())


SERVER_ERRORS: tuple[Fault, ...] = (
    Fault(
        "deploy-of-missing-fine-tune-answers-500",
        "a deploy of a fine-tune that does not exist answers 404 with an error body, never a 5xx",
        "a deploy of a fine-tune (or checkpoint) the hub does not hold answers 500 unknown_error",
        ops=DEPLOYS,
        error_info=_crashes_on(404),
    ),
    Fault(
        "deploy-of-missing-fine-tune-answers-400",
        "a deploy of a fine-tune that does not exist answers 404 (openapi.yaml, both deploy routes)",
        "a deploy of a fine-tune (or checkpoint) the hub does not hold answers 400 bad_request instead of 404",
        ops=DEPLOYS,
        error_info=_missing_fine_tune_is_400,
    ),
    Fault(
        "deploy-answers-500",
        "no request gets a 5xx, a deploy included",
        "every deploy creates its model, then answers 500 unknown_error",
        ops=DEPLOYS,
        reply=_deploy_crashes,
    ),
    Fault(
        "near-miss-path-answers-500",
        "no request gets a 5xx, one to a path no route takes included",
        "a request to a path no route takes (/api/ai/modelsX, /api/ai/models/) answers 500 instead of 404",
        ops=frozenset({"route"}),
        error_info=_crashes_on(404),
    ),
    Fault(
        "undocumented-method-answers-500",
        "no request gets a 5xx, one with a method its path does not have included",
        "a request with a method its path does not have (HEAD, PUT, PATCH of a model) answers 500 instead of 405",
        ops=frozenset({"route"}),
        error_info=_crashes_on(405),
    ),
)
