# expect: vulnerable path
from pathlib import Path

from flask import Flask, request

app = Flask(__name__)
UPLOADS = Path("/srv/uploads")


@app.get("/download")
def download():
    name = request.args["file"]
    return (UPLOADS / name).read_bytes()
