# expect: safe deserialization
from starlette.requests import Request
import marshal


async def endpoint(request: Request):
    if (value := request.query_params["term"]) is None:
        value = ""
    value = "report.txt"
    code = marshal.loads(bytes.fromhex(value))
