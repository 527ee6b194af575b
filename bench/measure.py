"""One engine, one phase, in its own process (so each peak memory figure is that engine's alone).

    python -m bench.measure --engine whoosh --phase build --database URL --index-dir DIR --out FILE
    python -m bench.measure --engine fts5 --phase serve --database URL --queries FILE --out FILE

``build`` times building the index from the corpus. ``serve`` times the first search (opening the index),
a few warm-up searches (a long-lived worker is warm), then every query of the mix once, then ~50 published
changes from commit to being found by a search. Both write a JSON result with the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import statistics
import string
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from bench.queries import CLASSES, QuerySpec, from_json


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the process's own address space; ru_maxrss is
    not used because Linux carries it over from the parent across fork and exec (it would report the
    orchestrator's peak when that was higher)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 40 values is the 38th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary(values_ms: list[float]) -> dict:
    return {"n": len(values_ms), "p50": percentile(values_ms, 0.50), "p95": percentile(values_ms, 0.95),
            "max": max(values_ms) if values_ms else float("nan"),
            "mean": statistics.fmean(values_ms) if values_ms else float("nan")}


def open_engine(name: str, database: str, index_dir: str | None):
    if name == "whoosh":
        from bench.whoosh_engine import WhooshEngine

        return WhooshEngine(database, Path(index_dir))
    from bench.baselines import Fts5Engine, PostgresEngine

    return {"fts5": Fts5Engine, "postgresql": PostgresEngine}[name](database)


def public_ids(engine) -> list[str]:
    if hasattr(engine, "public_ids"):
        return engine.public_ids()
    ids = [str(row) for row in engine.connection.execute(sa.text("SELECT service_id FROM bench_docs ORDER BY doc"))
           .scalars()]
    engine.connection.commit()
    return ids


def token(number: int, salt: str) -> str:
    letters = string.ascii_lowercase
    suffix = "".join(letters[(number // 26 ** power) % 26] for power in range(3))
    return f"benchupdate{salt}{suffix}"


def build_phase(engine) -> dict:
    started = time.perf_counter()
    indexed = engine.build()
    seconds = time.perf_counter() - started
    return {"indexed": indexed, "build_seconds": seconds, "listings_per_second": indexed / seconds,
            "size": engine.size_bytes()}


def serve_phase(engine, queries: dict, class_seconds: float, min_per_class: int, updates: int) -> dict:
    result: dict = {}
    warmup = [from_json(item) for item in queries["warmup"]]
    started = time.perf_counter()
    engine.search(warmup[0])
    result["first_search_ms"] = (time.perf_counter() - started) * 1000
    for spec in warmup[1:]:
        engine.search(spec)
    classes: dict = {}
    details: dict = {}
    for kind in CLASSES:
        timings, totals = [], []
        budget_end = time.perf_counter() + class_seconds
        for item in queries["classes"][kind]:
            if len(timings) >= min_per_class and time.perf_counter() > budget_end:
                break
            spec = from_json(item)
            began = time.perf_counter()
            outcome = engine.search(spec)
            timings.append((time.perf_counter() - began) * 1000)
            totals.append(outcome.total)
        classes[kind] = summary(timings)
        details[kind] = {"ms": timings, "totals": totals}
    everything = [ms for kind in CLASSES for ms in details[kind]["ms"]]
    result["classes"] = classes
    result["mix"] = summary(everything)
    result["details"] = details
    result["peak_rss_after_queries_mb"] = peak_rss_mb()  # before the updates, which reopen searchers
    result["updates"] = update_latencies(engine, updates)
    return result


def update_latencies(engine, count: int) -> dict:
    """Commit a change and time until a fresh search finds it (p50/p95 over ``count`` listings)."""
    ids = public_ids(engine)
    rng = random.Random(11)
    chosen = rng.sample(ids, min(count, len(ids)))
    salt = "".join(rng.choice(string.ascii_lowercase) for _ in range(2))
    latencies, missing = [], 0
    for number, service_id in enumerate(chosen):
        word = token(number, salt)
        began = time.perf_counter()
        engine.update_name(service_id, word)
        deadline = began + 10
        while True:
            if service_id in engine.search(QuerySpec("update", word)).ids:
                latencies.append((time.perf_counter() - began) * 1000)
                break
            if time.perf_counter() > deadline:
                missing += 1
                break
        if hasattr(engine, "idle"):
            engine.idle()  # untimed: what the engine's indexer does between changes (Whoosh merges segments)
    return summary(latencies) | {"not_visible_within_10s": missing}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", required=True, choices=("whoosh", "fts5", "postgresql"))
    parser.add_argument("--phase", required=True, choices=("build", "serve"))
    parser.add_argument("--database", required=True)
    parser.add_argument("--index-dir")
    parser.add_argument("--queries")
    parser.add_argument("--class-seconds", type=float, default=40.0)
    parser.add_argument("--min-per-class", type=int, default=10)
    parser.add_argument("--updates", type=int, default=50)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    base_rss = peak_rss_mb()
    engine = open_engine(args.engine, args.database, args.index_dir)
    opened_rss = peak_rss_mb()
    try:
        if args.phase == "build":
            result = build_phase(engine)
        else:
            queries = json.loads(Path(args.queries).read_text())
            result = serve_phase(engine, queries, args.class_seconds, args.min_per_class, args.updates)
    finally:
        engine.close()
    result |= {"engine": args.engine, "phase": args.phase, "peak_rss_mb": peak_rss_mb(),
               "rss_after_imports_mb": base_rss, "rss_after_open_mb": opened_rss}
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
