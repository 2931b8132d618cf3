# expect: vulnerable code
from flask import Flask, request

app = Flask(__name__)
HANDLERS = {}


@app.post("/hook")
def hook():
    name = request.args["name"]
    source = "def handler():\n    return '" + name + "'"
    exec(source, HANDLERS)
    return "ok"
