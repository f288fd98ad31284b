"""The suite's command-line options and ini keys, and the markers its tests carry."""

from __future__ import annotations

import pytest

__all__ = ["MARKERS", "SUITE_OPTIONS", "add_options"]

HUB_URL = "--hub-url"
LOCAL_HUB = "--local-hub"
FINE_TUNE = "--fine-tune"
DISPOSABLE_MODEL = "--disposable-model"
MAX_PROVISIONS = "--max-provisions"
ALLOW_PROTECTION_PROBES = "--allow-protection-probes"
STRICT_CONTRACT = "--strict-contract"
REQUEST_TIMEOUT = "--request-timeout"
NAMESPACE = "--namespace"
LEDGER = "--ledger"
CONTRACT_REPORT = "--contract-report"
MAX_REQUESTS = "--max-requests"
ALLOW_PARTIAL = "--allow-partial"
REPLAY = "--replay"
CLOCK_SKEW = "--clock-skew"

MARKERS = {
    "contract": "talks to the hub (live, recorded or replayed): needs the oxen-contract plugin's hub fixtures",
    "destructive": "deletes a disposable custom model: needs --fine-tune or --disposable-model",
    "protection_probe": "tries to delete what must not be deletable: live runs need --allow-protection-probes",
}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        "oxen-contract",
        "Oxen hub models API contract suite. Exit status: 0 the contract held (or a partial pass with "
        "--allow-partial); 1 contract violations; 75 hub unavailable; 78 setup error (the contract could not be "
        "checked: undeployable fine-tune, refused key, damaged cassette, delete never checked); 4 usage error",
    )
    group.addoption(
        REPLAY,
        dest="replay",
        action="store_true",
        help="Replay the cassettes, whatever an ini file or the environment says (a hub URL, fine-tune or key there "
        "is named and left unused).",
    )
    group.addoption(
        HUB_URL,
        dest="hub_url",
        help="Run live against the hub at this URL: its root, to which /api/ai/models is appended (env OXEN_HUB_URL).",
    )
    group.addoption(
        LOCAL_HUB, dest="local_hub", action="store_true", help="Start the local reference hub and run live against it."
    )
    group.addoption(
        FINE_TUNE,
        dest="fine_tune",
        action="append",
        metavar="OWNER/REPO/FT_ID[@STEP]",
        help="Deploy this fine-tune (or checkpoint STEP) for disposable models; give it twice and the first deploys "
        "the model the tests share, the second each model a test deletes, e.g. one per deploy route (env "
        "OXEN_CONTRACT_FINE_TUNE, comma-separated).",
    )
    group.addoption(
        DISPOSABLE_MODEL,
        dest="disposable_models",
        action="append",
        metavar="ID",
        help="An existing model this run may delete; repeatable (env OXEN_CONTRACT_DISPOSABLE_MODELS, comma list).",
    )
    group.addoption(
        MAX_PROVISIONS,
        dest="max_provisions",
        metavar="N",
        help="Deploy at most N models per run, default 3 (env OXEN_CONTRACT_MAX_PROVISIONS).",
    )
    group.addoption(
        ALLOW_PROTECTION_PROBES,
        dest="allow_protection_probes",
        action="store_true",
        help="Try to delete base models and other namespaces' models; off by default in live runs.",
    )
    group.addoption(
        STRICT_CONTRACT,
        dest="strict_contract",
        action="store_true",
        help="Use the strict contract variant: no field the contract does not name (env OXEN_CONTRACT_STRICT).",
    )
    group.addoption(
        REQUEST_TIMEOUT,
        dest="request_timeout",
        metavar="SECONDS",
        help="Fail a request that gets no answer within this time, default 30 (env OXEN_CONTRACT_REQUEST_TIMEOUT).",
    )
    group.addoption(
        NAMESPACE,
        dest="namespace",
        help="The namespace OXEN_API_KEY belongs to; default: the --fine-tune owner (env OXEN_CONTRACT_NAMESPACE).",
    )
    group.addoption(LEDGER, dest="ledger", metavar="PATH", help="Where provisioned ids are recorded for cleanup.")
    group.addoption(
        CONTRACT_REPORT,
        dest="contract_report",
        metavar="PATH",
        help="Write a Markdown report here and its JSON twin beside it (env OXEN_CONTRACT_REPORT).",
    )
    group.addoption(
        MAX_REQUESTS,
        dest="max_requests",
        metavar="N",
        help="Send at most N requests; the tests past the cap skip (env OXEN_CONTRACT_MAX_REQUESTS).",
    )
    group.addoption(
        "--baseline",
        dest="baseline",
        metavar="PREV.json",
        help="An earlier run's JSON report: the report opens with what is new since it (env OXEN_CONTRACT_BASELINE).",
    )
    group.addoption(
        "--history",
        dest="history",
        metavar="DIR",
        help="A folder of earlier JSON reports: the HTML report charts failures and drift per run "
        "(env OXEN_CONTRACT_HISTORY).",
    )
    group.addoption(
        ALLOW_PARTIAL,
        dest="allow_partial",
        action="store_true",
        help="Let a run pass (exit 0) though the delete operation's 200 and 404 answers went unchecked; its summary "
        "line says so. Without it such a run is a setup error (env OXEN_CONTRACT_ALLOW_PARTIAL).",
    )
    group.addoption(
        CLOCK_SKEW,
        dest="clock_skew",
        metavar="SECONDS",
        help="How far a model's `created` may be before the hub's time of the deploy that made it (its Date header) "
        "and still be that deploy's model, default 180 (env OXEN_CONTRACT_CLOCK_SKEW).",
    )
    for name, help_text in (
        ("oxen_hub_url", "hub URL for live runs"),
        ("oxen_fine_tune", "OWNER/REPO/FT_ID[@STEP] to deploy for disposable models"),
        ("oxen_max_provisions", "deploys allowed per run"),
        ("oxen_request_timeout", "seconds before a request counts as unanswered"),
        ("oxen_namespace", "the namespace of OXEN_API_KEY"),
        ("oxen_ledger", "path of the provisioning ledger"),
        ("oxen_cassette_dir", "directory of the cassettes (default: cassettes/ at the rootdir)"),
        ("oxen_clock_skew", "seconds a deploy's model's `created` may precede the hub's time of the deploy"),
    ):
        parser.addini(name, help_text, default="")


# The options that say "run the contract suite": given on the command line, they are checked at once.
SUITE_OPTIONS = (
    "hub_url",
    "local_hub",
    "fine_tune",
    "disposable_models",
    "max_provisions",
    "allow_protection_probes",
    "strict_contract",
    "request_timeout",
    "namespace",
    "ledger",
    "contract_report",
    "max_requests",
    "allow_partial",
    "baseline",
    "history",
    "replay",
    "clock_skew",
)
