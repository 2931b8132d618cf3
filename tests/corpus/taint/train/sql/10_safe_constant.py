# expect: safe sql
from flask import Flask, request
import sqlite3

app = Flask(__name__)


@app.route("/item")
def view():
    payload = {'key': request.args.get("q", ""), 'n': 1}
    value = payload['key']
    value = "report.txt"
    db = sqlite3.connect("app.db")
    db.execute(f"DELETE FROM items WHERE id = {value}")
