# expect: safe sql
import sqlite3

from fastapi import FastAPI

app = FastAPI()
ORDERS = ("name", "email", "created")


@app.get("/users")
def users(order: str = "name"):
    db = sqlite3.connect("app.db")
    column = order if order in ORDERS else "name"
    return db.execute("SELECT name, email FROM users ORDER BY " + column).fetchall()
