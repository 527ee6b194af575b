"""gunicorn settings for the search page measured with BENCH_WHOOSH_COLD=1 (bench/search_bench.py): each worker
keeps no words' document sets and no posting arrays from one request to the next (search.facets), as
bench/whoosh_engine.py does for the query mix."""


def post_fork(server, worker) -> None:
    from search import facets

    facets.MAX_CACHED_POSTINGS = facets.MAX_CACHED_WORD_DOCS = 0
    worker.log.warning("worker %s: search keeps no words' sets or posting arrays between requests", worker.pid)
