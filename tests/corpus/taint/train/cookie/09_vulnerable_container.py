# expect: vulnerable cookie
from flask import Flask, request
from flask import make_response

app = Flask(__name__)


@app.post("/submit")
def view():
    payload = {'key': request.form["q"], 'n': 1}
    value = payload['key']
    resp = make_response("ok")
    resp.set_cookie("pref", str(len(value)))
    return resp
