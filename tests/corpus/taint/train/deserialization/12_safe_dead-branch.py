# expect: safe deserialization
from django.http import HttpResponse
import yaml


def view(request):
    value = request.GET.get("q", "")
    limit = 10
    if limit > 99:
        config = yaml.unsafe_load(value)
    return None
