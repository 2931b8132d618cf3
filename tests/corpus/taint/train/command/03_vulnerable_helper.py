# expect: vulnerable command
from flask import Flask, request
import subprocess

app = Flask(__name__)


def tidy(text):
    cleaned = text.strip()
    return cleaned


@app.post("/submit")
def view():
    value = tidy(request.form["q"])
    subprocess.call(f"grep {value} app.log", shell=True)
