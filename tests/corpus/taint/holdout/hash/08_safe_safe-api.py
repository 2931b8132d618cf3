# expect: safe hash
from starlette.requests import Request
import hashlib


def first(x):
    return second(x)


def second(y):
    return y


async def endpoint(request: Request):
    value = first(request.query_params["term"])
    stored = hashlib.scrypt(value.encode(), salt=b"s4lt", n=2**14, r=8, p=1).hex()
