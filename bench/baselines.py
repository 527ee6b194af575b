"""The two baselines Whoosh is measured against, on the same corpus and the same queries.

- **SQLite FTS5** (the compiled-engine baseline): an external-content FTS5 table over ``name`` and ``body``
  with the porter tokenizer, ranked by ``bm25`` (name weighted 3, as Whoosh boosts it).
- **PostgreSQL full-text search** (what peer directories use): a stored generated ``tsvector`` column (name
  weight A, body weight B) with a GIN index, ``websearch_to_tsquery('english', ...)``, ranked by ``ts_rank``.

Both index the same text Whoosh does (name; summary, description, organisation, eligibility, category names
with their parents, needs, localities, towns) for the same public listings. Filters and facet counts come
from one join table ``bench_facets(doc, grp, value)`` holding each listing's filter values (categories with
their parents, needs, age groups, localities, ways of attending, days, flags): filters are ``IN`` joins on
it, counts a ``GROUP BY`` over it joined to the matched set; place search is a bounding box on
``bench_points`` then the exact haversine distance. Each search is ONE statement returning the page of ids,
the total and every count (a CTE matched once), so neither engine pays extra round trips.

Neither baseline does synonyms, typo tolerance or "most of your words": Whoosh does more work per query.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from bench.queries import FLAG_VALUE, QuerySpec
from search.schema import age_bands_overlapping

PER_PAGE = 20
EARTH_RADIUS_MILES = 3958.8
DISTANCE_HALF_WEIGHT_MILES = 5.0  # as search.service_search: a result this far away keeps half its score
STOP_WORDS = frozenset(("a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "have", "if", "in",
                        "is", "it", "may", "not", "of", "on", "or", "tbd", "that", "the", "this", "to", "us", "we",
                        "when", "will", "with", "yet", "you", "your"))  # Whoosh's STOP_WORDS


@dataclass
class Outcome:
    ids: list[str]
    total: int
    counts: dict[str, dict[str, int]]


@dataclass
class Document:
    doc: int
    service_id: str
    name: str
    body: str
    updated: int
    facets: list[tuple[str, str]]
    points: list[tuple[float, float]]


# --- documents ------------------------------------------------------------------------------------------


def _grouped(connection: sa.Connection, sql: str) -> dict[str, list[tuple]]:
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for row in connection.execute(sa.text(sql)):
        grouped[str(uuid.UUID(str(row[0])))].append(tuple(row[1:]))
    return grouped


def assemble_documents(connection: sa.Connection) -> list[Document]:
    """Every public listing as a document, from the corpus tables (what a rebuild reads and joins)."""
    services = connection.execute(sa.text(
        "SELECT s.id, s.name, s.summary, s.description, s.eligibility_description, o.name, s.minimum_age, "
        "s.maximum_age, s.in_person, s.online, s.by_phone, s.is_free, s.local_offer, s.updated_at "
        "FROM services s JOIN organisations o ON o.id = s.organisation_id "
        "WHERE s.status = 'active' AND o.verification_status = 'approved' ORDER BY s.id")).all()
    categories = _grouped(connection, (
        "SELECT st.service_id, t.slug, t.name, t.name_cy, p.slug, p.name, p.name_cy FROM service_taxonomy_terms st "
        "JOIN taxonomy_terms t ON t.id = st.taxonomy_term_id LEFT JOIN taxonomy_terms p ON p.id = t.parent_id"))
    needs = _grouped(connection, "SELECT sn.service_id, n.slug, n.name, n.name_cy FROM service_needs sn "
                                 "JOIN needs n ON n.id = sn.need_id")
    areas = _grouped(connection, "SELECT a.service_id, l.slug, l.name, l.name_cy FROM service_areas a "
                                 "JOIN localities l ON l.id = a.locality_id")
    places = _grouped(connection, "SELECT sl.service_id, l.city, l.latitude, l.longitude, l.hide_exact_address, "
                                  "l.postcode FROM service_at_locations sl JOIN locations l ON l.id = sl.location_id")
    days = _grouped(connection, "SELECT DISTINCT service_id, byday FROM schedules")
    outward_centres = _outward_centres(connection)
    documents = []
    for number, row in enumerate(services, start=1):
        (sid, name, summary, description, eligibility, organisation, minimum, maximum, in_person, online,
         by_phone, is_free, local_offer, updated) = row
        key = str(uuid.UUID(str(sid)))  # SQLite keeps 32 hex digits, PostgreSQL a uuid: one spelling
        facets: list[tuple[str, str]] = []
        words = [summary, description, organisation, eligibility]
        for slug, term_name, term_cy, parent_slug, parent_name, parent_cy in categories.get(key, []):
            words += [term_name, term_cy, parent_name or "", parent_cy or ""]
            facets.append(("category", slug))
            if parent_slug and ("category", parent_slug) not in facets:
                facets.append(("category", parent_slug))
        for slug, need_name, need_cy in needs.get(key, []):
            words += [need_name, need_cy]
            facets.append(("need", slug))
        for slug, locality_name, locality_cy in areas.get(key, []):
            words += [locality_name, locality_cy]
            facets.append(("locality", slug))
        points = []
        for city, latitude, longitude, hidden, postcode in places.get(key, []):
            point = outward_centres.get(postcode.split(" ")[0]) if hidden else (latitude, longitude)
            if not hidden:
                words.append(city)
            if point and point not in points:
                points.append(point)
        facets += [("age", band) for band in age_bands_overlapping(minimum, maximum)]
        facets += [("attending", way) for way, on in (("in-person", in_person), ("online", online),
                                                      ("phone", by_phone)) if on]
        facets += [("day", day) for (day,) in days.get(key, [])]
        facets += [(flag, FLAG_VALUE) for flag, on in (("free", is_free), ("local_offer", local_offer)) if on]
        stamp = updated if not isinstance(updated, str) else None
        documents.append(Document(doc=number, service_id=key, name=name,
                                  body="\n".join(part for part in words if part),
                                  updated=int(stamp.timestamp()) if stamp else 0, facets=facets, points=points))
    return documents


def _outward_centres(connection: sa.Connection) -> dict[str, tuple[float, float]]:
    """A hidden address counts as its outward code's centre (as Whoosh's documents do)."""
    sums: dict[str, list[float]] = {}
    for postcode, latitude, longitude in connection.execute(sa.text(
            "SELECT postcode, latitude, longitude FROM locations WHERE NOT hide_exact_address "
            "AND latitude IS NOT NULL")):
        entry = sums.setdefault(postcode.split(" ")[0], [0.0, 0.0, 0])
        entry[0], entry[1], entry[2] = entry[0] + latitude, entry[1] + longitude, entry[2] + 1
    return {code: (lat / n, lon / n) for code, (lat, lon, n) in sums.items()}


# --- the shared SQL --------------------------------------------------------------------------------------


def _distance_sql(dialect: str) -> str:
    power = "power"
    return (f"{EARTH_RADIUS_MILES} * 2 * asin(sqrt({power}(sin(radians(p.lat - :lat) / 2), 2) + "
            f"cos(radians(:lat)) * cos(radians(p.lat)) * {power}(sin(radians(p.lon - :lon) / 2), 2)))")


class SqlEngine:
    """What both baselines share: documents in, one statement per search out."""

    name = "sql"
    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.connection = self.engine.connect()

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()

    # -- building --

    def build(self) -> int:
        """Create the search tables and indexes from the corpus; returns the number of listings indexed."""
        with self.engine.begin() as connection:
            self.drop_tables(connection)
            documents = assemble_documents(connection)
            self.create_tables(connection)
            docs = [{"doc": d.doc, "service_id": d.service_id, "name": d.name, "body": d.body,
                     "sort_name": d.name.casefold()[:200], "updated": d.updated} for d in documents]
            facets = [{"doc": d.doc, "grp": grp, "value": value} for d in documents for grp, value in d.facets]
            points = [{"doc": d.doc, "lat": lat, "lon": lon} for d in documents for lat, lon in d.points]
            for table, rows in (("bench_docs", docs), ("bench_facets", facets), ("bench_points", points)):
                statement = sa.text(f"INSERT INTO {table} ({', '.join(rows[0])}) "
                                    f"VALUES ({', '.join(':' + c for c in rows[0])})") if rows else None
                for start in range(0, len(rows), 5000):
                    connection.execute(statement, rows[start:start + 5000])
            self.index_tables(connection)
        self.analyse()
        return len(documents)

    def drop_tables(self, connection) -> None:
        for table in ("bench_fts", "bench_points", "bench_facets", "bench_docs"):
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))

    def create_tables(self, connection) -> None:
        raise NotImplementedError

    def index_tables(self, connection) -> None:
        connection.execute(sa.text("CREATE INDEX bench_facets_value ON bench_facets (grp, value, doc)"))
        connection.execute(sa.text("CREATE INDEX bench_facets_doc ON bench_facets (doc, grp, value)"))
        connection.execute(sa.text("CREATE INDEX bench_points_place ON bench_points (lat, lon, doc)"))
        connection.execute(sa.text("CREATE INDEX bench_points_doc ON bench_points (doc, lat, lon)"))

    def analyse(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))

    # -- searching --

    def matched_sql(self, spec: QuerySpec, params: dict) -> str | None:
        """SELECT doc, score (higher is better) of the documents the words match; None: no words."""
        raise NotImplementedError

    def search(self, spec: QuerySpec) -> Outcome:
        params: dict = {}
        matched = self.matched_sql(spec, params)
        if matched is None:
            matched = "SELECT doc, 0.0 AS score FROM bench_docs"
        conditions: dict[str, str] = {}
        for number, (group, values) in enumerate(sorted(spec.filters.items())):
            names = []
            for index, value in enumerate(values):
                params[f"f{number}_{index}"] = value
                names.append(f":f{number}_{index}")
            params[f"g{number}"] = group
            conditions[group] = (f"m.doc IN (SELECT doc FROM bench_facets WHERE grp = :g{number} "
                                 f"AND value IN ({', '.join(names)}))")
        distance, near_cte = None, ""
        if spec.near is not None:
            latitude, longitude, radius = spec.near
            dlat = radius / 69.0
            dlon = radius / (69.0 * math.cos(math.radians(latitude)))
            params.update(lat=latitude, lon=longitude, radius=radius, south=latitude - dlat, north=latitude + dlat,
                          west=longitude - dlon, east=longitude + dlon)
            distance = _distance_sql(self.dialect)
            # Each listing's nearest place within the radius, computed once; online and phone services stay in
            # whatever the distance (ordered as if 5 miles away when they have no place within the radius).
            near_cte = (f", near AS MATERIALIZED (SELECT p.doc, min({distance}) AS miles FROM bench_points p "
                        "WHERE p.lat BETWEEN :south AND :north AND p.lon BETWEEN :west AND :east "
                        f"AND {distance} <= :radius GROUP BY p.doc)")
            conditions["_near"] = ("m.doc IN (SELECT doc FROM near UNION SELECT doc FROM bench_facets "
                                   "WHERE grp = 'attending' AND value IN ('online', 'phone'))")
        where = " AND ".join(conditions.values()) or "1 = 1"
        order = self._order(spec, distance)
        float_type = "DOUBLE PRECISION" if self.dialect == "postgresql" else "REAL"
        parts = [
            f"SELECT 0 AS part, key, n FROM (SELECT d.service_id AS key, CAST({order[0]} AS {float_type}) AS n "
            f"FROM f JOIN bench_docs d ON d.doc = f.doc {'LEFT JOIN near ON near.doc = f.doc' if near_cte else ''} "
            f"ORDER BY {order[1]} LIMIT {PER_PAGE}) page",
            f"SELECT 1, NULL, CAST(count(*) AS {float_type}) FROM f",
            f"SELECT 2, x.grp || ':' || x.value, CAST(count(*) AS {float_type}) FROM bench_facets x "
            "JOIN f ON f.doc = x.doc GROUP BY x.grp, x.value",
        ]
        for number, group in enumerate(name for name in conditions if not name.startswith("_")):
            # A chosen group's own options count with every OTHER filter (choosing another value adds to it).
            others = " AND ".join(c for name, c in conditions.items() if name != group) or "1 = 1"
            params[f"own{number}"] = group
            parts.append(f"SELECT 3, x.grp || ':' || x.value, CAST(count(*) AS {float_type}) FROM bench_facets x "
                         f"JOIN (SELECT m.doc FROM m WHERE {others}) o ON o.doc = x.doc "
                         f"WHERE x.grp = :own{number} GROUP BY x.grp, x.value")
        sql = (f"WITH m AS MATERIALIZED ({matched}){near_cte}, "
               f"f AS MATERIALIZED (SELECT m.doc, m.score FROM m WHERE {where}) "
               + " UNION ALL ".join(parts))
        rows = self.connection.execute(sa.text(sql), params).all()
        self.connection.commit()
        ids, total, counts, own = [], 0, defaultdict(dict), defaultdict(dict)
        for part, key, n in rows:
            if part == 0:
                ids.append(str(key))
            elif part == 1:
                total = int(n)
            else:
                group, value = key.split(":", 1)
                (counts if part == 2 else own)[group][value] = int(n)
        for group, values in own.items():
            counts[group] = values
        return Outcome(ids=ids, total=total, counts=dict(counts))

    def _order(self, spec: QuerySpec, distance: str | None) -> tuple[str, str]:
        """(value shown, ORDER BY) for the page."""
        if distance is None:
            if spec.text:
                return "f.score", "f.score DESC, d.sort_name"
            return "0", "d.sort_name"
        nearest = "near.miles"
        if not spec.text:
            return nearest, f"{nearest} IS NULL, {nearest}, d.sort_name"
        blended = (f"f.score / (1 + coalesce({nearest}, {DISTANCE_HALF_WEIGHT_MILES}) / "
                   f"{DISTANCE_HALF_WEIGHT_MILES})")
        return blended, f"{blended} DESC, d.sort_name"

    # -- updating --

    def update_name(self, service_id: str, token: str) -> None:
        """Append ``token`` to a listing's name in the database and its index, committed."""
        raise NotImplementedError

    def size_bytes(self) -> dict[str, int]:
        raise NotImplementedError


