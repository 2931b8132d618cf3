# expect: safe command
import os
from django.views import View
from django.http import HttpResponse

HOSTS = {"db": "10.0.0.5", "cache": "10.0.0.6"}


class PingView(View):
    def get(self, request):
        name = request.GET.get("host", "db")
        ip = HOSTS.get(name, "127.0.0.1")
        status = os.system("ping -c 1 " + ip)
        return HttpResponse(str(status))
