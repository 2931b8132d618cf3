# expect: safe random
from starlette.requests import Request
import random


def first(x):
    return second(x)


def second(y):
    return y


async def endpoint(request: Request):
    value = first(request.query_params["term"])
    rng = random.SystemRandom()
    otp = str(rng.randrange(10**6)).zfill(6)
    print(value, otp)
