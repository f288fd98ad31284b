"""Only oxen_contract.contracts reads contracts/: two readers could drift into two contracts."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "oxen_contract"
READS_CONTRACT_FILES = re.compile(r"""["'](?:[^"']*/)?contracts(?:/|["'])|schema\.json|openapi\.yaml""")


def test_no_module_but_contracts_py_names_the_contract_files() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.name != "contracts.py" and READS_CONTRACT_FILES.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
