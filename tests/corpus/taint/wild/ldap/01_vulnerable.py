# expect: vulnerable ldap
import ldap
from flask import Flask, request

app = Flask(__name__)


@app.route("/who")
def who():
    uid = request.args["uid"]
    conn = ldap.initialize("ldap://ldap.local")
    result = conn.search_s("ou=people,dc=corp", ldap.SCOPE_SUBTREE, "(uid=%s)" % uid, ["cn"])
    return {"count": len(result)}
