"""The hostile entries of the catalog: lures towards harm a suite can do against a real hub, or the network between.

Harm is deleting a model the suite did not make (an existing, hidden, base, dotted or encoded slug answered by a
deploy; a redirect; a colleague's model that turns up after a failed deploy), deploying past its limit, leaving a model
it made behind without a word (a deploy that answers 4xx or 5xx after creating), printing a key (a hub that echoes
it), blowing its memory (a gzip bomb) or never ending (an answer or a head that drips in). Only the entries live here;
what a hostile hub then does is ``hub/hostile.py`` (which model is answered or deleted) and
``hub/hostile_answers.py`` (what an answer carries), which the app asks wherever one of these switches is on. A run
against a lure is judged by what the hub's audit shows it did, not by its verdict.
"""

from __future__ import annotations

from ._base import DELETE, DEPLOYS, OPERATIONS, Fault, Switch


def _hostile(name: str, clause: str, switch: Switch | tuple[Switch, ...], ops: frozenset[str]) -> Fault:
    # Every lure needs victims: models the suite did not make, already in the caller's namespace.
    lure = switch if isinstance(switch, tuple) else (switch,)
    effect = "; ".join(one.value for one in lure)
    return Fault(name, clause, effect, hostile=True, ops=ops, switches=frozenset({*lure, Switch.CROWDED}))


# The deploy answers 4xx after creating: (status, the switch).
_AFTER_CREATE_4XX = ((409, Switch.DEPLOY_409), (408, Switch.DEPLOY_408), (429, Switch.DEPLOY_429))

HOSTILE: tuple[Fault, ...] = (
    _hostile(
        "hostile-delete-redirect",
        "a DELETE must not follow a redirect to a model the run did not make",
        Switch.REDIRECT_DELETE,
        DELETE,
    ),
    _hostile(
        "hostile-delete-redirect-absolute",
        "a DELETE must not follow a redirect (absolute URL, same host) to a model the run did not make",
        Switch.REDIRECT_DELETE_ABSOLUTE,
        DELETE,
    ),
    _hostile(
        "hostile-deploy-existing-slug",
        "a deploy answering an existing model's id did not create it: the run must not delete it",
        Switch.DEPLOY_EXISTING,
        DEPLOYS,
    ),
    _hostile(
        "hostile-deploy-base-slug",
        "a deploy answering a base model's id did not create it: the run must not delete it",
        Switch.DEPLOY_BASE,
        DEPLOYS,
    ),
    # hostile-deploy-dot-slug and hostile-deploy-dotdot-slug: one lure, per path segment that vanishes.
    *(
        _hostile(
            f"hostile-deploy-{word}-slug",
            f"a deploy answering the id '{slug}' (a path segment that vanishes) created nothing: the run must not "
            "DELETE it",
            switch,
            DEPLOYS,
        )
        for word, slug, switch in (("dot", ".", Switch.DEPLOY_DOT), ("dotdot", "..", Switch.DEPLOY_DOTDOT))
    ),
    _hostile(
        "hostile-deploy-503-after-create",
        "a deploy that answered 503 may have created a model: the run must not deploy past its limit",
        Switch.DEPLOY_503,
        DEPLOYS,
    ),
    _hostile(
        "hostile-drip-retrieve",
        "an answer that trickles in must not keep the run from a verdict in bounded time",
        Switch.DRIP_RETRIEVE,
        frozenset({"retrieve"}),
    ),
    _hostile(
        "hostile-deploy-hidden-old-slug",
        "a deploy answering a model the list does not show (one's own, deactivated last month) did not create it: "
        "the run must not delete it",
        (Switch.DEPLOY_EXISTING, Switch.LIST_ONLY_ACTIVE, Switch.OLD_SEEDED_INACTIVE),
        DEPLOYS | {"list", "search"},
    ),
    _hostile(
        "hostile-deploy-502-then-colleague",
        "a deploy that answered 502 made nothing; a model that turns up in the namespace later is a colleague's: the "
        "run must not adopt and delete it",
        (Switch.DEPLOY_502, Switch.COLLEAGUE_AFTER_DEPLOY),
        DEPLOYS,
    ),
    _hostile(
        "hostile-deploy-encoded-slug",
        "a deploy answering an existing model's id percent-encoded did not create it: behind a path decoded twice, "
        "the run must not delete what that spelling names",
        (Switch.DEPLOY_ENCODED, Switch.DECODE_TWICE),
        DEPLOYS | {"retrieve", "delete"},
    ),
    # hostile-deploy-409-after-create, -408- and -429-: one lure, per status a client may take for "nothing made".
    *(
        _hostile(
            f"hostile-deploy-{status}-after-create",
            f"a deploy that answered {status} may have created a model: the run must delete it or name it as a leak"
            + (", and not deploy past its limit retrying" if status == 429 else ""),
            switch,
            DEPLOYS,
        )
        for status, switch in _AFTER_CREATE_4XX
    ),
    _hostile(
        "hostile-drip-headers",
        "an answer whose status line and headers trickle in must not keep the run from a verdict in bounded time",
        Switch.DRIP_HEADERS,
        frozenset({"retrieve"}),
    ),
    _hostile(
        "hostile-gzip-bomb",
        "an answer small on the wire but huge once decoded must not pass the run's cap on answer size",
        Switch.GZIP_BOMB,
        frozenset({"retrieve"}),
    ),
    _hostile(
        "hostile-echo-key",
        "a key the hub echoes (as sent, JSON-escaped, percent-encoded, as Basic credentials) must not be printed in "
        "the run's output, report or cassettes",
        Switch.ECHO_KEY,
        frozenset(OPERATIONS),
    ),
)
