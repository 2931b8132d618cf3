# expect: vulnerable path
import os
from flask import Flask, request, abort

app = Flask(__name__)
UPLOADS = "/srv/uploads"


@app.route("/download")
def download():
    name = request.args.get("file")
    if not name:
        abort(400)
    full = os.path.join(UPLOADS, name)
    with open(full, "rb") as fh:
        return fh.read()
