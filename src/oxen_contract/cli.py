"""``oxen-contract``: the contract suite, run from the installed package, with the options of ``pytest tests/contract``.

``oxen-contract`` (or ``oxen-contract --replay``) replays the packaged cassettes with the network blocked;
``oxen-contract --local-hub`` runs live against the local reference hub; ``oxen-contract --hub-url URL --fine-tune
OWNER/REPO/FT_ID`` runs live against a hub (key in OXEN_API_KEY). Every other option is pytest's or the suite's
(``oxen-contract --help``). It is ``pytest --pyargs oxen_contract.suite``, which works too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import pytest

__all__ = ["main"]

SUITE = "oxen_contract.suite"
_LIVE_OPTIONS = ("--hub-url", "--local-hub")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    replay = "--replay" in args
    args = [arg for arg in args if arg != "--replay"]
    if replay:
        if any(arg.split("=")[0] in _LIVE_OPTIONS for arg in args):
            sys.stderr.write("oxen-contract: --replay replays the packaged cassettes: drop --hub-url / --local-hub\n")
            return int(pytest.ExitCode.USAGE_ERROR)
        # A hub URL left in the environment must not turn a replay live.
        for name in ("OXEN_HUB_URL", "OXEN_CONTRACT_LOCAL_HUB"):
            os.environ.pop(name, None)
    live = any(arg.split("=")[0] in _LIVE_OPTIONS for arg in args) or bool(
        os.environ.get("OXEN_HUB_URL") or os.environ.get("OXEN_CONTRACT_LOCAL_HUB")
    )
    offline = [] if live else ["--block-network"]
    return int(pytest.main(["--pyargs", SUITE, "-p", "no:cacheprovider", *offline, *args]))


if __name__ == "__main__":
    sys.exit(main())
