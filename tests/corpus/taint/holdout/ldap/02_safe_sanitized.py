# expect: safe ldap
from flask import Flask, request as req
import ldap
import ldap.filter

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    raw = req.headers["X-Target"]
    value = "{}".format(raw)
    handle = ldap.initialize("ldap://dir")
    flt = "(sAMAccountName=%s)" % ldap.filter.escape_filter_chars(value)
    handle.search_ext_s("dc=corp", ldap.SCOPE_SUBTREE, flt)
