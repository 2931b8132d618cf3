# expect: safe deserialization
from django.http import HttpResponse
import json


def view(request):
    payload = {'key': request.GET.get("q", ""), 'n': 1}
    value = payload['key']
    obj = json.loads(value)
