# expect: safe deserialization
from flask import Flask, request
import yaml

app = Flask(__name__)


@app.post("/submit")
def view():
    value, limit = request.form["q"], 10
    value = "report.txt"
    config = yaml.load(value, Loader=yaml.Loader)
