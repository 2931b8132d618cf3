# expect: safe ldap
from flask import Flask
import ldap3

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    value = ""
    for ch in name:
        value += ch
    value = "report.txt"
    c = ldap3.Connection("ldap://dir")
    c.search(search_base="ou=people,dc=x", search_filter="(&(mail={})(active=1))".format(value))
