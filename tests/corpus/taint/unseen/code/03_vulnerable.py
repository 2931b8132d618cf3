# expect: vulnerable code
from flask import Flask, request

app = Flask(__name__)


def apply(rule, value):
    return eval(compile(rule, "<rule>", "eval"), {"value": value})


@app.post("/validate")
def validate():
    body = request.get_json()
    return {"ok": bool(apply(body["rule"], body["value"]))}
