"""The ``oxen-local-hub`` command (also ``python -m oxen_contract.hub``).

One command starts a hub a developer, a CI job or a parent process can talk to. Parents read the single line it
prints on start to learn the URL, so nothing else goes to stdout; a bad option is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from .catalog import SANDBOX_FINE_TUNE, SANDBOX_REPO, SANDBOX_STEP
from .faults import FAULTS, FAULTS_BY_NAME
from .hostile import DRIP_SECONDS
from .routing import gateway_prefix
from .store import StoreError

TOKENS_ENV = "OXEN_LOCAL_HUB_TOKENS"
_NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

_EPILOG = f"""\
seeded state:
  the hub starts with a catalog of base models (owned_by "oxen"). For every namespace NS that a token maps to, it
  also holds a completed fine-tune at repo NS/{SANDBOX_REPO} with id {SANDBOX_FINE_TUNE} and a checkpoint at step \
{SANDBOX_STEP}, so that
    POST /api/repos/NS/{SANDBOX_REPO}/fine_tunes/{SANDBOX_FINE_TUNE}/deploy
    POST /api/repos/NS/{SANDBOX_REPO}/fine_tunes/{SANDBOX_FINE_TUNE}/checkpoints/{SANDBOX_STEP}/deploy
  each create a new custom model owned by NS (id like NS:{SANDBOX_REPO}/{SANDBOX_FINE_TUNE}-N). With
  benign-crowded-namespaces, search-shows-other-namespaces or any hostile-* fault, NS also holds two custom models
  deployed last month, NS:{SANDBOX_REPO}/{SANDBOX_FINE_TUNE}-prod and NS:{SANDBOX_REPO}/{SANDBOX_FINE_TUNE}-old, which
  no client created (both active; the -old one deactivated under hostile-deploy-hidden-old-slug).

routes (all need Authorization: Bearer TOKEN):
  GET /api/ai/models, GET /api/ai/models/search?search=TERM, GET|DELETE /api/ai/models/ID,
  POST /api/ai/models/ID/activate, POST /api/ai/models/ID/deactivate, and the two deploy routes above.
  Percent-encode ids as one path segment (they contain ':' and may contain '/').

time:
  every answer carries a Date header from the hub's clock, and a model a deploy creates is registered ("created") at
  the time of that deploy's answer. With --deterministic the clock starts at 2026-01-01T00:00:00Z and moves one
  second per request; otherwise it is the wall clock.

on start the hub prints exactly one line to stdout: "oxen-local-hub listening on http://HOST:PORT" (followed by the
--prefix, if any: the URL to hand to clients).

example:
  oxen-local-hub --port 8080 --token dev-token=alice --token other-token=bob
  curl -H 'Authorization: Bearer dev-token' http://127.0.0.1:8080/api/ai/models
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage block: a parent process shows it as is.
        self.exit(2, f"{self.prog}: error: {message}\n")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected an integer from 0 to 65535") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected an integer from 0 to 65535")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: expected seconds") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: expected seconds")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: expected a whole number from 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: expected a whole number from 1")
    return value


