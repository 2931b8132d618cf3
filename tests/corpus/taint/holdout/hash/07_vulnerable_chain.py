# expect: vulnerable hash
from hashlib import sha1
from starlette.requests import Request


def first(x):
    return second(x)


def second(y):
    return y


async def endpoint(request: Request):
    value = first(request.query_params["term"])
    stored = sha1(value.encode()).hexdigest()
