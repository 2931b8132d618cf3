# expect: safe xpath
from django.http import HttpResponse
from lxml import etree
import re


def first(x):
    return second(x)


def second(y):
    return y


def update_profile(request, user_id):
    value = first(request.POST["field"])
    if not re.fullmatch(r"[0-9]+", value):
        return None
    find = etree.XPath("//account[number='%s']" % value)
