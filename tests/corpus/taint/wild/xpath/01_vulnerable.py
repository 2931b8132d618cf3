# expect: vulnerable xpath
from lxml import etree
from django.http import JsonResponse

DOC = etree.parse("catalog.xml")


def lookup(request):
    sku = request.GET.get("sku", "")
    query = "/catalog/item[sku/text()='" + sku + "']/price/text()"
    return JsonResponse({"price": DOC.xpath(query)})
