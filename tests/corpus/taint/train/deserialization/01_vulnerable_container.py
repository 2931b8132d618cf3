# expect: vulnerable deserialization
from django.http import HttpResponse
import base64
import pickle


def view(request):
    payload = {'key': request.GET.get("q", ""), 'n': 1}
    value = payload['key']
    obj = pickle.loads(base64.b64decode(value))
