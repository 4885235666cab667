"""The PostgreSQL ceiling for GET cart: a bare psycopg point-read loop on one connection.

``python bench/pgloop.py URL CUSTOMER_ID CART_IDS_FILE SECONDS`` reads carts by key (the same
query the cart repository runs, in PostgreSQL's binary format as GET cart's reads are) as fast
as one connection allows and prints
``BENCH_JSON {"requests": n, "duration_s": s}``. bench/run.py runs it on the server's core.
"""

from __future__ import annotations

import json
import sys
import time

import psycopg

from partnercart.server.storage.sql import owned_by


def main() -> None:
    url, customer_id, ids_file, seconds = sys.argv[1:5]
    with open(ids_file) as handle:
        cart_ids = [line.strip() for line in handle if line.strip()]
    # The owner written as the repository writes it: an indexable ``customer_id = %s`` lets
    # the prepared statement's generic plan scan the customer's carts (docs/decisions.md).
    # Keys and rows in the binary format, as the server's reads of GET cart take them: 7% more
    # reads a second than the text format here (docs/decisions.md), so the ceiling is the
    # faster of the two.
    query = (
        "SELECT id, partner_id, customer_id, created_at, expires_at, status, version, body "
        f"FROM carts WHERE id = %b AND {owned_by('customer_id')} = %b"
    )
    count = 0
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(query, (cart_ids[0], customer_id), prepare=True, binary=True)  # warm the plan
        begin = time.perf_counter()
        deadline = begin + float(seconds)
        while time.perf_counter() < deadline:
            cur.execute(
                query, (cart_ids[count % len(cart_ids)], customer_id), prepare=True, binary=True
            )
            if cur.fetchone() is None:
                raise SystemExit("a seeded cart was not found")
            count += 1
        elapsed = time.perf_counter() - begin
    print("BENCH_JSON " + json.dumps({"requests": count, "duration_s": elapsed}), flush=True)


if __name__ == "__main__":
    main()
