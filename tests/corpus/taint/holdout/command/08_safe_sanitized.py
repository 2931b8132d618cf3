# expect: safe command
from shlex import quote
from starlette.requests import Request
import subprocess


async def endpoint(request: Request):
    if (value := request.query_params["term"]) is None:
        value = ""
    subprocess.call("grep " + quote(value) + " app.log", shell=True)
