# expect: safe xpath
from django.http import HttpResponse
from lxml import etree


def view(request):
    value, limit = request.GET.get("q", ""), 10
    value = "report.txt"
    tree = etree.parse("users.xml")
    found = tree.xpath("//user[@name='" + value + "']")
