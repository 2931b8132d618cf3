# expect: vulnerable sql
import sqlite3

from fastapi import FastAPI

app = FastAPI()


@app.get("/users")
def users(order: str = "name"):
    db = sqlite3.connect("app.db")
    query = "SELECT name, email FROM users ORDER BY %s" % (order,)
    return db.executescript(query)
