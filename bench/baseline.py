"""The bare baseline: a minimal Starlette app doing the SQL the provider's handler does for 은행-001 and 은행-004
(copied from `openmydata.provider.repository.select_records` / `get_customer`) with asyncpg on the same database,
answering the same JSON (counts as strings, as the standard types serialise them).

What it leaves out, on purpose: the token lookup and every enforcement check (headers, request validation,
token signature, token and consent rows, scope, consented assets' sensitive fields, history range), the
response model validation, the per-call access record, and the transaction around the request. It reads the
customer from the `x-bench-customer-id` header instead of a token.

Run: `python -m bench.baseline --port 8100 --database omd_bench_provider`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.common import CURSOR_SECRET, CUSTOMER_HEADER, DB_MAX_CONNECTIONS, DB_NAME, HOST, pg_dsn
from openmydata.kit.clock import utcnow
from openmydata.standard.codes import success_envelope
from openmydata.standard.paging import encode_cursor, search_timestamp_for

PAGE = 500

# repository.select_records: live records of one API for one customer and key, in (seq, id) order.
RECORDS_SQL = (
    "SELECT id, customer_id, api_id, key, period, seq, payload, updated_at, deleted FROM records"
    " WHERE customer_id = $1 AND api_id = $2 AND deleted IS false AND key = $3"
)
ACCOUNTS_SQL = RECORDS_SQL + " ORDER BY seq, id"
ACCOUNTS_PAGE_SQL = RECORDS_SQL + " ORDER BY seq, id LIMIT $4"
TRANSACTIONS_SQL = RECORDS_SQL + " AND period >= $4 AND period <= $5 ORDER BY seq, id LIMIT $6"
# repository.get_customer (session.get(Customer, id)).
CUSTOMER_SQL = "SELECT id, ci, name, birth_date, phone, reg_date, updated_at FROM customers WHERE id = $1"


def _customer_id(request: Request) -> int | None:
    try:
        return int(request.headers.get(CUSTOMER_HEADER, ""))
    except ValueError:
        return None


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"rsp_code": code, "rsp_msg": message}, status_code=status)


def create_app(dsn: str, *, max_connections: int = DB_MAX_CONNECTIONS) -> Starlette:
    cursor_key = CURSOR_SECRET.encode("utf-8")
    envelope = success_envelope()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=max_connections)
        try:
            yield
        finally:
            await app.state.pool.close()

    async def accounts(request: Request) -> Response:
        """은행-001: the customer's account list (first page), is_consent set, reg_date from the customer."""
        customer_id = _customer_id(request)
        if customer_id is None:
            return _error(400, "40001", "missing customer")
        limit = int(request.query_params.get("limit") or PAGE)
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as connection:
            rows = await connection.fetch(ACCOUNTS_PAGE_SQL, customer_id, "은행-001", "", limit + 1)
            customer = await connection.fetchrow(CUSTOMER_SQL, customer_id)
        entries = [{**json.loads(row["payload"]), "is_consent": "true"} for row in rows[:limit]]
        body: dict[str, Any] = {**envelope, "account_cnt": str(len(entries)), "account_list": entries}
        if len(rows) > limit:
            body["next_page"] = encode_cursor(
                {"seq": rows[limit]["seq"]}, key=cursor_key, binding=f"{customer_id}|은행-001|"
            )
        body["search_timestamp"] = search_timestamp_for(utcnow())
        if customer is not None and customer["reg_date"]:
            body["reg_date"] = customer["reg_date"]
        return JSONResponse(body)

    async def deposit_transactions(request: Request) -> Response:
        """은행-004: the account must be one of the customer's (as the provider checks), then one page."""
        customer_id = _customer_id(request)
        if customer_id is None:
            return _error(400, "40001", "missing customer")
        try:
            values = json.loads(await request.body())
            account = str(values["account_num"])
            key = f"{account}|{values.get('seqno') or ''}"
            first, last = str(values["from_date"])[:8], str(values["to_date"])[:8]
            limit = int(values.get("limit") or PAGE)
        except (ValueError, KeyError, TypeError):
            return _error(400, "40001", "bad request")
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as connection:
            owned = await connection.fetch(ACCOUNTS_SQL, customer_id, "은행-001", "")
            if account not in {str(json.loads(row["payload"]).get("account_num") or "") for row in owned}:
                return _error(404, "40402", "unknown account")
            rows = await connection.fetch(TRANSACTIONS_SQL, customer_id, "은행-004", key, first, last, limit + 1)
        entries = [json.loads(row["payload"]) for row in rows[:limit]]
        body: dict[str, Any] = {**envelope, "trans_cnt": str(len(entries)), "trans_list": entries}
        if len(rows) > limit:
            body["next_page"] = encode_cursor(
                {"seq": rows[limit]["seq"]}, key=cursor_key, binding=f"{customer_id}|은행-004|{key}"
            )
        return JSONResponse(body)

    return Starlette(
        routes=[
            Route("/v1/bank/accounts", accounts, methods=["GET"]),
            Route("/v1/bank/accounts/deposit/transactions", deposit_transactions, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", default=DB_NAME)
    args = parser.parse_args()
    uvicorn.run(create_app(pg_dsn(args.database)), host=HOST, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
