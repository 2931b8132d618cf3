# expect: safe random
from flask import Flask, request
import secrets

app = Flask(__name__)


@app.route("/item")
def view():
    payload = {'key': request.args.get("q", ""), 'n': 1}
    value = payload['key']
    token = secrets.token_urlsafe(32)
    print(value, token)
