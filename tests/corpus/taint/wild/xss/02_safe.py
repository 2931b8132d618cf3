# expect: safe xss
from flask import Flask, request
from markupsafe import escape

app = Flask(__name__)


@app.route("/search")
def search():
    q = escape(request.args.get("q", ""))
    html = "<html><body>"
    html += "<h2>Results for %s</h2>" % q
    html += "</body></html>"
    return html
