"""The differential probe (mutants/probe.py): blind to what the docs leave free, and sees every fault of the catalog.

A probe that normalised too much would call real differences "equivalent"; one that normalised too little would call
every hub different. Both are held here against hubs whose answers are known: the clean hub in its two clocks, the
benign variants that only vary what the probe normalises, and every fault of the self-check's catalog.
"""

from __future__ import annotations

import pytest

from oxen_contract.hub import FAULTS, create_app
from oxen_contract.mutants.probe import PROBE_TOKENS, SCRIPT_STEPS, Answer, differences, play


@pytest.fixture(scope="module")
def clean() -> list[Answer]:
    return _play()


def _play(*faults: str, deterministic: bool = True) -> list[Answer]:
    app = create_app(PROBE_TOKENS, faults, deterministic=deterministic, hang_seconds=0.0)
    try:
        return play(app)
    finally:
        app.state.store.close()


def test_the_script_sends_every_route_with_both_keys_a_deploy_through_each_route_and_its_cleanup() -> None:
    sent = {(method, path.split("?")[0]) for _, method, path in SCRIPT_STEPS}
    labels = [label for label, _, _ in SCRIPT_STEPS]
    assert len(labels) == len(set(labels)), "every step has a label of its own"
    assert ("GET", "/api/ai/models") in sent and ("GET", "/api/ai/models/search") in sent
    for method, tail in (("GET", ""), ("POST", "/activate"), ("POST", "/deactivate"), ("DELETE", "")):
        assert any(m == method and p.startswith("/api/ai/models/") and p.endswith(tail) for m, p in sent), method
    assert any(p.endswith("/fine_tunes/ft-1/deploy") for _, p in sent)
    assert any("/checkpoints/1/deploy" in p for _, p in sent)
    assert {"list-bob", "list-none", "list-bad", "delete-custom-bob", "delete-custom"} <= set(labels)
    # The cleanup: every model a deploy of the script made is deleted by the end.
    assert {"delete-second", "delete-third", "delete-fourth", "delete-bobs"} <= set(labels)


def test_the_clean_hub_differs_from_itself_in_nothing_whatever_its_clock_and_id_suffixes(clean: list[Answer]) -> None:
    # Real mode: random id suffixes, the wall clock in created and Date, random deployment ids; all left free.
    assert differences(clean, _play(deterministic=False)) == []


@pytest.mark.parametrize("variant", ["reverse-order", "dotted-ids"])
def test_a_benign_variant_that_varies_only_order_or_id_form_shows_no_difference(
    clean: list[Answer], variant: str
) -> None:
    assert differences(clean, _play(variant)) == []


# delete-hangs only changes how long the answer takes, which a probe of answers cannot see (the suite's timeout does).
_SEEN = [f.name for f in FAULTS if f.kind in ("fault", "strict-only") and f.name != "delete-hangs"]


@pytest.mark.parametrize("fault", _SEEN)
def test_every_fault_of_the_catalog_shows_a_difference(clean: list[Answer], fault: str) -> None:
    assert differences(clean, _play(fault))


def test_a_difference_names_its_step_where_it_is_and_both_values(clean: list[Answer]) -> None:
    found = differences(clean, _play("delete-answers-500"))
    assert "delete-custom status: 200 -> 500" in found
    assert 'delete-custom body/id: "<model-1>" -> <absent>' in found
