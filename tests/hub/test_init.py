"""The hub package exports a short public API, as httpx's tests check its own."""

from __future__ import annotations

import oxen_contract.hub


def test_the_package_exports_exactly_its_public_names() -> None:
    assert sorted(oxen_contract.hub.__all__) == ["FAULTS", "Fault", "LocalHub", "create_app"]
    for name in oxen_contract.hub.__all__:
        assert getattr(oxen_contract.hub, name).__module__.startswith("oxen_contract.hub.") or name == "FAULTS"
