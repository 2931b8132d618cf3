# expect: safe sql
import flask
import sqlite3

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    pieces = [flask.request.cookies.get("pref")]
    value = "".join(pieces)
    limit = 10
    if limit > 99:
        query = "SELECT id FROM orders WHERE ref = '%s'" % value
        sqlite3.connect("shop.db").executescript(query)
    return None
