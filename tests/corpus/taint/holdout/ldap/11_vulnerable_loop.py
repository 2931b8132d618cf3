# expect: vulnerable ldap
import flask
import ldap

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    value = ""
    for ch in flask.request.cookies.get("pref"):
        value += ch
    handle = ldap.initialize("ldap://dir")
    flt = "(sAMAccountName=%s)" % value
    handle.search_ext_s("dc=corp", ldap.SCOPE_SUBTREE, flt)
