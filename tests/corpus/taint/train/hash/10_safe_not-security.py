# expect: safe hash
from flask import Flask, request
import hashlib

app = Flask(__name__)


@app.post("/submit")
def view():
    value = request.form["q"]
    etag = hashlib.md5(value.encode(), usedforsecurity=False).hexdigest()
