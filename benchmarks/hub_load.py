"""Load figures for the local reference hub: throughput, latency, 5xx and lost or doubled deletions.

The suite runs live against this hub in CI and the self-check starts many of them, so it must stay correct under
concurrent clients: no 5xx, and every deployed model deleted exactly once even when two clients race to delete it.
This script starts the hub with ``--db`` in a temporary file (a subprocess by default, or a thread with
``--in-process``), runs N client threads that mix deploy, retrieve, list and delete (each client also tries to delete
models that other clients deployed), then checks every deployed model is gone. It exits non-zero if any 5xx, transport
error, lost deletion or doubled deletion happened.

    python benchmarks/hub_load.py --clients 8 --seconds 10
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

TOKENS = {"bench-a": "alice", "bench-b": "bob"}


@dataclass
class Tally:
    """Everything the clients saw, guarded by one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    operations: Counter[str] = field(default_factory=Counter)
    server_errors: int = 0
    transport_errors: int = 0
    unexpected: Counter[str] = field(default_factory=Counter)
    deployed: dict[str, str] = field(default_factory=dict)
    deletions: Counter[str] = field(default_factory=Counter)
    pools: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def _path(model_id: str, action: str = "") -> str:
    path = "/api/ai/models/" + quote(model_id, safe="")
    return f"{path}/{action}" if action else path


def _client_loop(url: str, token: str, namespace: str, deadline: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}

    def call(operation: str, method: str, path: str, **kwargs: object) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError:
            with tally.lock:
                tally.transport_errors += 1
            return None
        elapsed = time.perf_counter() - started
        with tally.lock:
            tally.latencies.append(elapsed)
            tally.operations[operation] += 1
            if response.status_code >= 500:
                tally.server_errors += 1
        return response

    with httpx.Client(base_url=url, timeout=30) as client:
        iteration = 0
        while time.monotonic() < deadline:
            iteration += 1
            if iteration % 2:
                response = call("deploy", "POST", f"/api/repos/{namespace}/sandbox/fine_tunes/ft-1/deploy")
                model_id = (
                    response.json()["deployment"]["model_slug"] if response and response.status_code == 200 else None
                )
            else:
                path = f"/api/repos/{namespace}/sandbox/fine_tunes/ft-1/checkpoints/1/deploy"
                response = call("deploy", "POST", path, json={"deployment_type": "fast"})
                model_id = response.json()["model"]["id"] if response and response.status_code == 200 else None
            if model_id is None:
                with tally.lock:
                    tally.unexpected["deploy failed"] += 1
                continue
            with tally.lock:
                tally.deployed[model_id] = namespace
                tally.pools[namespace].append(model_id)
                victim = rng.choice(tally.pools[namespace][-16:])
            retrieved = call("retrieve", "GET", _path(model_id))
            if retrieved is not None and retrieved.status_code not in (200, 404):
                tally.unexpected[f"retrieve {retrieved.status_code}"] += 1
            call("list", "GET", "/api/ai/models")
            # Race other clients of the namespace for a recent model, then delete our own (maybe already raided).
            for target in (victim, model_id):
                deleted = call("delete", "DELETE", _path(target))
                if deleted is None:
                    continue
                if deleted.status_code == 200:
                    with tally.lock:
                        tally.deletions[target] += 1
                elif deleted.status_code != 404:
                    with tally.lock:
                        tally.unexpected[f"delete {deleted.status_code}"] += 1


def _start_subprocess(stack: ExitStack, db: str) -> str:
    args = [sys.executable, "-m", "oxen_contract.hub", "--port", "0", "--db", db]
    for token, namespace in TOKENS.items():
        args += ["--token", f"{token}={namespace}"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    stack.callback(process.wait, 10)
    stack.callback(process.terminate)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("oxen-local-hub listening on "):
        raise SystemExit(f"the hub did not start: {line!r}")
    return line.split()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (default: 8)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to run (default: 10)")
    parser.add_argument("--in-process", action="store_true", help="serve the hub from a thread of this process")
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        db = str(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "hub.sqlite")
        if args.in_process:
            from oxen_contract.hub import LocalHub

            url = stack.enter_context(LocalHub(TOKENS, db_path=db)).url
        else:
            url = _start_subprocess(stack, db)
        tally = Tally()
        tokens = list(TOKENS.items())
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [
            threading.Thread(target=_client_loop, args=(url, *tokens[i % len(tokens)], deadline, tally, i))
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started

        # Every deployed model must be deleted exactly once, and really gone.
        still_there = 0
        with httpx.Client(base_url=url, timeout=30) as client:
            for model_id, namespace in tally.deployed.items():
                token = next(t for t, ns in TOKENS.items() if ns == namespace)
                response = client.get(_path(model_id), headers={"Authorization": f"Bearer {token}"})
                still_there += response.status_code != 404
        lost = sum(1 for model_id in tally.deployed if tally.deletions[model_id] == 0) + still_there
        doubled = sum(1 for count in tally.deletions.values() if count > 1)

    latencies = sorted(tally.latencies)
    total = len(latencies)
    p50 = statistics.median(latencies) * 1000 if latencies else 0.0
    p99 = latencies[min(total - 1, int(total * 0.99))] * 1000 if latencies else 0.0
    mode = "in-process thread" if args.in_process else "subprocess"
    print(f"hub_load: {args.clients} clients for {elapsed:.1f} s against the hub ({mode}, --db in a temp file)")
    print(f"requests        {total} ({', '.join(f'{op} {n}' for op, n in sorted(tally.operations.items()))})")
    print(f"throughput      {total / elapsed:.0f} requests/s")
    print(f"latency         p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"models deployed {len(tally.deployed)}")
    print(f"5xx             {tally.server_errors}")
    print(f"transport errs  {tally.transport_errors}")
    print(f"lost deletions  {lost}")
    print(f"doubled deletes {doubled}")
    if tally.unexpected:
        print(f"unexpected      {dict(tally.unexpected)}")
    failed = tally.server_errors or tally.transport_errors or lost or doubled or tally.unexpected
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
