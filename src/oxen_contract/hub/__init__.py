"""The local reference hub: a real server for the models API, with injectable contract faults.

``create_app`` gives the ASGI app (for Starlette's TestClient), with what reached it in ``app.state.audit``;
``LocalHub`` serves it on a free loopback port in a background thread (below a gateway's path prefix if asked, and
behind the drip proxy when a fault needs it), and ``FAULTS`` is the catalog of faults, benign variants and hostile
hubs. The command line is ``oxen-local-hub`` (``python -m oxen_contract.hub``).
"""

from __future__ import annotations

from .app import create_app
from .faults import FAULTS, Fault
from .serve import LocalHub

__all__ = ["FAULTS", "Fault", "LocalHub", "create_app"]
