# expect: safe xxe
from django.http import HttpResponse
import defusedxml.ElementTree as DET


def view(request):
    value, limit = request.GET.get("q", ""), 10
    doc = DET.fromstring(value)
