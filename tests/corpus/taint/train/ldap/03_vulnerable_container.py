# expect: vulnerable ldap
from fastapi import FastAPI
import ldap

app = FastAPI()


@app.get("/item")
def view(q: str):
    payload = {'key': q, 'n': 1}
    value = payload['key']
    l = ldap.initialize("ldap://dir")
    l.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, f"(cn={value})")
