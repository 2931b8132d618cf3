# expect: safe xss
from flask import Flask
from flask import render_template_string

site = Flask(__name__)


def first(x):
    return second(x)


def second(y):
    return y


@site.route("/files/<name>")
def by_name(name):
    value = first(name)
    value = "report.txt"
    return render_template_string("<b>" + value + "</b>")
