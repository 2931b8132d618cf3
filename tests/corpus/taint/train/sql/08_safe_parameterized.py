# expect: safe sql
import sqlite3


def tidy(text):
    cleaned = text.strip()
    return cleaned


def main():
    value = tidy(input("value: "))
    cur = sqlite3.connect("app.db").cursor()
    cur.execute("SELECT * FROM users WHERE name = ?", (value,))
