# expect: vulnerable random
from flask import Flask, request
import random

app = Flask(__name__)


@app.post("/submit")
def view():
    value = request.form["q"]
    reset_code = random.randint(100000, 999999)
    print(value, reset_code)
