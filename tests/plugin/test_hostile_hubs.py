"""A hub that is correct but whose namespaces already hold models: the suite passes and keeps them all.

The judge is the hub's own audit (``app.state.audit``): which DELETEs reached a live model, which models deploys really
created, how many deploy POSTs arrived. Each hostile hub of the local hub (``hostile-*``: a redirect from the run's own
model to someone's production model, a deploy answering an existing or a base model or a dot, a deploy that creates
and then answers an error, a head or a body dripped in, a gzip bomb, a key echoed) is a row of the self-check's fault
matrix (``tests/selfcheck/test_fault_matrix.py``), judged on the same audit, with the exit status and the words each
lure calls for (``selfcheck.expected.HOSTILE_ENDS``).
"""

from __future__ import annotations

import time

from oxen_contract.hub import LocalHub

from .conftest import Runner

KEY, OTHER_KEY = "key-a", "key-b"
MAX_PROVISIONS = 2
TIMEOUT = 2.0


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


def test_a_correct_hub_whose_namespaces_already_hold_models_passes_and_keeps_them(run_suite: Runner) -> None:
    with LocalHub({KEY: "alice", OTHER_KEY: "bob"}, ["benign-crowded-namespaces"]) as hub:
        status, output, _ = _run(run_suite, hub)
        _assert_safe(hub, output)
    assert status == 0, output[-3000:]
    assert "LEAK" not in output
