"""Against hubs that try to lure it, the suite deletes nothing it did not make, overspends nothing, and ends in time.

Each hostile fault of the local hub (``hostile-*``) sets a lure: a redirect from the run's own model to someone's
production model, a deploy answering an existing or a base model or a dot, a deploy that creates and then answers 503,
a retrieve that drips its body. The judge is the hub's own audit (``app.state.audit``): which DELETEs reached a live
model, which models deploys really created, how many deploy POSTs arrived. A hub that is correct but whose
namespaces already hold models must pass, and keep them all.
"""

from __future__ import annotations

import time

import pytest

from oxen_contract.hub import FAULTS, LocalHub
from oxen_contract.selfcheck.safety import leaks_named

from .conftest import Runner

KEY, OTHER_KEY = "key-a", "key-b"
MAX_PROVISIONS = 2
TIMEOUT = 2.0
HOSTILE = sorted(fault.name for fault in FAULTS if fault.name.startswith("hostile-"))
# How the run must end against each lure (1: a broken contract; 78: a setup error, since no usable model could be
# deployed) and what it must say: the failure a release manager reads.
ENDS = {
    "hostile-delete-redirect": 1,
    "hostile-delete-redirect-absolute": 1,
    "hostile-drip-retrieve": 1,
    "hostile-drip-headers": 1,
    "hostile-gzip-bomb": 1,
    "hostile-echo-key": 1,
}
SAYS = {
    "hostile-delete-redirect": "rule:documented-status",
    "hostile-delete-redirect-absolute": "rule:documented-status",
    "hostile-deploy-existing-slug": "a model that was already listed before the deploy",
    "hostile-deploy-base-slug": "a model that was already listed before the deploy",
    "hostile-deploy-dot-slug": "is not one path segment that names a model",
    "hostile-deploy-dotdot-slug": "is not one path segment that names a model",
    "hostile-deploy-503-after-create": "which the run deletes at cleanup",
    "hostile-drip-retrieve": "rule:answers-in-time",
    # Issue 18's lures.
    "hostile-deploy-hidden-old-slug": "before the deploy was sent",
    "hostile-deploy-502-then-colleague": "answered 502",
    "hostile-deploy-encoded-slug": "holds a character outside a model slug's",
    "hostile-deploy-409-after-create": "answered 409; it made",
    "hostile-deploy-408-after-create": "answered 408; it made",
    "hostile-deploy-429-after-create": "answered 429; it made",
    "hostile-drip-headers": "rule:answers-in-time",
    "hostile-gzip-bomb": "was cut off",
    "hostile-echo-key": "rule:no-server-error",
}


def _run(run_suite: Runner, hub: LocalHub) -> tuple[int, str, float]:
    started = time.monotonic()
    result = run_suite(
        "tests/contract",
        *("--hub-url", hub.url, "--fine-tune", "alice/sandbox/ft-1", "--disable-recording"),
        *("--max-provisions", str(MAX_PROVISIONS), "--request-timeout", str(TIMEOUT), "-p", "no:randomly"),
        env={"OXEN_API_KEY": KEY, "OXEN_API_KEY_OTHER": OTHER_KEY},
    )
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def _assert_safe(hub: LocalHub, output: str) -> None:
    audit = hub.app.state.audit
    created = set(audit.created_ids())
    reached = [model_id for model_id in audit.deletes_reaching_existing() if model_id not in created]
    assert reached == [], f"DELETEs reached models the run did not create: {reached}\n{output[-3000:]}"
    # A colleague's model, made during the run by no deploy of it, is never the run's to delete.
    assert not audit.deletes_reaching_others(), output[-3000:]
    assert len(audit.deploys()) <= MAX_PROVISIONS, output[-3000:]
    still = {model_id for model_id in audit.preexisting_ids()} - set(audit.deleted_ids())
    assert still == set(audit.preexisting_ids())


@pytest.mark.parametrize("fault", HOSTILE)
def test_a_hostile_hub_gets_no_delete_of_a_model_the_run_did_not_make_and_no_extra_deploy(
    run_suite: Runner, fault: str
) -> None:
    # A byte a second: a suite that waits for each byte of a head would take minutes to come to its verdict.
    with LocalHub({KEY: "alice", OTHER_KEY: "bob"}, [fault], drip_seconds=1.0) as hub:
        status, output, seconds = _run(run_suite, hub)
        _assert_safe(hub, output)
        # Every model a deploy really made is gone by the end, or named: a LEAK line with the curl line to delete it,
        # or an UNSETTLED candidate the run could not prove its own (and so did not delete).
        store_ids = set(hub.app.state.audit.created_ids()) - set(hub.app.state.audit.deleted_ids())
        assert store_ids <= set(leaks_named(output)), output[-3000:]
    assert status == ENDS.get(fault, 78), output[-3000:]
    assert SAYS[fault] in output, output[-3000:]
    assert "INTERNALERROR" not in output
    # A verdict in bounded time: each stalled operation waits about the timeout once, then fails fast.
    assert seconds < 60, f"{seconds:.0f} s"


def test_a_correct_hub_whose_namespaces_already_hold_models_passes_and_keeps_them(run_suite: Runner) -> None:
    with LocalHub({KEY: "alice", OTHER_KEY: "bob"}, ["benign-crowded-namespaces"]) as hub:
        status, output, _ = _run(run_suite, hub)
        _assert_safe(hub, output)
    assert status == 0, output[-3000:]
    assert "LEAK" not in output
