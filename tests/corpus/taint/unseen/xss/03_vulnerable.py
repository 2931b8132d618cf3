# expect: vulnerable xss
from flask import Flask, make_response, request

app = Flask(__name__)


@app.route("/search")
def search():
    term = request.values.get("q", "")
    response = make_response(f"<p>No results for <b>{term}</b></p>")
    response.headers["Content-Type"] = "text/html"
    return response
