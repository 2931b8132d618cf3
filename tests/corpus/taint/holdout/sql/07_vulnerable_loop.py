# expect: vulnerable sql
import psycopg2
import sys


def run_tool():
    value = ""
    for ch in sys.argv[1]:
        value += ch
    with psycopg2.connect("dbname=app") as conn:
        with conn.cursor() as cursor:
            cursor.execute("UPDATE accounts SET note = '{}'".format(value))
