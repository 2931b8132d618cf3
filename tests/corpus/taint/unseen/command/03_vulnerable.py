# expect: vulnerable command
import subprocess

from flask import Flask, request

app = Flask(__name__)


class Archiver:
    def __init__(self, target):
        self.target = target

    def command(self):
        return "tar czf /tmp/out.tgz " + self.target


@app.post("/archive")
def archive():
    job = Archiver(request.get_json()["folder"])
    subprocess.run(job.command(), shell=True, check=True)
    return "queued"
