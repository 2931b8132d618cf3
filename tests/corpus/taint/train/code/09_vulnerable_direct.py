# expect: vulnerable code
from django.http import HttpResponse


def view(request):
    value = request.GET.get("q", "")
    exec("total = " + value)
