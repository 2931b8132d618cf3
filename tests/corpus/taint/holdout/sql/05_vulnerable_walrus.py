# expect: vulnerable sql
from starlette.requests import Request
import sqlite3


async def endpoint(request: Request):
    if (value := request.query_params["term"]) is None:
        value = ""
    query = "SELECT id FROM orders WHERE ref = '%s'" % value
    sqlite3.connect("shop.db").executescript(query)
