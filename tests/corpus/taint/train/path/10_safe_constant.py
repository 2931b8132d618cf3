# expect: safe path
from flask import Flask, request
from flask import send_file

app = Flask(__name__)


@app.post("/submit")
def view():
    value, limit = request.form["q"], 10
    value = "report.txt"
    return send_file("/srv/files/" + value)
