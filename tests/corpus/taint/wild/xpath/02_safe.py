# expect: safe xpath
from lxml import etree
from django.http import JsonResponse

DOC = etree.parse("catalog.xml")
FIND = etree.XPath("/catalog/item[sku/text()=$sku]/price/text()")


def lookup(request):
    sku = request.GET.get("sku", "")
    return JsonResponse({"price": FIND(DOC, sku=sku)})
