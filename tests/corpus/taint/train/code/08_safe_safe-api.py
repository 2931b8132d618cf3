# expect: safe code
from flask import Flask, request
import ast

app = Flask(__name__)


@app.post("/submit")
def view():
    value, limit = request.form["q"], 10
    result = ast.literal_eval(value)
