"""The hub package exports a short public API, as httpx's tests check its own."""

from __future__ import annotations

import oxen_contract.hub
from oxen_contract.hub.app import create_app
from oxen_contract.hub.faults import FAULTS, Fault
from oxen_contract.hub.serve import LocalHub


def test_the_package_exports_exactly_its_public_names() -> None:
    assert sorted(oxen_contract.hub.__all__) == ["FAULTS", "Fault", "LocalHub", "create_app"]
    exported = {name: getattr(oxen_contract.hub, name) for name in oxen_contract.hub.__all__}
    assert exported == {"FAULTS": FAULTS, "Fault": Fault, "LocalHub": LocalHub, "create_app": create_app}
