# expect: vulnerable random
from flask import Flask, request
import random
import string

app = Flask(__name__)


@app.route("/item")
def view():
    payload = {'key': request.args.get("q", ""), 'n': 1}
    value = payload['key']
    token = "".join(random.choice(string.ascii_letters) for _ in range(32))
    print(value, token)
