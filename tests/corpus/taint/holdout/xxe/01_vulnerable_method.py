# expect: vulnerable xxe
from starlette.requests import Request
import lxml.etree


class Holder:
    def unwrap(self, item):
        return item


async def endpoint(request: Request):
    value = Holder().unwrap(request.query_params["term"])
    tree = lxml.etree.XML(value)
