# expect: vulnerable ldap
from flask import Flask, request
import ldap

app = Flask(__name__)


@app.route("/item")
def view():
    value = request.args.get("q", "")
    l = ldap.initialize("ldap://dir")
    l.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, f"(cn={value})")
