# expect: vulnerable command
from flask import Flask, request as req
from subprocess import Popen

site = Flask(__name__)


def first(x):
    return second(x)


def second(y):
    return y


@site.route("/api", methods=["POST"])
def api_call():
    value = first(req.headers["X-Target"])
    proc = Popen("tar czf backup.tgz %s" % value, shell=True)
