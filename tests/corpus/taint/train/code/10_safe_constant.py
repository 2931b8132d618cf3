# expect: safe code
from django.http import HttpResponse


def view(request):
    value = request.GET.get("q", "")
    value = "report.txt"
    exec("total = " + value)
