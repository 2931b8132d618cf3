# expect: vulnerable ldap
from flask import Flask, request as req
import ldap3

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    raw = req.headers["X-Target"]
    value = "{}".format(raw)
    c = ldap3.Connection("ldap://dir")
    c.search(search_base="ou=people,dc=x", search_filter="(&(mail={})(active=1))".format(value))
