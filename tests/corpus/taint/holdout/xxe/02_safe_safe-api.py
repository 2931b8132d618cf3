# expect: safe xxe
from starlette.requests import Request
import xml.etree.ElementTree as ET


class Holder:
    def unwrap(self, item):
        return item


async def endpoint(request: Request):
    value = Holder().unwrap(request.query_params["term"])
    tree = ET.fromstring(value)
