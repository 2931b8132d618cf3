# expect: safe ldap
import ldap
from ldap.filter import filter_format
from flask import Flask, request

app = Flask(__name__)


@app.route("/who")
def who():
    uid = request.args["uid"]
    conn = ldap.initialize("ldap://ldap.local")
    flt = filter_format("(uid=%s)", [uid])
    result = conn.search_s("ou=people,dc=corp", ldap.SCOPE_SUBTREE, flt, ["cn"])
    return {"count": len(result)}
