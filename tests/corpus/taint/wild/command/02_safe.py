# expect: safe command
from flask import Blueprint, request
import subprocess

bp = Blueprint("tools", __name__)


@bp.route("/archive", methods=["POST"])
def archive():
    opts = request.get_json() or {}
    target = opts.get("dir", ".")
    proc = subprocess.Popen(["tar", "czf", "/tmp/out.tgz", "--", target], stdout=subprocess.PIPE)
    return proc.communicate()[0]
