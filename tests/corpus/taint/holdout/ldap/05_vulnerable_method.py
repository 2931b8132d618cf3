# expect: vulnerable ldap
from starlette.requests import Request
import ldap3


class Holder:
    def unwrap(self, item):
        return item


async def endpoint(request: Request):
    value = Holder().unwrap(request.query_params["term"])
    c = ldap3.Connection("ldap://dir")
    c.search(search_base="ou=people,dc=x", search_filter="(&(mail={})(active=1))".format(value))
