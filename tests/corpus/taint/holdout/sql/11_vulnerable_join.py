# expect: vulnerable sql
import flask
import sqlite3

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    pieces = [flask.request.cookies.get("pref")]
    value = "".join(pieces)
    query = "SELECT id FROM orders WHERE ref = '%s'" % value
    sqlite3.connect("shop.db").executescript(query)
