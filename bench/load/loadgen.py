"""A small open-loop load generator for loopback benchmarks (bench/load/README in docs/benchmarks.md).

Fixed-rate mode sends requests on a schedule independent of responses (so latency includes queueing,
which closed-loop tools hide) and reports throughput and p50/p95/p99 latency; requests are bounded in
count and time. Only loopback targets are allowed.

    python bench/load/loadgen.py --url http://127.0.0.1:8765/healthz --rate 200 --seconds 20 \
        [--header 'Authorization: Token ...'] [--method POST --body-file incident.json --body-template]
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import statistics
import threading
import time
from urllib.parse import urlparse


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--rate", type=float, required=True, help="requests per second")
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--threads", type=int, default=32)
    p.add_argument("--method", default="GET")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--body", default=None, help="request body; {n} is replaced by the request number")
    p.add_argument("--json-out", default=None)
    args = p.parse_args()

    target = urlparse(args.url)
    if target.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("loopback targets only")
    headers = dict(h.split(": ", 1) for h in args.header)
    total = int(args.rate * args.seconds)
    start = time.perf_counter() + 0.2
    jobs: queue.Queue = queue.Queue()
    for n in range(total):
        jobs.put((n, start + n / args.rate))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
        path = target.path + (f"?{target.query}" if target.query else "")
        while True:
            try:
                n, due = jobs.get_nowait()
            except queue.Empty:
                return
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body = args.body.replace("{n}", str(n)) if args.body else None
            try:
                conn.request(args.method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - due  # from when it was due: includes queueing
                with lock:
                    latencies.append(elapsed)
                    statuses[response.status] = statuses.get(response.status, 0) + 1
            except Exception as exc:  # count and reconnect
                with lock:
                    errors.append(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.seconds + 120)
    wall = time.perf_counter() - start
    ok = sum(v for k, v in statuses.items() if 200 <= k < 400)
    result = {
        "url": args.url,
        "method": args.method,
        "rate": args.rate,
        "sent": total,
        "ok": ok,
        "statuses": statuses,
        "errors": len(errors),
        "throughput_rps": round(ok / wall, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
    }
    print(json.dumps(result))
    if args.json_out:
        with open(args.json_out, "a") as fh:
            fh.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
