# expect: vulnerable xss
from flask import Flask, request

app = Flask(__name__)


@app.route("/search")
def search():
    q = request.args.get("q", "")
    html = "<html><body>"
    html += "<h2>Results for %s</h2>" % q
    html += "</body></html>"
    return html
