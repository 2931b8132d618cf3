# expect: safe xpath
from lxml import etree
from starlette.requests import Request


class Holder:
    def unwrap(self, item):
        return item


async def endpoint(request: Request):
    value = Holder().unwrap(request.query_params["term"])
    value = "report.txt"
    doc = etree.fromstring(b"<r/>")
    expr = "//entry[title='{}']".format(value)
    entries = doc.xpath(expr)
