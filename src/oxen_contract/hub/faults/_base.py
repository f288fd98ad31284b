"""What a catalog entry is: the ``Fault`` record, the switches the app checks by name, and the shapes of a bend.

Every family module builds its entries from these, and the app reads them, so they live apart from any family:
a family can then import them without importing the catalog that joins the families.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..records import ApiError, JsonObject, Reply

OPERATIONS = ("list", "search", "retrieve", "activate", "deactivate", "delete", "deploy", "deploy_checkpoint", "route")
_ALL = frozenset(OPERATIONS)
DELETE = frozenset({"delete"})
DEPLOYS = frozenset({"deploy", "deploy_checkpoint"})
# Every operation whose successful answer is a model object (or a list of them).
MODEL_ANSWERS = frozenset({"list", "search", "retrieve", "activate", "deactivate", "delete", "deploy_checkpoint"})


class Switch(enum.Enum):
    KEEP_DELETED = "the delete answers 200 but keeps the model"
    DELETE_TWICE = "a deleted model can be deleted again"
    DELETE_WITHOUT_TOKEN = "a delete without a token is carried out"
    DELETE_BASE = "base models can be deleted"
    DELETE_FOREIGN = "another namespace's models can be deleted"
    HANG_DELETE = "the delete sleeps --hang-seconds before answering"
    LIST_WITHOUT_AUTH = "the list ignores credentials"
    RETRIEVE_DELETED = "retrieve still finds deleted models"
    REVERSE_ORDER = "list and search answer in reverse order"
    CYCLE_STATUS = "deploys cycle through every deployment status"
    DOTTED_IDS = "custom ids use dots instead of a slash"
    SEARCH_WITHOUT_TERM = "search without a term answers every model"
    ANY_DEPLOYMENT_STATUS = "retrieve ignores deployment_status"
    CROWDED = "each namespace already holds two custom models deployed last month, NS:sandbox/ft-1-prod and -old"
    REDIRECT_DELETE = "a delete of one's own custom model answers 307 to one's -prod model and deletes nothing"
    REDIRECT_DELETE_ABSOLUTE = (
        "a delete of one's own custom model answers 307 to the absolute URL of one's -prod model and deletes nothing"
    )
    DEPLOY_EXISTING = "deploys create nothing and answer one's -old model"
    DEPLOY_BASE = "deploys create nothing and answer the fine-tune's base model"
    DEPLOY_DOT = "deploys create nothing and answer the id '.'"
    DEPLOY_DOTDOT = "deploys create nothing and answer the id '..'"
    DEPLOY_503 = "deploys create the model, then answer 503 upstream timed out"
    DRIP_RETRIEVE = "a retrieve answer is sent one byte every --drip-seconds"
    LIST_ONLY_ACTIVE = "list and search show base models and only the custom models whose deployment is active"
    OLD_SEEDED_INACTIVE = "one's -old model was deactivated last month"
    DEPLOY_502 = "deploys create nothing and answer a gateway's 502 page"
    COLLEAGUE_AFTER_DEPLOY = (
        "the 10th request after the first deploy finds a colleague's new model in the deploying namespace"
    )
    DEPLOY_ENCODED = "deploys create nothing and answer one's -prod model under its percent-encoded id"
    DECODE_TWICE = "request paths are percent-decoded twice; retrieve and delete answer the id as decoded once"
    DEPLOY_409 = "deploys create the model, then answer 409"
    DEPLOY_408 = "deploys create the model, then answer 408"
    DEPLOY_429 = "deploys create the model, then answer 429 with Retry-After: 1"
    DRIP_HEADERS = "the status line and headers of a retrieve answer are sent one byte every --drip-seconds"
    GZIP_BOMB = "a retrieve answer of a custom model is gzip-encoded: ~400 KB on the wire, ~400 MB decoded"
    ECHO_KEY = (
        "every answer echoes the Authorization header, in X-Debug-Authorization and, spelled four ways, in a debug "
        "member of JSON bodies; search answers 500 with a debug body"
    )
    ACTIVATE_NOOP = "activate answers the model but leaves its deployments as they were"
    DEACTIVATE_NOOP = "deactivate answers the model but leaves its deployments as they were"
    ACTIVATE_SWAPPED = "activate deactivates and deactivate activates"
    LIST_IGNORES_FILTERS = "the list ignores developer_name, action and provider_name"
    FILTER_DROPS_LAST = "a filtered list leaves out its last match"
    SEARCH_EVERY_NAMESPACE = "search answers every namespace's custom models"
    RETRIEVE_EVERY_NAMESPACE = "retrieve answers another namespace's custom models"
    LIST_EVERY_NAMESPACE = "the list answers every namespace's custom models"
    OWN_MODELS_HIDDEN = "list and search never show the caller's own custom models"
    SEARCH_RATE_LIMITED = "search answers 429 Too Many Requests, Retry-After: 0, to every request"
    NOT_FINE_TUNEABLE = "no model is fine-tuneable: an action filter keeps none"


ModelBend = Callable[[JsonObject], JsonObject]
ReplyBend = Callable[[Reply], Reply]
ErrorInfoBend = Callable[[ApiError], ApiError]
ErrorBodyBend = Callable[[ApiError], object]


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    # The documented rule the fault breaks (for a benign variant: what it varies, still within the rules).
    clause: str
    # What the hub does differently, in a few words.
    effect: str
    benign: bool = False
    # A lure rather than a broken rule: a run is judged by what it did (see the audit), not by its verdict.
    hostile: bool = False
    # A rule no source states as a must: a warning by default, a failure only under --strict-contract.
    strict_only: bool = False
    # Service refused, no rule broken: a run against it alone is unavailable (75), never violated; the self-check
    # combines it with faults to prove that a violation seen before it is never hidden behind it.
    outage: bool = False
    ops: frozenset[str] = _ALL
    model: ModelBend | None = None
    reply: ReplyBend | None = None
    error_info: ErrorInfoBend | None = None
    error_body: ErrorBodyBend | None = None
    switches: frozenset[Switch] = frozenset()

    def __post_init__(self) -> None:
        if self.benign + self.hostile + self.strict_only + self.outage > 1:
            raise ValueError(f"{self.name}: a fault is at most one of benign, hostile, strict-only and outage")

    @property
    def kind(self) -> str:
        """What a suite run against it must do.

        "fault": catch it; "benign": pass; "strict-only": pass by default (with a warning) and catch it under
        --strict-contract; "hostile": end with a verdict in time, unharmed; "outage": end unavailable (75), naming
        what refused service, unless a contract failure came first. Against a hostile hub the run is judged by what
        the audit shows it did, not by which verdict it reached.
        """
        if self.benign:
            return "benign"
        if self.hostile:
            return "hostile"
        if self.outage:
            return "outage"
        return "strict-only" if self.strict_only else "fault"

    def line(self) -> str:
        """The fault's line in --list-faults."""
        text = self.clause if self.kind == "fault" else f"{self.kind}: {self.clause}"
        return f"{self.name:<40} {text} ({self.effect})"


def switch_fault(
    name: str,
    clause: str,
    switch: Switch,
    ops: Iterable[str] = DELETE,
    benign: bool = False,
    strict_only: bool = False,
) -> Fault:
    """An entry that turns one switch on: its effect is the switch's description."""
    switches = frozenset({switch})
    return Fault(
        name, clause, switch.value, benign=benign, strict_only=strict_only, ops=frozenset(ops), switches=switches
    )
