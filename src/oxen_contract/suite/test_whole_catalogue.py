"""Every model the list names retrieves as itself: one request per model of the catalogue.

A module of its own, and the last of the suite's by name: the run starts these retrieves in the background as soon
as its first list is read (``fixtures.retrieves_ahead``), and they go on while every other test runs, so that a
catalogue of a thousand models far away costs the run about the time of a small one (issue 22).
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.vcr, pytest.mark.contract]


def test_every_listed_model_retrieves_as_itself(
    hub: Any, verifier: Any, listed_ids: list[str], concurrent_reads: Any, retrieves_ahead: Any
) -> None:
    # Sent side by side (--concurrency), checked in list order: the first failure named is the same at any pace. A
    # model this list names was retrieved ahead when the run's first list named it too (listed before and after its
    # retrieve, it had to answer as itself then); the others are retrieved now.
    answers = concurrent_reads(hub.retrieve, listed_ids, ahead=retrieves_ahead)
    for model_id, exchange in zip(listed_ids, answers, strict=True):
        body = verifier.answer(exchange, clause="rule:retrieve-answers-the-requested-model")
        verifier.same(exchange, "rule:retrieve-answers-the-requested-model", "/id", model_id, body.get("id"))
