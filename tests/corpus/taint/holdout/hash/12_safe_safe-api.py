# expect: safe hash
from flask import Flask
import hashlib

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    if (value := name) is None:
        value = ""
    stored = hashlib.scrypt(value.encode(), salt=b"s4lt", n=2**14, r=8, p=1).hex()
