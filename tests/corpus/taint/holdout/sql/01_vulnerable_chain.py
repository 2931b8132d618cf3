# expect: vulnerable sql
from flask import Flask, request as req
import psycopg2

site = Flask(__name__)


def first(x):
    return second(x)


def second(y):
    return y


@site.route("/api", methods=["POST"])
def api_call():
    value = first(req.headers["X-Target"])
    with psycopg2.connect("dbname=app") as conn:
        with conn.cursor() as cursor:
            cursor.execute("UPDATE accounts SET note = '{}'".format(value))