class Fts5Engine(SqlEngine):
    name = "fts5"
    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        self.connection.commit()

    def create_tables(self, connection) -> None:
        connection.execute(sa.text("CREATE TABLE bench_docs (doc INTEGER PRIMARY KEY, service_id TEXT, name TEXT, "
                                   "body TEXT, sort_name TEXT, updated INTEGER)"))
        connection.execute(sa.text("CREATE TABLE bench_facets (doc INTEGER, grp TEXT, value TEXT)"))
        connection.execute(sa.text("CREATE TABLE bench_points (doc INTEGER, lat REAL, lon REAL)"))
        connection.execute(sa.text(
            "CREATE VIRTUAL TABLE bench_fts USING fts5(name, body, content='bench_docs', content_rowid='doc', "
            "tokenize='porter unicode61 remove_diacritics 2')"))

    def index_tables(self, connection) -> None:
        connection.execute(sa.text("INSERT INTO bench_fts (rowid, name, body) SELECT doc, name, body FROM bench_docs"))
        connection.execute(sa.text("CREATE INDEX bench_docs_service ON bench_docs (service_id)"))
        super().index_tables(connection)

    def matched_sql(self, spec: QuerySpec, params: dict) -> str | None:
        expression = fts5_expression(spec.text)
        if expression is None:
            return None if not spec.text else "SELECT doc, 0.0 AS score FROM bench_docs WHERE 0"
        params["match"] = expression
        return ("SELECT rowid AS doc, -bm25(bench_fts, 3.0, 1.0) AS score FROM bench_fts "
                "WHERE bench_fts MATCH :match")

    def update_name(self, service_id: str, token: str) -> None:
        with self.engine.begin() as connection:
            doc, name, body = connection.execute(sa.text(
                "SELECT doc, name, body FROM bench_docs WHERE service_id = :sid"), {"sid": service_id}).one()
            new_name = f"{name} {token}"
            connection.execute(sa.text("UPDATE services SET name = :name WHERE id = :sid"),
                               {"name": new_name, "sid": service_id.replace("-", "")})
            # External content: the old text is deleted from the index, the new inserted.
            connection.execute(sa.text("INSERT INTO bench_fts (bench_fts, rowid, name, body) "
                                       "VALUES ('delete', :doc, :name, :body)"),
                               {"doc": doc, "name": name, "body": body})
            connection.execute(sa.text("UPDATE bench_docs SET name = :name, sort_name = :sort WHERE doc = :doc"),
                               {"name": new_name, "sort": new_name.casefold(), "doc": doc})
            connection.execute(sa.text("INSERT INTO bench_fts (rowid, name, body) VALUES (:doc, :name, :body)"),
                               {"doc": doc, "name": new_name, "body": body})

    def size_bytes(self) -> dict[str, int]:
        rows = self.connection.execute(sa.text(
            "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'bench%' GROUP BY name")).all()
        self.connection.commit()
        sizes = dict(rows)
        text_index = sum(size for name, size in sizes.items() if name.startswith("bench_fts"))
        return {"index": sum(sizes.values()), "text_index": text_index}


