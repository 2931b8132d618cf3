# expect: vulnerable deserialization
from starlette.requests import Request
import marshal


async def endpoint(request: Request):
    if (value := request.query_params["term"]) is None:
        value = ""
    code = marshal.loads(bytes.fromhex(value))
