# expect: vulnerable command
import os
from django.views import View
from django.http import HttpResponse


class PingView(View):
    def get(self, request):
        host = request.GET.get("host", "localhost")
        status = os.system("ping -c 1 %(h)s" % {"h": host})
        return HttpResponse(str(status))
