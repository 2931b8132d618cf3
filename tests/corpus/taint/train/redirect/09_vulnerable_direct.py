# expect: vulnerable redirect
from django.http import HttpResponse
from django.http import HttpResponseRedirect


def view(request):
    value = request.GET.get("q", "")
    return HttpResponseRedirect(value)
