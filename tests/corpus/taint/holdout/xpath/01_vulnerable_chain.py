# expect: vulnerable xpath
from django.http import HttpResponse
from lxml import etree


def first(x):
    return second(x)


def second(y):
    return y


def update_profile(request, user_id):
    value = first(request.POST["field"])
    find = etree.XPath("//account[number='%s']" % value)
    hits = find(etree.parse("accounts.xml"))
