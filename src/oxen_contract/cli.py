"""``oxen-contract``: the contract suite, run from the installed package, with the options of ``pytest tests/contract``.

``oxen-contract`` (or ``oxen-contract --replay``) replays the packaged cassettes with the network blocked;
``oxen-contract --local-hub`` runs live against the local reference hub; ``oxen-contract --hub-url URL --fine-tune
OWNER/REPO/FT_ID`` runs live against a hub (key in OXEN_API_KEY). Every other option is pytest's or the suite's
(``oxen-contract --help``). It is ``pytest --pyargs oxen_contract.suite``, which works too.

The target comes from the command line or the environment, never from an ini file alone: a run without a live
option or variable is a replay, asked for explicitly (``--replay``), so a project's ``pytest.ini`` naming a hub URL
and a fine-tune cannot turn it into live, paid deploys.
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
    live_asked = any(arg.split("=")[0] in _LIVE_OPTIONS for arg in args)
    if replay and live_asked:
        sys.stderr.write("oxen-contract: --replay replays the packaged cassettes: drop --hub-url / --local-hub\n")
        return int(pytest.ExitCode.USAGE_ERROR)
    live = not replay and (
        live_asked or bool(os.environ.get("OXEN_HUB_URL") or os.environ.get("OXEN_CONTRACT_LOCAL_HUB"))
    )
    # A replay is explicit for the plugin too: it then ignores (and names) a hub URL, fine-tune or key that an ini
    # file or the environment holds, and the network stays blocked.
    mode = [] if live else ["--replay", "--block-network"]
    return int(pytest.main(["--pyargs", SUITE, "-p", "no:cacheprovider", *mode, *args]))


if __name__ == "__main__":
    sys.exit(main())
