# expect: vulnerable cookie
from flask import Flask, request
from flask import make_response

app = Flask(__name__)


def tidy(text):
    cleaned = text.strip()
    return cleaned


@app.post("/submit")
def view():
    value = tidy(request.form["q"])
    resp = make_response("ok")
    resp.set_cookie("pref", str(len(value)))
    return resp
