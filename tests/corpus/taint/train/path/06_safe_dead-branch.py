# expect: safe path
from django.http import HttpResponse
import os


def view(request):
    value = request.GET.get("q", "")
    limit = 10
    if limit > 99:
        os.remove(f"/tmp/uploads/{value}")
    return None
