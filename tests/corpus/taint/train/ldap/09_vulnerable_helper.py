# expect: vulnerable ldap
from flask import Flask, request
from ldap3 import Connection, Server

app = Flask(__name__)


def tidy(text):
    cleaned = text.strip()
    return cleaned


@app.post("/submit")
def view():
    value = tidy(request.form["q"])
    conn = Connection(Server("ldap://dir"), auto_bind=True)
    conn.search("dc=example,dc=com", "(uid=" + value + ")")
