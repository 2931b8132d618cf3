# expect: safe code
from flask import Flask, request

app = Flask(__name__)
RULES = {"positive": "value > 0", "small": "value < 100"}


def apply(rule, value):
    return eval(compile(RULES[rule], "<rule>", "eval"), {"value": value})


@app.post("/validate")
def validate():
    body = request.get_json()
    if body["rule"] not in RULES:
        return {"ok": False}
    return {"ok": bool(apply(body["rule"], body["value"]))}
