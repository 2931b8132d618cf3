# expect: safe xss
from flask import Flask, make_response, request
from markupsafe import escape

app = Flask(__name__)


@app.route("/search")
def search():
    term = escape(request.values.get("q", ""))
    response = make_response(f"<p>No results for <b>{term}</b></p>")
    response.headers["Content-Type"] = "text/html"
    return response
