# expect: vulnerable hash
from flask import Flask
from hashlib import sha1

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    if (value := name) is None:
        value = ""
    stored = sha1(value.encode()).hexdigest()
