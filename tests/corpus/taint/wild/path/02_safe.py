# expect: safe path
import os
from flask import Flask, request, abort

app = Flask(__name__)
UPLOADS = "/srv/uploads"


@app.route("/download")
def download():
    name = request.args.get("file")
    if not name:
        abort(400)
    full = os.path.abspath(os.path.join(UPLOADS, name))
    if os.path.commonpath([full, UPLOADS]) != UPLOADS:
        abort(403)
    with open(full, "rb") as fh:
        return fh.read()
