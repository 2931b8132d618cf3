# expect: safe command
from flask import Flask, request
import subprocess

app = Flask(__name__)


def tidy(text):
    cleaned = text.strip()
    return cleaned


@app.post("/submit")
def view():
    value = tidy(request.form["q"])
    value = "report.txt"
    subprocess.call(f"grep {value} app.log", shell=True)
