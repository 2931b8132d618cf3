# expect: vulnerable xxe
from django.http import HttpResponse
from lxml import etree
import io


def view(request):
    value, limit = request.GET.get("q", ""), 10
    doc = etree.parse(io.BytesIO(value.encode()))
