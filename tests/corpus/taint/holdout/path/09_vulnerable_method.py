# expect: vulnerable path
from starlette.requests import Request
import shutil


class Holder:
    def unwrap(self, item):
        return item


async def endpoint(request: Request):
    value = Holder().unwrap(request.query_params["term"])
    shutil.copyfile("/srv/in/" + value, "/srv/out/copy")
