# expect: vulnerable command
from starlette.requests import Request
import subprocess


async def endpoint(request: Request):
    if (value := request.query_params["term"]) is None:
        value = ""
    subprocess.check_output("nslookup " + value, shell=True)
