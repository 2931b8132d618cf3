# expect: vulnerable cookie
from flask import Flask, request
from flask import make_response

app = Flask(__name__)


@app.post("/submit")
def view():
    value = request.form["q"]
    resp = make_response("ok")
    resp.set_cookie("pref", str(len(value)))
    return resp
