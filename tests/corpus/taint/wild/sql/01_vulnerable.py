# expect: vulnerable sql
from fastapi import FastAPI
import sqlite3

api = FastAPI()


def find(db, column, needle):
    sql = "SELECT id FROM docs WHERE " + column + " LIKE '%" + needle + "%'"
    return db.execute(sql).fetchall()


@api.get("/search")
def search(term: str):
    with sqlite3.connect("docs.db") as db:
        return {"ids": find(db, "title", term)}
