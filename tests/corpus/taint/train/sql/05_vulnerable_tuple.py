# expect: vulnerable sql
from fastapi import FastAPI
import sqlite3

app = FastAPI()


@app.get("/item")
def view(q: str):
    value, limit = q, 10
    conn = sqlite3.connect("app.db")
    rows = conn.execute("SELECT * FROM t WHERE a = '%s'" % value).fetchall()
