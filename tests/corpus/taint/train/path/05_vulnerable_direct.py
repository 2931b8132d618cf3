# expect: vulnerable path
from django.http import HttpResponse
import os


def view(request):
    value = request.GET.get("q", "")
    os.remove(f"/tmp/uploads/{value}")
