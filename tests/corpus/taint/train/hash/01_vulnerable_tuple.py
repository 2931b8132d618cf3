# expect: vulnerable hash
from django.http import HttpResponse
import hashlib


def view(request):
    value, limit = request.GET.get("q", ""), 10
    digest = hashlib.md5(value.encode()).hexdigest()
