"""The hostile entries of the catalog: lures towards a model the suite did not make, an extra deploy, or no end.

Only the entries live here; what a hostile hub then does (the victims it seeds, where it redirects, which model it
claims) is ``hub/hostile.py``, which the app asks wherever one of these switches is on. A run against a lure is
judged by what the hub's audit shows it did, not by its verdict.
"""

from __future__ import annotations

from ._base import DELETE, DEPLOYS, Fault, Switch


def _hostile(name: str, clause: str, switch: Switch, ops: frozenset[str]) -> Fault:
    # Every lure needs victims: models the suite did not make, already in the caller's namespace.
    switches = frozenset({switch, Switch.CROWDED})
    return Fault(name, clause, switch.value, hostile=True, ops=ops, switches=switches)


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
)
