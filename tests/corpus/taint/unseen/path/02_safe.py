# expect: safe path
from pathlib import Path

from flask import Flask, abort, request

app = Flask(__name__)
UPLOADS = Path("/srv/uploads").resolve()


@app.get("/download")
def download():
    target = (UPLOADS / request.args["file"]).resolve()
    if not target.is_relative_to(UPLOADS):
        abort(404)
    return target.read_bytes()
