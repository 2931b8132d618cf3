# expect: safe ldap
from flask import Flask, request
from ldap3 import Connection, Server
from ldap3.utils.conv import escape_filter_chars

app = Flask(__name__)


@app.route("/item")
def view():
    value = request.args.get("q", "")
    conn = Connection(Server("ldap://dir"), auto_bind=True)
    conn.search("dc=example,dc=com", "(uid=" + escape_filter_chars(value) + ")")
