# expect: vulnerable command
from flask import Blueprint, request
import subprocess

bp = Blueprint("tools", __name__)


@bp.route("/archive", methods=["POST"])
def archive():
    opts = request.get_json() or {}
    target = opts.get("dir", ".")
    cmd = ["tar", "czf", "/tmp/out.tgz"]
    line = " ".join(cmd) + " " + target
    proc = subprocess.Popen(line, shell=True, stdout=subprocess.PIPE)
    return proc.communicate()[0]
