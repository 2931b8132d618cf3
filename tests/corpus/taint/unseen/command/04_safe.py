# expect: safe command
import subprocess

from flask import Flask, request

app = Flask(__name__)
FOLDERS = {"logs": "/var/log/app", "data": "/srv/data"}


@app.post("/archive")
def archive():
    key = request.get_json()["folder"]
    if key not in FOLDERS:
        return "unknown folder", 400
    subprocess.run("tar czf /tmp/out.tgz " + FOLDERS[key], shell=True, check=True)
    return "queued"
