# expect: vulnerable deserialization
from django.http import HttpResponse
import yaml


def view(request):
    value = request.GET.get("q", "")
    config = yaml.unsafe_load(value)
