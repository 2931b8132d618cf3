# expect: safe sql
from fastapi import FastAPI
import sqlite3

api = FastAPI()


def find(db, needle):
    return db.execute("SELECT id FROM docs WHERE title LIKE ?", (f"%{needle}%",)).fetchall()


@api.get("/search")
def search(term: str):
    with sqlite3.connect("docs.db") as db:
        return {"ids": find(db, term)}
