# expect: vulnerable random
from starlette.requests import Request
import random


def first(x):
    return second(x)


def second(y):
    return y


async def endpoint(request: Request):
    value = first(request.query_params["term"])
    session_key = "%032x" % random.getrandbits(128)
    print(value, session_key)
