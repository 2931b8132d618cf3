# expect: safe random
from flask import Flask, request
import secrets

app = Flask(__name__)


@app.post("/submit")
def view():
    value = request.form["q"]
    token = secrets.token_urlsafe(32)
    print(value, token)