def fts5_expression(text: str) -> str | None:
    """What a person typed as an FTS5 query: each word (or quoted phrase) a quoted string, all required."""
    parts, position = [], 0
    for match in re.finditer(r'"([^"]*)"', text):
        parts += [(word, False) for word in re.findall(r"\w+", text[position:match.start()].lower())]
        phrase = re.findall(r"\w+", match.group(1).lower())
        if phrase:
            parts.append((" ".join(phrase), True))
        position = match.end()
    parts += [(word, False) for word in re.findall(r"\w+", text[position:].lower())]
    terms = [f'"{words}"' for words, quoted in parts if quoted or (len(words) > 1 and words not in STOP_WORDS)]
    return " ".join(terms) if terms else None


class PostgresEngine(SqlEngine):
    name = "postgresql"
    dialect = "postgresql"

    def create_tables(self, connection) -> None:
        connection.execute(sa.text(
            "CREATE TABLE bench_docs (doc INTEGER PRIMARY KEY, service_id TEXT, name TEXT, body TEXT, "
            "sort_name TEXT COLLATE \"C\", updated BIGINT, tsv tsvector GENERATED ALWAYS AS "
            "(setweight(to_tsvector('english', coalesce(name, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(body, '')), 'B')) STORED)"))
        connection.execute(sa.text("CREATE TABLE bench_facets (doc INTEGER, grp TEXT, value TEXT)"))
        connection.execute(sa.text("CREATE TABLE bench_points (doc INTEGER, lat DOUBLE PRECISION, "
                                   "lon DOUBLE PRECISION)"))

    def index_tables(self, connection) -> None:
        connection.execute(sa.text("CREATE INDEX bench_docs_tsv ON bench_docs USING gin (tsv)"))
        connection.execute(sa.text("CREATE INDEX bench_docs_service ON bench_docs (service_id)"))
        super().index_tables(connection)

    def matched_sql(self, spec: QuerySpec, params: dict) -> str | None:
        if not spec.text.strip():
            return None
        params["query"] = spec.text
        return ("SELECT doc, ts_rank(tsv, websearch_to_tsquery('english', :query)) AS score FROM bench_docs "
                "WHERE tsv @@ websearch_to_tsquery('english', :query)")

    def update_name(self, service_id: str, token: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.text("UPDATE services SET name = name || ' ' || :token "
                                       "WHERE id = CAST(:sid AS uuid)"),
                               {"token": token, "sid": service_id})
            connection.execute(sa.text("UPDATE bench_docs SET name = name || ' ' || :token, "
                                       "sort_name = lower(name || ' ' || :token) WHERE service_id = :sid"),
                               {"token": token, "sid": service_id})

    def size_bytes(self) -> dict[str, int]:
        total = self.connection.execute(sa.text(
            "SELECT pg_total_relation_size('bench_docs') + pg_total_relation_size('bench_facets') "
            "+ pg_total_relation_size('bench_points')")).scalar_one()
        gin = self.connection.execute(sa.text("SELECT pg_relation_size('bench_docs_tsv')")).scalar_one()
        self.connection.commit()
        return {"index": int(total), "text_index": int(gin)}


def wait_visible(engine, service_id: str, token: str, timeout: float = 10.0) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if service_id in engine.search(QuerySpec("update", token)).ids:
            return True
    return False
