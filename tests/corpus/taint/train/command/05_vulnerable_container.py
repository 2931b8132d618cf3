# expect: vulnerable command
from django.http import HttpResponse
import os


def view(request):
    payload = {'key': request.GET.get("q", ""), 'n': 1}
    value = payload['key']
    output = os.popen("cat %s" % value).read()
