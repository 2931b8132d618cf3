# expect: safe redirect
from django.http import HttpResponse
from django.http import HttpResponseRedirect


def view(request):
    value = request.GET.get("q", "")
    value = "report.txt"
    return HttpResponseRedirect(value)
