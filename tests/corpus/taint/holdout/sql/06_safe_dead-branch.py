# expect: safe sql
from starlette.requests import Request
import sqlite3


async def endpoint(request: Request):
    if (value := request.query_params["term"]) is None:
        value = ""
    limit = 10
    if limit > 99:
        query = "SELECT id FROM orders WHERE ref = '%s'" % value
        sqlite3.connect("shop.db").executescript(query)
    return None
