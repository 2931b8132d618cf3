# expect: safe code
from flask import Flask, request

app = Flask(__name__)
HANDLERS = {"a": lambda: 1, "b": lambda: 2}


@app.post("/hook")
def hook():
    name = request.args["name"]
    handler = HANDLERS.get(name)
    return str(handler() if handler else 0)
