"""Open Referral UK API response times beside the search page's, on the generated corpus (default 50,000).

Both are asked the same things (everything, words, words with a category, a category, near a postcode, one
record) through the WSGI app in one process, one request at a time, after warm-up: the figures are
server-side latency of a single warm worker (no network, no concurrency), p50/p95 over the requests of each
class. Not a test; never run by `make test`.

    .venv/bin/python -m bench.api_bench                      # 50,000 listings (index build ~4-5 minutes)
    .venv/bin/python -m bench.api_bench --size 1000 --requests 10
    .venv/bin/python -m bench.api_bench --size 50000 --reuse-index   # keep the last run's index
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from bench.corpus import OUT_DIR, build_sqlite

WORDS = ("care", "dementia", "carers", "day centre", "home care", "advice", "autism", "befriending", "respite",
         "mental health", "lunch club", "supported living", "advocacy", "swimming", "short breaks", "peer support")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))]


def _prepare(size: int, reuse_index: bool) -> tuple[str, Path]:
    corpus = build_sqlite(size)
    run = OUT_DIR / f"api-run-{size}"
    database = run / "corpus.sqlite3"
    index = run / "index"
    if not (reuse_index and database.exists() and index.exists()):
        shutil.rmtree(run, ignore_errors=True)
        run.mkdir(parents=True)
        shutil.copyfile(corpus, database)
    return f"sqlite:///{database}", index


def _vocabulary(db) -> dict[str, list]:
    from portal.models import Location, Service, ServiceAtLocation, TaxonomyTerm, public_services_clause

    rng = random.Random(7)
    terms = db.session.execute(sa.select(TaxonomyTerm.id, TaxonomyTerm.slug).where(
        TaxonomyTerm.parent_id.is_(None))).all()
    postcodes = db.session.scalars(sa.select(Location.postcode).join(ServiceAtLocation).where(
        Location.hide_exact_address.is_(False), Location.postcode != "").distinct().limit(2000)).all()
    services = db.session.scalars(sa.select(Service.id).where(public_services_clause()).limit(5000)).all()
    return {"terms": rng.sample(list(terms), min(len(terms), 12)), "postcodes": rng.sample(list(postcodes), 20),
            "services": rng.sample(list(services), 40)}


def request_pairs(vocabulary: dict, count: int) -> dict[str, list[tuple[str, str]]]:
    """Per class: (API URL, search page URL) asking the same thing."""
    rng = random.Random(11)

    def pick(items: Iterable):
        return rng.choice(list(items))

    classes: dict[str, list[tuple[str, str]]] = {name: [] for name in
                                                 ("everything", "words", "words+category", "category",
                                                  "near postcode", "one record")}
    for page in range(1, count + 1):
        classes["everything"].append((f"/api/services?per_page=20&page={page}", f"/services?page={page}"))
        word = quote(pick(WORDS))
        classes["words"].append((f"/api/services?per_page=20&text={word}", f"/services?q={word}"))
        term_id, slug = pick(vocabulary["terms"])
        word = quote(pick(WORDS))
        classes["words+category"].append((f"/api/services?per_page=20&text={word}&taxonomy_term_id={term_id}",
                                          f"/services?q={word}&category={slug}"))
        classes["category"].append((f"/api/services?per_page=20&taxonomy_term_id={term_id}",
                                    f"/services?category={slug}"))
        postcode = quote(pick(vocabulary["postcodes"]))
        classes["near postcode"].append((f"/api/services?per_page=20&postcode={postcode}&proximity=8047",
                                         f"/services?postcode={postcode}&radius=5"))
        service_id = pick(vocabulary["services"])
        classes["one record"].append((f"/api/services/{service_id}", f"/services/{service_id}"))
    return classes


def _time(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=30, help="requests per class and side")
    parser.add_argument("--reuse-index", action="store_true")
    args = parser.parse_args(argv)

    from portal import create_app
    from portal.extensions import db
    from search import indexer

    database, index = _prepare(args.size, args.reuse_index)
    app = create_app("development", SQLALCHEMY_DATABASE_URI=database, SEARCH_INDEX_DIR=str(index),
                     SEARCH_SYNC_AFTER_COMMIT=False, API_RATE_LIMIT="1000000 per minute",
                     POSTCODE_CACHE_SECONDS=300, RATELIMIT_ENABLED=False)
    with app.app_context():
        if not (index / "current").exists():
            started = time.perf_counter()
            count = indexer.rebuild()
            db.session.commit()
            print(f"index: {count:,} listings in {time.perf_counter() - started:.0f} s", flush=True)
        vocabulary = _vocabulary(db)
        db.session.remove()
    classes = request_pairs(vocabulary, args.requests)
    client = app.test_client()
    for api_url, page_url in [pair for pairs in classes.values() for pair in pairs[:3]]:  # warm both sides
        _time(client, api_url)
        _time(client, page_url)
    print(f"\nOpen Referral UK API beside the search page, {args.size:,} listings, {args.requests} requests per "
          f"class and side, one warm in-process worker (ms)\n")
    print(f"{'class':<16} {'API p50':>9} {'API p95':>9} {'page p50':>9} {'page p95':>9}")
    every_api, every_page = [], []
    for name, pairs in classes.items():
        api = [_time(client, api_url) for api_url, _ in pairs]
        page = [_time(client, page_url) for _, page_url in pairs]
        every_api.extend(api)
        every_page.extend(page)
        print(f"{name:<16} {statistics.median(api):>9.1f} {percentile(api, 0.95):>9.1f} "
              f"{statistics.median(page):>9.1f} {percentile(page, 0.95):>9.1f}", flush=True)
    print(f"{'all':<16} {statistics.median(every_api):>9.1f} {percentile(every_api, 0.95):>9.1f} "
          f"{statistics.median(every_page):>9.1f} {percentile(every_page, 0.95):>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
