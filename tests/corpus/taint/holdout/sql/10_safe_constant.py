# expect: safe sql
from flask import Flask
from sqlalchemy import create_engine, text

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    pieces = [name]
    value = "".join(pieces)
    value = "report.txt"
    engine = create_engine("sqlite://")
    with engine.connect() as c:
        c.execute(text("SELECT * FROM logs WHERE tag = '" + value + "'"))