def _prefix(text: str) -> str:
    try:
        return gateway_prefix(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_tokens(pairs: Sequence[str]) -> dict[str, str]:
    """TOKEN=NAMESPACE pairs as a mapping; raises ValueError naming the bad pair."""
    tokens: dict[str, str] = {}
    for pair in pairs:
        token, sep, namespace = pair.strip().partition("=")
        if not sep or not token or any(ch.isspace() for ch in token) or not _NAMESPACE.match(namespace):
            # The pair itself is not echoed: it holds a secret.
            raise ValueError("malformed token: expected TOKEN=NAMESPACE, with a namespace of letters, digits, _.-")
        if tokens.get(token, namespace) != namespace:
            raise ValueError("one token is mapped to two namespaces")
        tokens[token] = namespace
    return tokens


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="oxen-local-hub",
        description="A local reference hub for the Oxen.ai models API, with injectable contract faults.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_listening(parser)
    _add_faults(parser)
    _add_shape(parser)
    return parser


def _add_listening(parser: argparse.ArgumentParser) -> None:
    """Where the hub listens, who may call it, and where it keeps its state."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=8080, help="port to listen on; 0 picks a free one (default: 8080)"
    )
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN=NAMESPACE",
        help=f"a bearer token and the namespace it acts as; repeatable. Default: ${TOKENS_ENV} "
        '("tok1=alice,tok2=bob"). At least one token is required.',
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="keep state in this SQLite file (WAL), so that it survives a restart or a kill -9 (default: in memory)",
    )


def _add_faults(parser: argparse.ArgumentParser) -> None:
    """Which faults are on, and the clock and pauses they answer with."""
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="switch on a fault or benign variant from --list-faults; repeatable",
    )
    parser.add_argument("--list-faults", action="store_true", help="print the fault catalog, one line each, and exit")
    parser.add_argument(
        "--deterministic",
        action="store_true",
        help="a fixed clock (from 2026-01-01T00:00:00Z, one second per request) and id sequence: the same requests "
        "give byte-identical answers, Date headers included",
    )
    parser.add_argument(
        "--hang-seconds",
        type=_seconds,
        default=3600.0,
        metavar="N",
        help="how long the delete-hangs fault keeps a delete waiting (default: 3600)",
    )
    parser.add_argument(
        "--drip-seconds",
        type=_seconds,
        default=DRIP_SECONDS,
        metavar="N",
        help="the pause between two bytes of a retrieve answer's body (hostile-drip-retrieve) or head "
        f"(hostile-drip-headers) (default: {DRIP_SECONDS})",
    )


def _add_shape(parser: argparse.ArgumentParser) -> None:
    """How the hub looks from outside: below which path, how many models, how far away, and what it records."""
    parser.add_argument(
        "--prefix",
        type=_prefix,
        default="",
        metavar="PATH",
        help="serve the API below this path, as a gateway would (e.g. /oxen: GET /oxen/api/ai/models); every other "
        "path answers 404 (default: none)",
    )
    parser.add_argument(
        "--catalog-size",
        type=_count,
        metavar="N",
        help="list N base models instead of the seeded catalogue: fewer keep the ones that span every endpoint, more "
        "are generated in the shapes of the seeded ones, each its own (default: the seeded catalogue)",
    )
    parser.add_argument(
        "--latency-seconds",
        type=_seconds,
        default=0.0,
        metavar="N",
        help="answer every request N seconds later, as a distant hub would (default: 0)",
    )
    parser.add_argument(
        "--audit",
        metavar="PATH",
        help="write what reached the hub (every DELETE of a model, every deploy POST, and the models held before any "
        "request) to this JSON file, rewritten after each such request (default: kept in memory only)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_faults:
        for fault in FAULTS:
            print(fault.line())
        return 0
    unknown = [name for name in args.fault if name not in FAULTS_BY_NAME]
    if unknown:
        parser.error(f"unknown fault {unknown[0]!r} (see --list-faults)")
    pairs = args.token or [pair for pair in os.environ.get(TOKENS_ENV, "").split(",") if pair.strip()]
    try:
        tokens = parse_tokens(pairs)
    except ValueError as exc:
        parser.error(str(exc))
    if not tokens:
        parser.error(f"at least one --token TOKEN=NAMESPACE is required (or ${TOKENS_ENV})")
    # Imported here so that --help and --list-faults stay fast.
    from .app import create_app
    from .serve import Serving, server_for

    try:
        app = create_app(
            tokens,
            args.fault,
            deterministic=args.deterministic,
            db_path=args.db,
            hang_seconds=args.hang_seconds,
            drip_seconds=args.drip_seconds,
            audit_path=args.audit,
            prefix=args.prefix,
            catalog_size=args.catalog_size,
            latency=args.latency_seconds,
        )
    except StoreError as exc:
        parser.error(str(exc))
    except OSError as exc:
        parser.error(f"cannot write the audit to {args.audit}: {exc.strerror or exc}")
    try:
        serving = Serving(app, args.host, args.port, args.drip_seconds)
    except OSError as exc:
        app.state.store.close()
        parser.error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    print(f"oxen-local-hub listening on {serving.url}", flush=True)
    try:
        serving.run(server_for(app))
    except KeyboardInterrupt:
        pass
    finally:
        app.state.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
