# expect: vulnerable sql
from flask import Flask, request
import sqlite3

app = Flask(__name__)


@app.post("/submit")
def view():
    value, limit = request.form["q"], 10
    conn = sqlite3.connect("app.db")
    rows = conn.execute("SELECT * FROM t WHERE a = '%s'" % value).fetchall()
