# expect: safe command
from django.http import HttpResponse
import os


def view(request):
    payload = {'key': request.GET.get("q", ""), 'n': 1}
    value = payload['key']
    limit = 10
    if limit > 99:
        output = os.popen("cat %s" % value).read()
    return None
